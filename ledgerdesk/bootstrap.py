"""bootstrap(): builds the real adapters once and wires them; tests pass their own."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from psycopg.conninfo import conninfo_to_dict

from commands.desk import Desk
from events.actor import Actor
from identity.credential_store import CredentialStore
from identity.passwords import Passwords
from identity.service import Identity
from ledgerdesk.embedded_pg import start_embedded_postgres
from ledgerdesk.settings import Settings
from projections.registry import NAMES, build
from projections.runner import ProjectionRunner
from read_api.read_models import ReadModels


@dataclass
class Container:
    """The wired application: what routes and processes reach through `app.state`."""

    settings: Settings
    desk: Desk
    identity: Identity
    read_models: ReadModels
    database_url: str

    def projector(self, names: tuple[str, ...] = NAMES) -> ProjectionRunner:
        """A runner over the named projections of this store."""
        schema = self.settings.database_schema
        return ProjectionRunner(self.desk.recorder, self.desk.mapper,  # type: ignore[arg-type]
                                [build(name, schema) for name in names])

    def close(self) -> None:
        recorder = self.desk.recorder
        if hasattr(recorder, "close_writer"):
            recorder.close_writer()
        self.desk.close()


def eventsourcing_env(database_url: str, schema: str, pool_size: int) -> dict[str, str]:
    """The eventsourcing library's POSTGRES_* settings for a libpq URL."""
    info = conninfo_to_dict(database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(info.get("dbname") or "postgres"),
        "POSTGRES_HOST": str(info.get("host") or "127.0.0.1"),
        "POSTGRES_PORT": str(info.get("port") or "5432"),
        "POSTGRES_USER": str(info.get("user") or "postgres"),
        "POSTGRES_PASSWORD": str(info.get("password") or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size),
        "POSTGRES_LOCK_TIMEOUT": "10",
        "CREATE_TABLE": "y",
    }


def bootstrap(settings: Settings | None = None) -> Container:
    """Wire the desk, credential store and identity over PostgreSQL (embedded if none given)."""
    settings = settings or Settings()
    database_url = settings.database_url or start_embedded_postgres(settings.data_dir)
    if settings.database_schema != "public":
        _create_schema(database_url, settings.database_schema)
    desk = Desk(eventsourcing_env(database_url, settings.database_schema, settings.pool_size),
                ticket_prefix=settings.ticket_prefix)
    store = CredentialStore(desk.recorder.datastore, token_ttl_seconds=settings.token_ttl_seconds)  # type: ignore[attr-defined]
    store.create_tables()
    passwords = Passwords(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib)
    read_models = ReadModels(desk.recorder.datastore, desk.recorder.max_notification_id)  # type: ignore[attr-defined]
    read_models.create_tables()
    container = Container(settings=settings, desk=desk, identity=Identity(desk, store, passwords),
                          read_models=read_models, database_url=database_url)
    container.projector().create_tables()  # so reads work before the projector first runs
    return container


def _create_schema(database_url: str, schema: str) -> None:
    import psycopg
    from psycopg.sql import SQL, Identifier

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(schema)))


def ensure_first_admin(container: Container) -> str | None:
    """Create the first admin if it does not exist; return a generated password to print once."""
    settings = container.settings
    email = (settings.admin_email or "admin@ledgerdesk.local").casefold()
    if container.identity.find_account(email) is not None:
        return None
    password = settings.admin_password or secrets.token_urlsafe(12) + "-Ld1"
    password_hash = container.identity.passwords.hash(password)
    container.desk.register_account(
        email=email, phone=None, real_name="Administrator", role="admin", team_ids=[],
        by=Actor.system("bootstrap"),
        set_password=lambda account_id: container.identity.store.set_password_hash(str(account_id), password_hash),
    )
    return None if settings.admin_password else password
