"""One error format: RFC 9457 problem details with a stable `code`, never a stack trace."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from events.errors import DomainError

log = logging.getLogger("ledgerdesk.problems")

_HTTP_CODES = {404: "route.not_found", 405: "method.not_allowed", 413: "request.too_large",
               401: "auth.required", 403: "forbidden"}


def problem(status: int, code: str, detail: str, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": f"https://ledgerdesk.dev/problems/{code}", "title": HTTPStatus(status).phrase,
            "status": status, "detail": detail, "code": code, **extra}
    headers = {**(headers or {}), **({"WWW-Authenticate": "Bearer"} if status == 401 else {})}
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [{"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", "")),
             "type": str(err.get("type", ""))} for err in exc.errors()[:50]]


def install_problem_handlers(app: FastAPI) -> None:
    """Map every kind of failure to problem details."""

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "validation.failed", "the request is not valid", errors=_validation_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, f"http.{exc.status_code}")
        return problem(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "internal.error", "an unexpected error happened; it has been logged")
