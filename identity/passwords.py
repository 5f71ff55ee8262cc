"""Argon2id password hashing and a strength check."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from identity.errors import WeakPassword

_COMMON = frozenset({
    "password", "password1", "password123", "12345678", "123456789", "1234567890",
    "qwertyuiop", "11111111", "iloveyou", "admin123", "letmein123", "welcome123",
})


class Passwords:
    """Hashes with Argon2id (argon2-cffi's default type) and verifies in constant time."""

    def __init__(self, time_cost: int = 3, memory_cost: int = 65536) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        if password_hash is None:
            # Spend the same effort for an unknown login, so timing does not tell.
            password_hash = self._dummy()
            self._verify(password_hash, password)
            return False
        return self._verify(password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        if not hasattr(self, "_dummy_hash"):
            self._dummy_hash = self._hasher.hash("not-a-real-password")
        return self._dummy_hash


def check_strength(password: str, *, login: str = "") -> None:
    """Refuse short, common, single-kind or login-derived passwords."""
    if len(password) < 10:
        raise WeakPassword("password must be at least 10 characters")
    lowered = password.casefold()
    if lowered in _COMMON or len(set(password)) < 5:
        raise WeakPassword("password is too common or repetitive")
    name = login.split("@")[0].casefold()
    if len(name) >= 4 and name in lowered:
        raise WeakPassword("password must not contain the login name")
    kinds = sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                 any(c.isdigit() for c in password), any(not c.isalnum() for c in password)))
    if kinds < 2:
        raise WeakPassword("password needs at least two of: lower case, upper case, digits, symbols")
