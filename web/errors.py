"""Every error leaves as JSON `{"error": {code, message, message_zh}}`; never a stack trace."""

from __future__ import annotations

import logging
import sqlite3

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.errors import (
    AuthError,
    BotError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    IndexMismatchError,
    IngestError,
    InvalidInputError,
    NotFoundError,
    OverloadedError,
    RateLimitedError,
    RecordsUnavailableError,
    ShuttingDownError,
    StorageError,
    TooLargeError,
    UnsupportedFormatError,
    VectorsUnavailableError,
)
from bot.records import unavailable

log = logging.getLogger(__name__)


def _error(
    status: int, code: str, message: str, message_zh: str, detail: list | None = None
) -> JSONResponse:
    body: dict[str, object] = {
        "error": {"code": code, "message": message, "message_zh": message_zh}
    }
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(status_code=status, content=body)


def _describe(err: dict) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {msg}"


async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {
            "loc": list(e.get("loc", ())),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        return _error(
            400, "invalid_json", "request body is not valid JSON", "请求内容不是有效的 JSON", errors
        )
    message = "; ".join(_describe(e) for e in exc.errors())
    return _error(422, "invalid_request", message, "请求参数不正确：" + message, errors)


async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    zh = {404: "找不到该地址", 405: "不支持该请求方法"}.get(exc.status_code, "请求无法处理")
    return _error(exc.status_code, f"http_{exc.status_code}", str(exc.detail), zh)


_STATUS: list[tuple[type[BotError], int]] = [  # first match wins: subclasses first
    (TooLargeError, 413),
    (UnsupportedFormatError, 415),
    (NotFoundError, 404),
    (AuthError, 401),
    (ForbiddenError, 403),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (RateLimitedError, 429),
    (OverloadedError, 503),
    (ShuttingDownError, 503),
    (VectorsUnavailableError, 503),  # the Chroma server does not answer: temporary, retry
    (IngestError, 422),  # a document the ingest could not take (bad file, an id in use)
    (RecordsUnavailableError, 503),  # the records file refuses writes: temporary, retry
    (StorageError, 507),
    (ConfigurationError, 503),
    (IndexMismatchError, 503),
]


def error_response(exc: BotError) -> JSONResponse:
    """The JSON error `exc` leaves as: its status, and Retry-After when it says when."""
    status = getattr(exc, "http_status", None) or next(
        (code for kind, code in _STATUS if isinstance(exc, kind)), 500
    )
    response = _error(status, exc.code, exc.message, exc.message_zh)
    if isinstance(exc, AuthError):
        response.headers["WWW-Authenticate"] = "Bearer"
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def _bot(_: Request, exc: BotError) -> JSONResponse:
    response = error_response(exc)
    # an overload refusal is in the request log and counted (and summed up) by Admission
    if isinstance(exc, ShuttingDownError):
        log.warning("%s: %s", exc.code, exc.message)
    elif response.status_code >= 500 and not isinstance(exc, OverloadedError):
        log.error("%s: %s", exc.code, exc.message)
    return response


async def _records(request: Request, exc: Exception) -> JSONResponse:
    """A records-database error that escaped `Database` (whose transactions turn them into
    RecordsUnavailableError): a database that cannot take it now is the same 503 as chat,
    and the records marked failing; anything else is a bug (500)."""
    if not unavailable(exc):
        return await _unexpected(request, exc)
    assistant = getattr(request.app.state, "assistant", None)
    if assistant is not None:
        assistant.records_health.failed(exc)
    return await _bot(
        request, RecordsUnavailableError(f"the records store cannot be written: {exc}")
    )


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error")
    return _error(500, "internal_error", "internal error", "服务内部错误，请稍后再试")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    app.add_exception_handler(BotError, _bot)  # type: ignore[arg-type]
    app.add_exception_handler(sqlite3.Error, _records)
    app.add_exception_handler(SQLAlchemyError, _records)
    app.add_exception_handler(Exception, _unexpected)
