"""The widget on another site's page, through a dropped connection: nothing lost, nothing twice."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gateway.conversations import OutgoingMessage
from tests.conftest import free_port
from tests.integration.channel_fixtures import ChannelStack, start_stack

pytestmark = pytest.mark.e2e


@pytest.fixture
def host_site() -> Iterator[tuple[str, dict[str, str]]]:
    page: dict[str, str] = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", page
    server.shutdown()


@pytest.fixture
def widget_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host_site: tuple[str, dict[str, str]]
) -> Iterator[ChannelStack]:
    origin, page = host_site
    for stack in start_stack(tmp_path, monkeypatch, allowed_origins=[origin]):
        page["html"] = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>网上营业厅</title></head>'
            f'<body><h1>网上营业厅</h1><script src="{stack.url}/static/widget.js" '
            f'data-kefu-origin="{stack.url}" async></script></body></html>'
        )
        yield stack


def test_widget_transcript_survives_offline_and_reload(
    chromium: Any, widget_stack: ChannelStack, host_site: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    origin, _ = host_site
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(origin)
    page.click(".kefu-launcher")
    chat = page.frame_locator(".kefu-panel")
    chat.locator("#input").fill("<b>你好</b>")
    chat.locator("#send").click()
    chat.locator("li.msg.bot", has_text="您说的是：<b>你好</b>").wait_for()
    assert chat.locator("li.msg b").count() == 0  # typed text is shown as text, never as HTML
    frame = next(f for f in page.frames if "/widget/frame" in f.url)
    conversation_id = frame.evaluate("localStorage.getItem('kefu.conversation')")

    context.set_offline(True)
    chat.locator("#input").fill("离线时发的消息")
    chat.locator("#send").click()
    router = widget_stack.app.state.router
    widget_stack.run(
        router.store_message(conversation_id, OutgoingMessage(sender="agent", text="客服小王已接入。"))
    )
    context.set_offline(False)
    chat.locator("li.msg.agent", has_text="客服小王已接入。").wait_for()
    chat.locator("li.msg.bot", has_text="您说的是：离线时发的消息").wait_for()

    page.reload()
    page.click(".kefu-launcher")
    chat = page.frame_locator(".kefu-panel")
    chat.locator("li.msg.bot", has_text="您说的是：离线时发的消息").wait_for()
    page.screenshot(path=str(Path("docs/screenshots/webchat_widget.png")))

    with urllib.request.urlopen(f"{widget_stack.url}/api/conversations/{conversation_id}/messages") as resp:
        server = json.loads(resp.read())
    server_messages = server["messages"] if isinstance(server, dict) else server
    shown = chat.locator("li.msg[data-seq]").evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert shown == [m["seq"] for m in server_messages]
    assert chat.locator("li.msg.pending").count() == 0
    customer_texts = [m["text"] for m in server_messages if m["sender"] == "customer"]
    assert customer_texts == ["<b>你好</b>", "离线时发的消息"]
    context.close()
