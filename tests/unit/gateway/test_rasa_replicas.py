"""Pinning conversations to Rasa replicas, and moving them only when a replica certainly missed them."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gateway.rasa_client import RasaClient, RasaUnavailable
from gateway.rasa_replicas import HashRing, ReplicaHealth
from tests.conftest import free_port

A, B, C = "http://127.0.0.1:5005", "http://127.0.0.1:5006", "http://127.0.0.1:5007"


def test_a_conversation_always_goes_to_the_same_replica_first() -> None:
    ring = HashRing([A, B])
    assert all(ring.preference(f"c{i}") == ring.preference(f"c{i}") for i in range(50))
    assert {ring.preference(f"c{i}")[0] for i in range(50)} == {A, B}
    assert all(sorted(ring.preference(f"c{i}")) == [A, B] for i in range(50))


def test_adding_a_replica_moves_only_about_a_third_of_the_conversations() -> None:
    before, after = HashRing([A, B]), HashRing([A, B, C])
    senders = [f"conversation-{i}" for i in range(3000)]
    moved = [s for s in senders if before.preference(s)[0] != after.preference(s)[0]]
    assert all(after.preference(s)[0] == C for s in moved)  # nobody moves between A and B
    assert 0.2 < len(moved) / len(senders) < 0.45


def test_a_ring_refuses_no_replicas_or_the_same_one_twice() -> None:
    with pytest.raises(ValueError):
        HashRing([])
    with pytest.raises(ValueError):
        HashRing([A, A])


def test_a_replica_found_down_is_tried_last_until_its_time_is_up() -> None:
    now = [100.0]
    health = ReplicaHealth(down_seconds=5, clock=lambda: now[0])
    health.mark_down(A)
    assert health.order([A, B]) == [B, A]
    now[0] += 6
    assert health.order([A, B]) == [A, B]


class _Replica:
    """A loopback HTTP server answering Rasa's channel call with a fixed status."""

    def __init__(self, status: int, answer_after: threading.Event | None = None) -> None:
        self.received: list[str] = []
        replica = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                replica.received.append(body["message"])
                if answer_after is not None:
                    answer_after.wait(10)  # a Rasa busy with this message until the test lets it go
                payload = json.dumps([{"text": "好的"}]).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def replicas() -> Iterator[list[_Replica]]:
    made: list[_Replica] = []
    yield made
    for replica in made:
        replica.close()


def _sender_owned_by(ring: HashRing, url: str) -> str:
    return next(f"c{i}" for i in range(1000) if ring.preference(f"c{i}")[0] == url)


async def test_a_message_moves_to_the_next_replica_when_its_own_is_not_listening(
    replicas: list[_Replica],
) -> None:
    live = _Replica(200)
    replicas.append(live)
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = RasaClient([dead, live.url], timeout=5)
    sender = _sender_owned_by(client.ring, dead)
    try:
        assert await client.send(sender, "你好") == [{"text": "好的"}]
        assert live.received == ["你好"]
        assert client.replicas_for(sender) == [live.url, dead]  # the dead one is tried last now
    finally:
        await client.aclose()


async def test_a_replica_that_failed_after_taking_the_message_is_not_bypassed(
    replicas: list[_Replica],
) -> None:
    failing, other = _Replica(500), _Replica(200)
    replicas.extend([failing, other])
    client = RasaClient([failing.url, other.url], timeout=5)
    sender = _sender_owned_by(client.ring, failing.url)
    try:
        with pytest.raises(RasaUnavailable) as caught:
            await client.send(sender, "帮我报修")
        assert caught.value.received  # it may have acted on it: never sent a second time
        assert failing.received == ["帮我报修"] and other.received == []
    finally:
        await client.aclose()


async def test_a_message_that_finds_every_slot_taken_is_not_sent_and_the_replica_is_not_marked_down(
    replicas: list[_Replica],
) -> None:
    release = threading.Event()
    busy = _Replica(200, answer_after=release)
    replicas.append(busy)
    client = RasaClient(busy.url, timeout=10, max_in_flight=1, slot_wait=0.3)
    try:
        first = asyncio.create_task(client.send("c1", "第一条"))
        while not busy.received:  # the first one is at Rasa, holding the only slot
            await asyncio.sleep(0.01)
        with pytest.raises(RasaUnavailable) as caught:
            await client.send("c2", "第二条")
        assert caught.value.busy and not caught.value.received  # never sent: kept, answered later
        assert busy.received == ["第一条"]
        assert client.replicas_for("c2") == [busy.url]  # busy is not down
        release.set()
        assert await first == [{"text": "好的"}]
        assert await client.send("c2", "第二条") == [{"text": "好的"}]  # the slot is free again
    finally:
        release.set()
        await client.aclose()
