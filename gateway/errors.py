"""Client errors with a message in Chinese and English, and the handlers that render them.

Every 4xx body looks like ``{"error": {"code": "...", "message": "中文 / English"}, "detail": "..."}``.
"""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kefu.db import is_lock_error

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, zh: str, en: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(en)
        self.status, self.code, self.zh, self.en = status, code, zh, en
        self.headers = headers


def rate_limited(
    wait: float, zh: str = "发送过于频繁，请稍后再试", en: str = "Too many requests"
) -> ApiError:
    """429 with ``Retry-After`` (whole seconds, at least 1)."""
    seconds = str(max(1, math.ceil(wait)))
    return ApiError(429, "rate_limited", zh, f"{en}; retry in {seconds} s", {"Retry-After": seconds})


def error_body(code: str, zh: str, en: str) -> dict[str, object]:
    message = f"{zh} / {en}"
    return {"error": {"code": code, "message": message}, "detail": message}


def conversation_not_found() -> ApiError:
    return ApiError(404, "conversation_not_found", "会话不存在或已过期", "Conversation not found or expired")


_STATUS_TEXT = {
    400: ("请求无效", "Bad request"),
    401: ("未登录或登录已失效", "Not authenticated"),
    403: ("无权执行此操作", "Forbidden"),
    404: ("资源不存在", "Not found"),
    405: ("不支持该请求方法", "Method not allowed"),
    409: ("操作冲突", "Conflict"),
    413: ("请求内容过大", "Request body too large"),
    429: ("请求过于频繁，请稍后再试", "Too many requests"),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.zh, exc.en), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" or tuple(e.get("loc", ())) == ("body",) for e in errors):
            body = error_body(
                "invalid_json",
                '请求体必须是 JSON 对象，例如 {"text": "你好"}',
                'Request body must be a JSON object such as {"text": "hello"}',
            )
        else:
            where = "; ".join(
                ".".join(str(p) for p in e.get("loc", ()) if p != "body") + ": " + str(e.get("msg", ""))
                for e in errors
            )
            body = error_body("invalid_request", f"请求参数有误（{where}）", f"Invalid request ({where})")
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.detail, dict) and "error" in exc.detail:
            return JSONResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)
        zh, en = _STATUS_TEXT.get(exc.status_code, ("请求失败", "Request failed"))
        if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed"):
            en = exc.detail
        return JSONResponse(
            error_body(f"http_{exc.status_code}", zh, en), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        if is_lock_error(exc):  # still locked after the writers' retries: nothing was half-written
            log.warning("database busy: %s", exc)
            return JSONResponse(
                error_body("database_busy", "系统繁忙，请稍后重试", "Busy, please retry"),
                status_code=503,
                headers={"Retry-After": "2"},
            )
        log.exception("unhandled error: %s", exc)
        return JSONResponse(
            error_body("internal_error", "服务器内部错误，请稍后再试", "Internal server error"),
            status_code=500,
        )
