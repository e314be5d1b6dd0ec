"""The gateway's small reliability parts: locks that go away, supervised jobs, hub overflow catch-up,
a dispatcher that survives database errors, and retries on a locked database."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from gateway.background import BackgroundJobs
from gateway.bounded import LruDict
from gateway.channels.dispatcher import OutboundDispatcher
from gateway.conversations import ConversationStore, OutgoingMessage
from gateway.hub import CONSOLE_TOPIC, Hub
from gateway.keyed_locks import KeyedLocks
from kefu.db import make_engine, make_session_factory, retry_when_locked


async def test_conversation_locks_exist_only_while_used() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def turn(name: str) -> None:
        async with locks.hold("c1"):
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            order.append(f"{name} out")

    await asyncio.gather(turn("a"), turn("b"))
    assert order == ["a in", "a out", "b in", "b out"]  # still one at a time
    for i in range(1000):  # ids that never existed leave nothing behind
        async with locks.hold(f"unknown-{i}"):
            pass
    assert len(locks) == 0


def test_lru_dict_forgets_the_least_recently_used() -> None:
    cache: LruDict[str, int] = LruDict(2)
    cache["a"], cache["b"] = 1, 2
    assert cache.get("a") == 1
    cache["c"] = 3
    assert "b" not in cache and cache.get("a") == 1 and len(cache) == 2


async def test_a_failing_background_job_is_restarted_and_reported() -> None:
    jobs = BackgroundJobs(backoff_seconds=0.01)
    calls = 0
    running = asyncio.Event()

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise RuntimeError(f"boom {calls}")
        running.set()
        await asyncio.Event().wait()

    jobs.spawn("flaky", flaky)
    await asyncio.wait_for(running.wait(), 5)
    status = jobs.status()["flaky"]
    assert status["state"] == "running" and status["restarts"] == 2
    assert status["last_error"] == "RuntimeError: boom 2"
    await jobs.stop()
    assert jobs.status()["flaky"]["state"] == "stopped"


def test_the_hub_remembers_that_a_subscriber_lost_events() -> None:
    hub = Hub(max_queue=1)

    async def scenario() -> None:
        async with hub.subscribe(CONSOLE_TOPIC) as queue:
            hub.publish(CONSOLE_TOPIC, {"n": 1})
            assert not hub.take_overflow(queue)
            hub.publish(CONSOLE_TOPIC, {"n": 2})
            assert hub.take_overflow(queue) and not hub.take_overflow(queue)
            assert hub.dropped == 1

    asyncio.run(scenario())


class FakeTelegram:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_message(self, chat_id: str, message: dict[str, Any]) -> None:
        self.sent.append(str(message["text"]))


class FlakyStore(ConversationStore):
    """The real store whose ``get`` fails with a database error the first ``failures`` times."""

    failures = 0

    def get(self, conversation_id: str) -> Any:
        if self.failures:
            self.failures -= 1
            raise OperationalError("SELECT", {}, Exception("disk I/O error"))
        return super().get(conversation_id)


@pytest.fixture
def store(database_url: str) -> FlakyStore:
    return FlakyStore(make_session_factory(make_engine(database_url)))


async def _deliver_bot_messages(store: FlakyStore, hub: Hub, cid: str, count: int, start: int = 0) -> None:
    for i in range(start, start + count):  # no await between publishes: a small hub queue overflows
        stored, _ = store.append(cid, OutgoingMessage(sender="bot", text=f"答复{i}"))
        hub.publish(CONSOLE_TOPIC, {"type": "message", "conversation_id": cid, "message": stored.to_dict()})


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "not reached"
        await asyncio.sleep(0.05)


async def test_the_dispatcher_catches_up_from_the_database_after_a_hub_overflow(store: FlakyStore) -> None:
    hub = Hub(max_queue=2)
    telegram = FakeTelegram()
    dispatcher = OutboundDispatcher(store, hub, telegram=telegram, wechat=None)  # type: ignore[arg-type]
    cid = store.create(channel="telegram", channel_user_id="42").id
    task = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(0.05)
    await _deliver_bot_messages(store, hub, cid, 10)
    assert hub.dropped > 0
    await _until(lambda: len(telegram.sent) >= 10)
    await dispatcher.drain()
    task.cancel()
    assert telegram.sent == [f"答复{i}" for i in range(10)]  # all of them, once, in order


async def test_the_dispatcher_survives_database_errors(store: FlakyStore) -> None:
    hub = Hub()
    telegram = FakeTelegram()
    dispatcher = OutboundDispatcher(store, hub, telegram=telegram, wechat=None)  # type: ignore[arg-type]
    cid = store.create(channel="telegram", channel_user_id="42").id
    task = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(0.05)
    store.failures = 1
    await _deliver_bot_messages(store, hub, cid, 1)  # this event hits the database error
    await _until(lambda: telegram.sent == ["答复0"])  # caught up from the database
    await _deliver_bot_messages(store, hub, cid, 1, start=1)
    await _until(lambda: len(telegram.sent) == 2)
    assert not task.done()  # the loop is alive
    task.cancel()
    assert telegram.sent == ["答复0", "答复1"]


def test_a_write_is_retried_while_the_database_is_locked() -> None:
    attempts = 0

    @retry_when_locked(attempts=3, base_delay=0.001)
    def write() -> str:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return "stored"

    assert write() == "stored" and attempts == 3


def test_other_database_errors_are_not_retried() -> None:
    attempts = 0

    @retry_when_locked(attempts=3, base_delay=0.001)
    def write() -> None:
        nonlocal attempts
        attempts += 1
        raise OperationalError("INSERT", {}, Exception("no such table: x"))

    with pytest.raises(OperationalError):
        write()
    assert attempts == 1
