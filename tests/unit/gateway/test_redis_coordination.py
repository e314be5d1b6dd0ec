"""The cluster's coordination on a real Redis (loopback, password): two "gateways" in one test
process, each with its own Redis connection and its own hub, sharing one database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from redis.asyncio import Redis

from gateway.channels.dispatcher import OutboundDispatcher
from gateway.conversations import ConversationStore, OutgoingMessage
from gateway.coordination import wiring
from gateway.coordination.redis_hub import RedisHub
from gateway.coordination.redis_locks import RedisLocks, RedisOwnership
from gateway.hub import CONSOLE_TOPIC, conversation_topic
from gateway.settings import GatewaySettings
from kefu.db import make_engine, make_session_factory
from tests.cluster.servers import redis_server


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture
def store(database_url: str) -> ConversationStore:
    return ConversationStore(make_session_factory(make_engine(database_url)))


class Gateway:
    """What one gateway process holds of the coordination."""

    def __init__(self, client: Redis[bytes], hub: RedisHub, name: str) -> None:
        self.client, self.hub, self.name = client, hub, name


@contextlib.asynccontextmanager
async def _gateway(redis_url: str, store: ConversationStore, name: str) -> AsyncIterator[Gateway]:
    client: Redis[bytes] = Redis.from_url(redis_url, client_name=name)
    hub = RedisHub(
        client,
        channel="kefu:test-hub",
        gateway_id=name,
        messages_after=lambda cid, after: [m.to_dict() for m in store.messages_after(cid, after)],
        last_seq=lambda cid: store.get(cid).last_seq,
    )
    task = asyncio.create_task(hub.run())
    await asyncio.wait_for(hub.connected.wait(), 10)
    try:
        yield Gateway(client, hub, name)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.close()


@contextlib.asynccontextmanager
async def gateways(redis_url: str, store: ConversationStore) -> AsyncIterator[tuple[Gateway, Gateway]]:
    async with _gateway(redis_url, store, "a") as a, _gateway(redis_url, store, "b") as b:
        yield a, b


def store_and_publish(store: ConversationStore, hub: RedisHub | None, cid: str, text: str) -> int:
    stored, _ = store.append(cid, OutgoingMessage(sender="bot", text=text))
    if hub is not None:
        event = {"type": "message", "conversation_id": cid, "message": stored.to_dict()}
        hub.publish(conversation_topic(cid), event)
        hub.publish(CONSOLE_TOPIC, event)
    return stored.seq


async def texts(queue: asyncio.Queue[dict[str, Any]], count: int) -> list[str]:
    got = []
    for _ in range(count):
        event = await asyncio.wait_for(queue.get(), 10)
        got.append(str(event["message"]["text"]))
    return got


async def test_a_message_published_on_one_gateway_reaches_a_subscriber_on_the_other(
    redis_url: str, store: ConversationStore
) -> None:
    cid = store.create().id
    async with gateways(redis_url, store) as (a, b), a.hub.subscribe(conversation_topic(cid)) as on_a:
        store_and_publish(store, b.hub, cid, "来自B")
        store_and_publish(store, a.hub, cid, "来自A")
        assert await texts(on_a, 2) == ["来自B", "来自A"]
        await asyncio.sleep(0.3)
        assert on_a.empty()  # its own event came back over Redis and was not delivered twice


async def test_a_gap_is_filled_from_the_database_in_order_and_once(
    redis_url: str, store: ConversationStore
) -> None:
    cid = store.create().id
    async with gateways(redis_url, store) as (a, b), a.hub.subscribe(conversation_topic(cid)) as on_a:
        store_and_publish(store, None, cid, "一")  # stored, its event lost
        store_and_publish(store, None, cid, "二")
        store_and_publish(store, b.hub, cid, "三")
        assert await texts(on_a, 3) == ["一", "二", "三"]
        await asyncio.sleep(0.3)
        assert on_a.empty()


async def test_after_losing_redis_a_gateway_catches_up_from_the_database(
    redis_url: str, store: ConversationStore
) -> None:
    cid = store.create().id
    async with (
        gateways(redis_url, store) as (a, b),
        a.hub.subscribe(conversation_topic(cid), CONSOLE_TOPIC) as on_a,
    ):
        await b.client.client_kill_filter(_type="pubsub")  # every gateway's subscription drops
        store_and_publish(store, None, cid, "断线时")  # stored while the subscription is down: no event
        await asyncio.wait_for(_reconnected(a.hub), 20)
        event = await asyncio.wait_for(on_a.get(), 10)
        assert event["message"]["text"] == "断线时"
        assert a.hub.take_overflow(on_a)  # console subscribers are told to resync


async def _reconnected(hub: RedisHub) -> None:
    while hub.reconnects == 0:
        await asyncio.sleep(0.05)


async def test_a_conversation_lock_is_exclusive_across_gateways(redis_url: str) -> None:
    clients: list[Redis[bytes]] = [Redis.from_url(redis_url) for _ in range(2)]
    locks = [RedisLocks(c, prefix="kefu:test-lock:", lease_seconds=5) for c in clients]
    inside: list[str] = []

    async def turn(name: str, lock: RedisLocks) -> None:
        async with lock.hold("c1"):
            inside.append(f"{name} in")
            await asyncio.sleep(0.2)
            inside.append(f"{name} out")

    await asyncio.gather(turn("a", locks[0]), turn("b", locks[1]), turn("a2", locks[0]))
    assert [inside[i].split()[0] for i in range(0, 6, 2)] == [inside[i].split()[0] for i in range(1, 6, 2)]
    for client in clients:
        await client.close()


async def test_a_lock_held_longer_than_its_lease_is_renewed(redis_url: str) -> None:
    clients: list[Redis[bytes]] = [Redis.from_url(redis_url) for _ in range(2)]
    a, b = (RedisLocks(c, prefix="kefu:test-renew:", lease_seconds=1.5) for c in clients)
    order: list[str] = []

    async def slow() -> None:
        async with a.hold("c1"):
            await asyncio.sleep(3.5)  # more than twice the lease: kept by renewal
            order.append("slow done")

    async def other() -> None:
        await asyncio.sleep(0.2)
        async with b.hold("c1"):
            order.append("other in")

    await asyncio.gather(slow(), other())
    assert order == ["slow done", "other in"]
    for client in clients:
        await client.close()


async def test_a_dead_holders_lock_is_free_after_its_lease(redis_url: str) -> None:
    client: Redis[bytes] = Redis.from_url(redis_url)
    # A gateway that died holding the lock: the key stays, nobody renews it.
    await client.set("kefu:test-dead:c1", "dead-gateway", px=1000)
    async with RedisLocks(client, prefix="kefu:test-dead:", lease_seconds=5).hold("c1"):
        assert await client.get("kefu:test-dead:c1") != b"dead-gateway"
    await client.close()


async def test_delivery_ownership_has_one_sender_and_moves_after_the_lease(redis_url: str) -> None:
    client: Redis[bytes] = Redis.from_url(redis_url)
    a = RedisOwnership(client, prefix="kefu:test-sender:", gateway_id="a", lease_seconds=1)
    b = RedisOwnership(client, prefix="kefu:test-sender:", gateway_id="b", lease_seconds=1)
    assert [await a.claim("c1"), await a.claim("c1"), await b.claim("c1")] == ["taken", "held", "other"]
    await asyncio.sleep(1.2)  # a stopped renewing
    assert [await b.claim("c1"), await a.claim("c1")] == ["taken", "other"]
    await client.close()


class RecordingTelegram:
    """Stands for the Telegram Bot API: what reached the platform, in order (one list for all gateways)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_message(self, chat_id: str, message: dict[str, Any]) -> None:
        self.sent.append((chat_id, str(message["text"])))


