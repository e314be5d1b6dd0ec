"""Loopback stand-ins for the platforms (Telegram Bot API, WeChat API) and Rasa, plus a real gateway.

The platform servers are real HTTP servers that record every call, as the platforms would
see them. The gateway runs for real (uvicorn) in a thread of the test process, so a test can
also store agent messages through its router, as the agent console does.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn
from fastapi import FastAPI

from gateway.main import create_app
from gateway.settings import GatewaySettings
from tests.conftest import free_port

TELEGRAM_TOKEN = "123456:TEST-token-never-logged"
TELEGRAM_SECRET = "tg-secret-0123456789"
WECHAT_TOKEN = "wx-server-token"


@dataclass
class Call:
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class Recorder:
    """What a stand-in server received, and how it should misbehave."""

    calls: list[Call] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def paths(self, suffix: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path.endswith(suffix)]

    def wait_for(self, suffix: str, count: int, timeout: float = 20.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.paths(suffix)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} calls to {suffix}, got {self.paths(suffix)}")

    def wait_for_text(self, suffix: str, text: str, timeout: float = 20.0) -> list[Call]:
        """All calls to ``suffix`` once one carries ``text`` (other messages may be sent before it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.paths(suffix)
            if any(text in json.dumps(c.body, ensure_ascii=False) for c in found):
                return found
            time.sleep(0.05)
        raise AssertionError(f"no call to {suffix} carried {text!r}, got {self.paths(suffix)}")


def _serve(
    handler: Callable[[Recorder, Call], tuple[int, Any]], recorder: Recorder
) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def _do(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            call = Call(parts.path, parse_qs(parts.query), body)
            status, payload = handler(recorder, call)
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _do
        do_POST = _do

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def platform_handler(recorder: Recorder, call: Call) -> tuple[int, Any]:
    """Telegram's and WeChat's APIs, enough of them: record, then answer like the platform."""
    failing = False
    if call.path.endswith(("/sendMessage", "/message/custom/send")):
        with recorder.lock:
            if recorder.fail_next > 0:
                recorder.fail_next -= 1
                failing = True
    if failing:
        return 502, {"ok": False, "description": "Bad Gateway", "errcode": -1}
    with recorder.lock:
        recorder.calls.append(call)
    if call.path == "/cgi-bin/token":
        if call.query.get("secret") != ["wx-secret"]:
            return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
        return 200, {"access_token": f"AT{len(recorder.paths('/cgi-bin/token'))}", "expires_in": 7200}
    if call.path == "/cgi-bin/message/custom/send":
        return 200, {"errcode": 0, "errmsg": "ok"}
    if call.path.startswith(f"/bot{TELEGRAM_TOKEN}/"):
        return 200, {"ok": True, "result": True}
    return 404, {"ok": False, "error_code": 404, "description": "Not Found"}


# A fast answer must fit the passive-reply window even on a busy machine (0.5 s was missed once in a
# clean-clone rehearsal: "success" instead of the reply); a slow one must miss it by a wide margin.
PASSIVE_REPLY_SECONDS = 1.5
SLOW_RASA_SECONDS = 3.5


def rasa_handler(recorder: Recorder, call: Call) -> tuple[int, Any]:
    """Rasa's REST channel, answering predictably so the channel behaviour is what is tested."""
    with recorder.lock:
        recorder.calls.append(call)
    text = str((call.body or {}).get("message", ""))
    if "慢" in text:
        time.sleep(SLOW_RASA_SECONDS)
    if "人工" in text:
        return 200, [
            {"text": "好的，正在为您转接人工客服。"},
            {"custom": {"handoff": {"reason": "request_human"}}},
        ]
    if text.startswith("/rate_ticket"):
        return 200, [{"text": "感谢您的评价！"}]
    return 200, [
        {
            "text": f"您说的是：{text}",
            "buttons": [{"title": "转人工客服", "payload": "/request_human"}],
        },
        {"custom": {"citations": [{"section": "3.2", "title": "业务受理常见问题处理流程"}]}},
    ]


@dataclass
class ChannelStack:
    url: str
    app: FastAPI
    loop: asyncio.AbstractEventLoop
    platform: Recorder
    platform_url: str
    rasa: Recorder

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the gateway's own event loop (e.g. an agent's reply)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)


@pytest.fixture
def channel_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChannelStack]:
    yield from start_stack(tmp_path, monkeypatch)


def start_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, allowed_origins: list[str] | None = None
) -> Iterator[ChannelStack]:
    """Stand-ins plus a real gateway; ``allowed_origins`` adds sites that may embed the widget."""
    platform = Recorder()
    platform_server, platform_url = _serve(platform_handler, platform)
    rasa = Recorder()
    rasa_server, rasa_url = _serve(rasa_handler, rasa)
    monkeypatch.setenv("KEFU_TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
    monkeypatch.setenv("KEFU_TELEGRAM_WEBHOOK_SECRET", TELEGRAM_SECRET)
    monkeypatch.setenv("KEFU_TELEGRAM_API_BASE", platform_url)
    monkeypatch.setenv("KEFU_WECHAT_TOKEN", WECHAT_TOKEN)
    monkeypatch.setenv("KEFU_WECHAT_APP_ID", "wx-app")
    monkeypatch.setenv("KEFU_WECHAT_APP_SECRET", "wx-secret")
    monkeypatch.setenv("KEFU_WECHAT_API_BASE", platform_url)
    monkeypatch.setenv("KEFU_WECHAT_PASSIVE_REPLY_SECONDS", str(PASSIVE_REPLY_SECONDS))
    port = free_port()
    settings = GatewaySettings(
        var_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'kefu.db'}",
        rasa_url=rasa_url,
        gateway_port=port,
        load_knowledge_base=False,
        allowed_origins=[f"http://127.0.0.1:{port}", *(allowed_origins or [])],
    )
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    holder: dict[str, asyncio.AbstractEventLoop] = {}

    def serve() -> None:
        loop = asyncio.new_event_loop()
        holder["loop"] = loop
        loop.run_until_complete(server.serve())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("gateway did not start")
        time.sleep(0.05)
    try:
        yield ChannelStack(f"http://127.0.0.1:{port}", app, holder["loop"], platform, platform_url, rasa)
    finally:
        server.should_exit = True
        thread.join(15)
        platform_server.shutdown()
        rasa_server.shutdown()
