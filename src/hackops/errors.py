"""One exception family and the one place that renders it.

Under `/api` (and `/health`, `/metrics`) an error is JSON:
`{"error": {"code": ..., "message": ..., "details": ...}}`; anywhere else it is an HTML page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from hackops import validation
from hackops.constraints import constraint_name

log = structlog.get_logger(__name__)

JSON_PREFIXES = ("/api", "/health", "/metrics", "/openapi.json")


class AppError(Exception):
    """An error with a status, a stable machine-readable code and a human message."""

    status_code: int = 400
    code: str = "bad_request"
    message: str = "The request could not be processed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        self.headers = dict(headers or {})
        super().__init__(self.message)


class BadRequest(AppError):
    pass


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"
    message = "Authentication is required."


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    message = "You are not allowed to do this."


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    message = "Not found."


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    message = "The request conflicts with the current state."


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"
    message = "The request body is too large."


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_error"
    message = "The request is not valid."


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"
    message = "Too many requests; try again later."


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"
    message = "A service this request needs is unavailable; try again shortly."


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """The error envelope every API error uses."""

    error: ErrorBody


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the given statuses, all with the error envelope."""
    descriptions = {
        400: "Bad request",
        401: "Not authenticated",
        403: "Forbidden",
        404: "Not found",
        409: "Conflict",
        413: "Payload too large",
        422: "Validation error",
        429: "Rate limited",
        500: "Internal error",
        503: "Service unavailable",
    }
    return {
        status: {"model": ErrorResponse, "description": descriptions.get(status, "Error")}
        for status in statuses
    }


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(JSON_PREFIXES)


def render_error(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if wants_json(request):
        body = {"error": {"code": code, "message": message, "details": details}}
        return JSONResponse(body, status_code=status_code, headers=dict(headers or {}))
    templates = getattr(request.app.state, "templates", None)
    if templates is None:  # pragma: no cover - only before the app is fully built
        return HTMLResponse(f"<h1>{status_code}</h1><p>{message}</p>", status_code=status_code)
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "error.html",
        {"status_code": status_code, "code": code, "message": message},
        status_code=status_code,
        headers=dict(headers or {}),
    )


def _validation_details(errors: Sequence[Any]) -> list[dict[str, Any]]:
    details = []
    for item in errors:
        loc = [str(p) for p in item.get("loc", ())]
        details.append(
            {"field": ".".join(loc), "message": validation.sentence(item), "type": item.get("type")}
        )
    return details


async def _app_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return render_error(request, exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if not wants_json(request) and errors and all(_in_path(item) for item in errors):
        # A page address whose id or slug cannot be one names no page: the 404 page, never a 422
        # (the API keeps its 422, which says which part of the address is wrong).
        return render_error(request, 404, "not_found", "There is no page at this address.")
    return render_error(
        request,
        422,
        "validation_error",
        validation.summary(errors),
        _validation_details(errors),
    )


def _in_path(item: Any) -> bool:
    loc = item.get("loc", ())
    return bool(loc) and loc[0] == "path"


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


async def _http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "The request could not be processed."
    if exc.status_code == 404 and message == "Not Found":
        message = "Not found." if wants_json(request) else "There is no page at this address."
    return render_error(request, exc.status_code, code, message, headers=exc.headers)


async def _integrity_error_handler(request: Request, exc: Exception) -> Response:
    # A constraint caught what the service did not (none of the names its
    # `constraints.savepoint` maps): report a conflict, never a 500.
    assert isinstance(exc, IntegrityError)
    constraint = constraint_name(exc)
    log.warning("integrity_error", constraint=constraint, error=str(exc.orig))
    return render_error(
        request,
        409,
        "constraint_violation",
        "The change conflicts with existing data.",
        {"constraint": constraint} if constraint else None,
    )


async def _data_error_handler(request: Request, exc: Exception) -> Response:
    # Values the database cannot store (NUL bytes in text, out-of-range numbers) come from the
    # client: a validation error, never a 500.
    assert isinstance(exc, DataError)
    log.info("data_error", error=str(exc.orig))
    return render_error(
        request,
        422,
        "invalid_value",
        "The request contains a value that cannot be stored (e.g. a NUL character).",
    )


def is_database_unavailable(exc: BaseException) -> bool:
    """A lost or unobtainable database connection (through SQLAlchemy or the raw driver's pool),
    as opposed to an error in what was asked of the database."""
    # psycopg_pool.PoolTimeout is a psycopg.OperationalError.
    if isinstance(exc, PoolTimeout | psycopg.OperationalError):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc.orig, psycopg.OperationalError)
    return False


DATABASE_UNAVAILABLE_MESSAGE = "The database is unavailable; try again shortly."


def database_unavailable_response(request: Request) -> Response:
    return render_error(
        request,
        503,
        "database_unavailable",
        DATABASE_UNAVAILABLE_MESSAGE,
        headers={"Retry-After": "5"},
    )


async def _database_unavailable_handler(request: Request, exc: Exception) -> Response:
    if not is_database_unavailable(exc):
        raise exc
    log.error("database_unavailable", error=str(exc))
    return database_unavailable_response(request)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
    app.add_exception_handler(IntegrityError, _integrity_error_handler)
    app.add_exception_handler(DataError, _data_error_handler)
    app.add_exception_handler(PoolTimeout, _database_unavailable_handler)
    app.add_exception_handler(DBAPIError, _database_unavailable_handler)
    # The raw driver's pool (one-statement hot reads) raises its own errors, unwrapped.
    app.add_exception_handler(psycopg.OperationalError, _database_unavailable_handler)
