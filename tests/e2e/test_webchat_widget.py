"""The widget on another site's page, through a dropped connection: nothing lost, nothing twice."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
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
    token = frame.evaluate("localStorage.getItem('kefu.customer_token')")  # the page keeps it

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

    request = urllib.request.Request(
        f"{widget_stack.url}/api/conversations/{conversation_id}/messages",
        headers={"X-Customer-Token": token},
    )
    with urllib.request.urlopen(request) as resp:
        server = json.loads(resp.read())
    server_messages = server["messages"] if isinstance(server, dict) else server
    shown = chat.locator("li.msg[data-seq]").evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert shown == [m["seq"] for m in server_messages]
    assert chat.locator("li.msg.pending").count() == 0
    customer_texts = [m["text"] for m in server_messages if m["sender"] == "customer"]
    assert customer_texts == ["<b>你好</b>", "离线时发的消息"]
    context.close()


class CuttableProxy:
    """A TCP hop between the browser and the gateway that can drop every connection at once,
    as a gateway restart or a load balancer does: the browser sees the server close the socket."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self.lock:
            sockets, self.sockets = self.sockets, []
            self.cuts += 1
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self.listener.close()
        self.cut()


@pytest.fixture
def proxied_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host_site: tuple[str, dict[str, str]]
) -> Iterator[tuple[ChannelStack, CuttableProxy]]:
    """The widget on the host site, talking to the gateway through a cuttable hop."""
    origin, site = host_site
    for stack in start_stack(tmp_path, monkeypatch, allowed_origins=[origin]):
        proxy = CuttableProxy(int(stack.url.rsplit(":", 1)[1]))
        gateway = f"http://127.0.0.1:{proxy.port}"
        site["html"] = (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>网上营业厅</title></head>'
            f'<body><script src="{gateway}/static/widget.js" data-kefu-origin="{gateway}" async></script>'
            "</body></html>"
        )
        try:
            yield stack, proxy
        finally:
            proxy.close()


def test_widget_transcript_survives_server_side_close_while_bot_and_agent_send(
    chromium: Any, proxied_stack: tuple[ChannelStack, CuttableProxy], host_site: tuple[str, dict[str, str]]
) -> None:
    origin, _ = host_site
    stack, proxy = proxied_stack
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(origin)
        page.click(".kefu-launcher")
        chat = page.frame_locator(".kefu-panel")
        chat.locator("#input").fill("你好")
        chat.locator("#send").click()
        chat.locator("li.msg.bot", has_text="您说的是：你好").wait_for()
        frame = next(f for f in page.frames if "/widget/frame" in f.url)
        conversation_id = frame.evaluate("localStorage.getItem('kefu.conversation')")
        router = stack.app.state.router

        def agent_sends() -> None:
            for n in range(1, 7):
                message = OutgoingMessage(sender="agent", text=f"客服消息{n}")
                stack.run(router.store_message(conversation_id, message))
                time.sleep(0.15)

        agent = threading.Thread(target=agent_sends)
        # The stand-in bot takes 1.5 s for a message with 慢: its answer is in flight during the cuts.
        chat.locator("#input").fill("慢慢说，我的宽带怎么了")
        chat.locator("#send").click()
        agent.start()
        for _ in range(2):
            time.sleep(0.35)
            proxy.cut()
        agent.join()
        for n in range(1, 7):
            chat.locator("li.msg.agent", has_text=f"客服消息{n}").wait_for()
        chat.locator("li.msg.bot", has_text="您说的是：慢慢说，我的宽带怎么了").wait_for(timeout=20_000)

        token = frame.evaluate("localStorage.getItem('kefu.customer_token')")
        request = urllib.request.Request(
            f"{stack.url}/api/conversations/{conversation_id}/messages", headers={"X-Customer-Token": token}
        )
        with urllib.request.urlopen(request) as resp:
            server_messages = json.loads(resp.read())["messages"]
        shown = chat.locator("li.msg[data-seq]").evaluate_all("els => els.map(e => Number(e.dataset.seq))")
        assert shown == [m["seq"] for m in server_messages]  # no gap, nothing twice, in order
        assert chat.locator("li.msg.pending").count() == 0
        customer_texts = [m["text"] for m in server_messages if m["sender"] == "customer"]
        assert customer_texts == ["你好", "慢慢说，我的宽带怎么了"]
        assert proxy.cuts == 2
    finally:
        context.close()
