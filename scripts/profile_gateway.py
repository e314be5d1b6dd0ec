"""The gateway's own CPU per chat message, against an instant stand-in for Rasa (a measurement, not a test).

Runs the real gateway app in this process (uvicorn with uvloop and httptools, as ``make run`` starts
it; a fresh SQLite database under a temporary var dir; no knowledge base) and two helper processes
whose CPU is not counted: a stand-in for Rasa that answers the gateway channel at once with a reply
shaped like the real one (text, buttons or citations, the ``kefu_nlu`` note), and a load process
whose chats send the bench's message mix (``scripts/gateway_bench_load.MESSAGES``) through
``POST /api/conversations/{id}/messages``, each chat its next message as soon as the previous one is
answered. Conversations are opened and one warm-up round is sent before the timed part.

Prints the gateway's CPU ms per message: ``time.process_time()`` of this process (every thread:
event loop and database workers) over the timed part, divided by the messages answered. CPU time,
unlike latency, hardly moves with the machine's load; say the load (``uptime``) when quoting it.

    PYTHONPATH=. .venv/bin/python scripts/profile_gateway.py                 # 10 chats x 30 messages
    PYTHONPATH=. .venv/bin/python scripts/profile_gateway.py --chats 1 --messages 200
    PYTHONPATH=. .venv/bin/python scripts/profile_gateway.py --cprofile var/gateway.prof --top 40

``--cprofile`` profiles every thread of the gateway during the timed part on each thread's CPU clock
(``time.thread_time``: waits for the GIL, the network or the disk are not counted; the CPU figure is
then inflated by the profiler) and prints the top functions by cumulative and by own time. Coroutines
count one call per resumption.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, cast

SCRIPT = Path(__file__).resolve()
REPO = SCRIPT.parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the stand-in for Rasa (its own process) ---------------------------------------------------


def _rasa_answer(sender: str, text: str) -> list[dict[str, Any]]:
    """What Rasa's gateway channel answers, in its shape: bot messages, then the NLU note."""
    nlu = {"custom": {"kefu_nlu": {"intent": "ask_kb", "confidence": 0.93}}, "recipient_id": sender}
    if text in ("你好", "谢谢"):
        buttons = [
            {"title": "查话费", "payload": "/check_balance"},
            {"title": "转人工", "payload": "/request_human"},
        ]
        greeting = "您好，我是智能客服，请问有什么可以帮您？"
        return [{"recipient_id": sender, "text": greeting, "buttons": buttons}, nlu]
    answer = "根据服务指南：" + "请携带本人有效身份证件原件到营业厅办理，" * 3
    citations = [{"section": "3.2", "title": "入网与实名登记"}, {"section": "5.1", "title": "资费与套餐"}]
    return [
        {"recipient_id": sender, "text": answer},
        {"recipient_id": sender, "custom": {"citations": citations}},
        nlu,
    ]


