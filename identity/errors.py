"""Refusals of identity: who you are, and what you may do."""

from __future__ import annotations

from events.errors import DomainError


class NotAuthenticated(DomainError):
    code = "auth.required"
    status = 401


class BadCredentials(DomainError):
    code = "auth.bad_credentials"
    status = 401


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class WeakPassword(DomainError):
    code = "password.too_weak"
    status = 422
