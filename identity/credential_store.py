"""Password hashes and bearer tokens, in PostgreSQL tables outside the event store."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import TYPE_CHECKING

from psycopg.sql import SQL, Identifier

if TYPE_CHECKING:
    from eventsourcing.postgres import PostgresDatastore


RECHECK_SECONDS = 5.0


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class CredentialStore:
    """Keeps password hashes and token digests; tokens are never stored in clear."""

    def __init__(self, datastore: PostgresDatastore, *, token_ttl_seconds: int) -> None:
        self._db = datastore
        self._ttl = token_ttl_seconds
        self._schema = Identifier(datastore.schema)
        # token digest -> (account id, expires at): saves a query per request
        self._verified: dict[bytes, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def create_tables(self) -> None:
        with self._db.transaction(commit=True) as cur:
            cur.execute(SQL(
                "CREATE TABLE IF NOT EXISTS {s}.ledgerdesk_passwords ("
                " account_id text PRIMARY KEY, password_hash text NOT NULL,"
                " changed_at timestamptz NOT NULL DEFAULT now())").format(s=self._schema))
            cur.execute(SQL(
                "CREATE TABLE IF NOT EXISTS {s}.ledgerdesk_tokens ("
                " digest bytea PRIMARY KEY, account_id text NOT NULL,"
                " issued_at timestamptz NOT NULL DEFAULT now(), expires_at timestamptz NOT NULL,"
                " revoked_at timestamptz)").format(s=self._schema))
            cur.execute(SQL(
                "CREATE INDEX IF NOT EXISTS ledgerdesk_tokens_account"
                " ON {s}.ledgerdesk_tokens (account_id)").format(s=self._schema))

    def set_password_hash(self, account_id: str, password_hash: str) -> None:
        with self._db.transaction(commit=True) as cur:
            cur.execute(SQL(
                "INSERT INTO {s}.ledgerdesk_passwords (account_id, password_hash) VALUES (%s, %s)"
                " ON CONFLICT (account_id) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
                " changed_at = now()").format(s=self._schema), (account_id, password_hash))

    def password_hash(self, account_id: str) -> str | None:
        with self._db.transaction() as cur:
            cur.execute(SQL("SELECT password_hash FROM {s}.ledgerdesk_passwords WHERE account_id = %s")
                        .format(s=self._schema), (account_id,))
            row = cur.fetchone()
        return row["password_hash"] if row else None

    def issue_token(self, account_id: str) -> tuple[str, int]:
        """A new random bearer token for the account and its lifetime in seconds."""
        token = secrets.token_urlsafe(32)
        with self._db.transaction(commit=True) as cur:
            cur.execute(SQL(
                "INSERT INTO {s}.ledgerdesk_tokens (digest, account_id, expires_at)"
                " VALUES (%s, %s, now() + make_interval(secs => %s))").format(s=self._schema),
                (_digest(token), account_id, self._ttl))
        return token, self._ttl

    def cached_account_for_token(self, token: str) -> str | None:
        """The account of a token verified here in the last few seconds, without a query."""
        cached = self._verified.get(_digest(token))
        return cached[0] if cached is not None and cached[1] > time.time() else None

    def account_for_token(self, token: str) -> str | None:
        """The account a live token belongs to, or None if unknown, expired or revoked."""
        cached = self.cached_account_for_token(token)
        if cached is not None:
            return cached
        digest = _digest(token)
        now = time.time()
        with self._db.transaction() as cur:
            cur.execute(SQL(
                "SELECT account_id, extract(epoch FROM expires_at) AS expires FROM {s}.ledgerdesk_tokens"
                " WHERE digest = %s AND revoked_at IS NULL AND expires_at > now()").format(s=self._schema),
                (digest,))
            row = cur.fetchone()
        if row is None:
            return None
        # Re-check the database every few seconds, so a revocation made by another
        # process takes effect here soon; revocations made here take effect at once.
        with self._lock:
            self._verified[digest] = (row["account_id"], min(float(row["expires"]), now + RECHECK_SECONDS))
        return row["account_id"]

    def revoke_tokens(self, account_id: str) -> int:
        """Revoke every live token of the account, here and in the database."""
        with self._lock:
            for digest in [d for d, (acc, _) in self._verified.items() if acc == account_id]:
                del self._verified[digest]
        with self._db.transaction(commit=True) as cur:
            cur.execute(SQL(
                "UPDATE {s}.ledgerdesk_tokens SET revoked_at = now()"
                " WHERE account_id = %s AND revoked_at IS NULL").format(s=self._schema), (account_id,))
            return cur.rowcount