async def test_each_channel_message_is_sent_once_by_one_gateway(
    redis_url: str, store: ConversationStore
) -> None:
    telegram = RecordingTelegram()
    chats = [store.create(channel="telegram", channel_user_id=str(100 + i)).id for i in range(3)]
    async with gateways(redis_url, store) as (a, b):
        dispatchers = [
            OutboundDispatcher(
                store,
                g.hub,
                telegram=telegram,  # type: ignore[arg-type]
                wechat=None,
                ownership=RedisOwnership(g.client, prefix="kefu:test-out:", gateway_id=g.name),
                sweep_seconds=1.0,
            )
            for g in (a, b)
        ]
        tasks = [asyncio.create_task(d.run()) for d in dispatchers]
        await asyncio.sleep(0.3)
        for n in range(6):  # replies stored on alternating gateways
            for i, cid in enumerate(chats):
                store_and_publish(store, (a, b)[(n + i) % 2].hub, cid, f"答复{n}")
        deadline = asyncio.get_running_loop().time() + 20
        while len(telegram.sent) < 18 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.5)  # a sweep runs: it must not send anything again
        for task in tasks:
            task.cancel()
    for i in range(3):
        assert [t for chat, t in telegram.sent if chat == str(100 + i)] == [f"答复{n}" for n in range(6)]
    assert len(telegram.sent) == 18


def test_without_a_redis_url_everything_stays_in_memory(store: ConversationStore) -> None:
    coordination = wiring.build(GatewaySettings(), store)
    assert type(coordination.hub).__name__ == "Hub" and not coordination.jobs
    assert coordination.delivery_sweep_seconds is None


class RecordingWechat:
    """Stands for WeChat's customer-service message API: what was sent, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send_text(self, user: str, text: str) -> None:
        self.sent.append((user, text))


async def test_a_passive_wechat_reply_given_by_one_gateway_is_not_sent_again_by_the_other(
    redis_url: str, store: ConversationStore
) -> None:
    wechat = RecordingWechat()
    cid = store.create(channel="wechat", channel_user_id="openid-1").id
    async with gateways(redis_url, store) as (a, b):
        turns = [RedisLocks(g.client, prefix="kefu:test-turn:", lease_seconds=5) for g in (a, b)]
        sender, webhook = (
            OutboundDispatcher(
                store,
                g.hub,
                telegram=None,
                wechat=wechat,  # type: ignore[arg-type]
                turn_locks=turns[i],
                ownership=RedisOwnership(g.client, prefix="kefu:test-wx:", gateway_id=g.name),
            )
            for i, g in enumerate((a, b))
        )
        await sender.ownership.claim(cid)  # gateway a sends this conversation's deliveries
        task = asyncio.create_task(sender.run())
        await asyncio.sleep(0.3)
        async with webhook.turn(cid):  # the webhook reached gateway b and answered in its reply
            passive = store_and_publish(store, b.hub, cid, "被动回复")
            await asyncio.sleep(0.3)  # the sender heard of it and waits for the turn
            await webhook.mark_passive(cid, [passive])
        store_and_publish(store, b.hub, cid, "稍后的消息")  # not in any reply: a sends it
        deadline = asyncio.get_running_loop().time() + 10
        while not wechat.sent and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        task.cancel()
    assert wechat.sent == [("openid-1", "稍后的消息")]
    assert store.delivered_seq(cid) == passive + 1