async def _serve_rasa(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            if lines[0].startswith("POST"):
                request = json.loads(body)
                payload = _rasa_answer(str(request.get("sender")), str(request.get("message")))
            else:  # GET /status
                payload = {"model_file": "kefu.tar.gz"}  # type: ignore[assignment]
            out = json.dumps(payload, ensure_ascii=False).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(out)}\r\n\r\n".encode()
                + out
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _rasa_main(port: int) -> None:
    server = await asyncio.start_server(_serve_rasa, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


# --- the load (its own process) ----------------------------------------------------------------


async def _load_main(url: str, chats: int, messages: int) -> None:
    import httpx

    from scripts.gateway_bench_load import MESSAGES

    limits = httpx.Limits(max_connections=chats + 5, max_keepalive_connections=chats + 5)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        convs = []
        for _ in range(chats):
            body = (await client.post("/api/conversations")).json()
            convs.append((body["conversation_id"], {"X-Customer-Token": body["customer_token"]}))
        counts = {"answered": 0, "errors": 0, "silent": 0}

        async def chat(cid: str, headers: dict[str, str], n: int) -> None:
            for i in range(n):
                response = await client.post(
                    f"/api/conversations/{cid}/messages",
                    json={"text": MESSAGES[i % len(MESSAGES)]},
                    headers=headers,
                )
                if response.status_code != 200:
                    counts["errors"] += 1
                elif not response.json().get("messages"):
                    counts["silent"] += 1
                else:
                    counts["answered"] += 1

        await asyncio.gather(*(chat(cid, h, len(MESSAGES)) for cid, h in convs))  # warm-up
        counts = dict.fromkeys(counts, 0)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        started = time.perf_counter()
        await asyncio.gather(*(chat(cid, h, messages) for cid, h in convs))
        print(json.dumps({**counts, "seconds": time.perf_counter() - started}), flush=True)


# --- the gateway (this process) ----------------------------------------------------------------


class ThreadProfiles:
    """One cProfile per thread: the event loop's and every database worker's (started after this)."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        threading.setprofile(self._start_in_thread)

    def _start_in_thread(self, *_: Any) -> None:
        sys.setprofile(None)
        profile = cProfile.Profile(time.thread_time)
        self.profiles.append(profile)
        profile.enable()

    def start_main(self) -> None:
        for profile in self.profiles:
            profile.clear()  # drop start-up and warm-up
        main = cProfile.Profile(time.thread_time)
        self.profiles.append(main)
        main.enable()

    def stats(self) -> pstats.Stats:
        self.profiles[-1].disable()  # the main thread's (called from it)
        merged: pstats.Stats | None = None
        for profile in self.profiles:
            profile.snapshot_stats()  # the worker threads' profiles are read as they stand

            class Snapshot:
                stats = profile.stats

                def create_stats(self) -> None:
                    pass

            if merged is None:
                merged = pstats.Stats(cast(Any, Snapshot()))
            else:
                merged.add(cast(Any, Snapshot()))
        assert merged is not None
        return merged


async def _measure(args: argparse.Namespace, profiles: ThreadProfiles | None) -> dict[str, Any]:
    import uvicorn

    from gateway.main import create_app
    from gateway.settings import GatewaySettings
    from kefu.db import upgrade_database

    var_dir = Path(tempfile.mkdtemp(prefix="kefu-profile-"))
    rasa_port, port = _free_port(), _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rasa = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--role", "rasa", "--port", str(rasa_port)],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert rasa.stdout is not None
    rasa.stdout.readline()
    settings = GatewaySettings(
        var_dir=var_dir,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        action_server_url="http://127.0.0.1:9",
        gateway_port=port,
        load_knowledge_base=False,
        log_level="WARNING",
        rate_requests_per_ip_minute=10**7,
        rate_conversations_per_ip_hour=10**6,
        rate_messages_per_conversation_minute=10**6,
    )
    upgrade_database(settings.database_url)
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        access_log=False,
        proxy_headers=False,
        ws_max_size=1048576,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        load = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            *("--role", "load", "--port", str(port)),
            *("--chats", str(args.chats), "--messages", str(args.messages)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert load.stdin is not None and load.stdout is not None
        await load.stdout.readline()  # conversations opened, warm-up round answered
        if profiles is not None:
            profiles.start_main()
        cpu, wall = time.process_time(), time.perf_counter()
        load.stdin.write(b"go\n")
        await load.stdin.drain()
        line = await load.stdout.readline()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        stats = profiles.stats() if profiles is not None else None
        await load.wait()
    finally:
        server.should_exit = True
        await serving
        rasa.terminate()
        rasa.wait()
    counts = json.loads(line)
    answered = max(1, counts["answered"])
    if stats is not None:
        stats.dump_stats(args.cprofile)
        for order in ("cumulative", "tottime"):
            stats.sort_stats(order).print_stats(args.top)
    return {
        "chats": args.chats,
        "messages": counts["answered"] + counts["errors"] + counts["silent"],
        **counts,
        "gateway_cpu_ms_per_msg": round(cpu * 1000 / answered, 2),
        "msgs_per_s": round(answered / wall, 1),
        "profiled": stats is not None,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, default=10, help="concurrent chats")
    parser.add_argument("--messages", type=int, default=30, help="timed messages per chat")
    parser.add_argument("--cprofile", type=Path, help="write the merged profile of every thread here")
    parser.add_argument("--top", type=int, default=30, help="functions printed per ordering")
    roles = ("gateway", "rasa", "load")  # the helper processes run this file too
    parser.add_argument("--role", choices=roles, default="gateway", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "rasa":
        asyncio.run(_rasa_main(args.port))
        return
    if args.role == "load":
        asyncio.run(_load_main(f"http://127.0.0.1:{args.port}", args.chats, args.messages))
        return
    import uvloop

    profiles = ThreadProfiles() if args.cprofile else None
    result = uvloop.run(_measure(args, profiles))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
