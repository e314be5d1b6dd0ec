"""The balancer's own promise, on the real nginx with two small HTTP servers behind it.

A customer's POST goes through whenever one gateway is up, even when the other one died a moment
after coming back from its own restart (with nginx's default failure marking both were "down"
then, and the customer got a 502 "no live upstreams").
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kefu.balancer import nginx_conf
from tests.conftest import free_port

pytestmark = pytest.mark.cluster

UPSTREAM = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the gateways speak to nginx

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = sys.argv[1].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


class Upstreams:
    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    def start(self, port: int) -> None:
        self.processes[port] = subprocess.Popen([sys.executable, "-c", UPSTREAM, str(port)])
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.post(f"http://127.0.0.1:{port}/", content=b"up?", timeout=1)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"upstream {port} did not start"
                time.sleep(0.05)

    def kill(self, port: int) -> None:
        self.processes[port].kill()
        self.processes[port].wait()


@pytest.fixture
def balanced(tmp_path: Path) -> Iterator[tuple[str, Upstreams]]:
    ports = [free_port(), free_port()]
    upstreams = Upstreams(ports)
    for port in ports:
        upstreams.start(port)
    listen = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_conf("127.0.0.1", listen, [("127.0.0.1", p) for p in ports], tmp_path))
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    nginx = subprocess.Popen(
        [binary, "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-g", "daemon off;"]
    )
    url = f"http://127.0.0.1:{listen}/api/conversations/c/messages"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.post(url, content=b"{}", timeout=1)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.05)
    try:
        yield url, upstreams
    finally:
        nginx.terminate()
        nginx.wait()
        for process in upstreams.processes.values():
            process.kill()
            process.wait()


def test_a_post_goes_through_when_the_gateway_back_from_a_restart_is_the_only_one_left(
    balanced: tuple[str, Upstreams],
) -> None:
    url, upstreams = balanced
    a, b = upstreams.ports
    for _ in range(10):
        with httpx.Client(timeout=10) as client:  # warm keep-alive connections to both gateways
            assert all(client.post(url, content=b"{}").status_code == 200 for _ in range(4))
            upstreams.kill(a)
            # Customers keep talking while gateway A is down; some of their requests try A first.
            answered_by = {client.post(url, content=b"{}").text for _ in range(4)}
            assert answered_by == {str(b)}
            upstreams.start(a)
            upstreams.kill(b)  # B dies right after A is back
            answered_by = {client.post(url, content=b"{}").text for _ in range(4)}
            assert answered_by == {str(a)}
            upstreams.start(b)
