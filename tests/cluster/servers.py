"""A throwaway Redis server on loopback for cluster tests (Debian package ``redis-server``).

It requires a password, like every internal service of the cluster, and keeps nothing on disk.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(port: int, password: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(f"AUTH {password}\r\nPING\r\n".encode())
            answer = b""
            while b"\r\n" not in answer.partition(b"\r\n")[2]:  # both replies, or the timeout
                chunk = sock.recv(64)
                if not chunk:
                    break
                answer += chunk
            return b"+PONG" in answer
    except OSError:
        return False


@contextmanager
def redis_server() -> Iterator[str]:
    """Start redis-server on a free loopback port; yields ``redis://:password@127.0.0.1:port``."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: `make setup` installs the Debian package")
    root = Path(tempfile.mkdtemp(prefix="kefu-redis-"))
    port, password = _free_port(), secrets.token_hex(16)
    args = ["--port", str(port), "--bind", "127.0.0.1", "--requirepass", password]
    args += ["--save", "", "--appendonly", "no", "--dir", str(root), "--logfile", str(root / "log")]
    process = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not _ping(port, password):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
                raise RuntimeError(f"redis-server did not start: {log}")
            time.sleep(0.1)
        yield f"redis://:{password}@127.0.0.1:{port}/1"
    finally:
        process.kill()
        process.wait()
        shutil.rmtree(root, ignore_errors=True)
