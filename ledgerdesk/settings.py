"""The one settings object, read from the environment (LEDGERDESK_*, DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything Ledgerdesk can be configured with."""

    model_config = SettingsConfigDict(env_prefix="LEDGERDESK_", extra="ignore")

    database_url: str | None = Field(
        None, validation_alias=AliasChoices("DATABASE_URL", "LEDGERDESK_DATABASE_URL"),
        description="PostgreSQL to use; unset starts an embedded server under data_dir/pg",
    )
    database_schema: str = "public"
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    admin_email: str | None = None
    admin_password: str | None = None
    token_ttl_seconds: int = 8 * 3600
    ticket_prefix: str = "GD"
    max_body_bytes: int = 1024 * 1024
    pool_size: int = 8
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
