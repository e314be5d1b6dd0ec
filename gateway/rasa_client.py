"""The gateway's client of the Rasa server (its own input channel and the tracker API).

Both are authenticated: messages go to the gateway channel (``bot/channels/gateway_channel.py``)
with the shared secret header, tracker reads carry Rasa's API token (``?token=…``).

With several Rasa replicas each conversation goes to the one the hash ring names
(:mod:`gateway.rasa_replicas`); only when that one certainly did not take the message (no
connection) does it go to the next, so a message is never processed twice.

One gateway has at most ``max_in_flight`` messages at each replica; the others wait here, at most
``slot_wait`` seconds (default: the Rasa timeout, so under overload a customer waits at most twice
that for an answer or an apology). Rasa works on one message at a time: with every chat's message
in flight at once (100 chats on 2 cores), answers took longer than the gateway's timeout, the
customer got an apology, and Rasa went on to spend its time on answers nobody would see, so fewer
answers came out (0.73x of Rasa's own throughput in the bench). A message that found no slot in
time was never sent, so it is kept and answered later, like one sent while Rasa was down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from gateway.rasa_replicas import HashRing, ReplicaHealth

CHANNEL_PATH = "/webhooks/gateway/webhook"
CHANNEL_SECRET_HEADER = "X-Kefu-Channel-Secret"

# Every chat waiting for Rasa holds one connection. httpx keeps only 20 idle ones by default, so
# under load most answers closed their connection and the next message opened a new one (a TCP
# connect and a close per message, in the gateway and in Rasa).
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)  # httpx: 100 and 20


class RasaUnavailable(RuntimeError):
    """Rasa did not answer in time or answered with an error.

    ``received`` is False when Rasa certainly did not process the message (no connection,
    or the connection dropped because Rasa died: it saves a turn only when the turn ends),
    so sending it again later cannot apply it twice. After a timeout, an error status or a
    garbled answer Rasa may have acted on it, so it is not sent again.
    """

    def __init__(self, message: str, *, received: bool = True, busy: bool = False) -> None:
        super().__init__(message)
        self.received = received
        self.busy = busy  # not sent: this gateway already had max_in_flight messages at the replica


class RasaClient:
    """Thin async wrapper; one connection pool per replica, shared by the whole process."""

    def __init__(
        self,
        base_url: str | Sequence[str],
        *,
        token: str = "",
        channel_secret: str = "",
        timeout: float = 15.0,
        down_seconds: float = 5.0,
        max_in_flight: int = 8,
        slot_wait: float | None = None,
    ) -> None:
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        urls = [url.rstrip("/") for url in urls]
        self.ring = HashRing(urls)
        self.health = ReplicaHealth(down_seconds)
        self._clients = {
            url: httpx.AsyncClient(base_url=url, timeout=timeout, limits=POOL_LIMITS) for url in urls
        }
        self._slots = {url: asyncio.Semaphore(max_in_flight) for url in urls}
        self._slot_wait = timeout if slot_wait is None else slot_wait
        self._token = token
        self._channel_headers = {CHANNEL_SECRET_HEADER: channel_secret} if channel_secret else {}
        # (outcome "ok"/"unavailable"/"busy"/"error", seconds) per message sent; set by gateway.metrics_setup.
        self.observe: Callable[[str, float], None] | None = None

    def _auth(self) -> dict[str, str]:
        return {"token": self._token} if self._token else {}

    def replicas_for(self, sender: str) -> list[str]:
        """The replicas to try for ``sender``, in order: its own first, those believed down last."""
        return self.health.order(self.ring.preference(sender))

    async def _post_once(self, replica: str, payload: dict[str, Any]) -> httpx.Response:
        slot = self._slots[replica]
        try:
            await asyncio.wait_for(slot.acquire(), self._slot_wait)
        except TimeoutError as exc:
            raise RasaUnavailable("busy: no free slot", received=False, busy=True) from exc
        try:
            response = await self._clients[replica].post(
                CHANNEL_PATH, json=payload, headers=self._channel_headers
            )
            response.raise_for_status()
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}", received=False) from exc
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        finally:
            slot.release()
        return response

    async def send(
        self, sender: str, text: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Send a customer message; returns Rasa's bot messages (text/buttons/custom)."""
        started = time.perf_counter()
        outcome = "error"
        try:
            answer = await self._send(sender, text, metadata)
            outcome = "ok"
            return answer
        except RasaUnavailable as exc:
            outcome = "busy" if exc.busy else "error" if exc.received else "unavailable"
            raise
        finally:
            if self.observe is not None:
                self.observe(outcome, time.perf_counter() - started)

    async def _send(self, sender: str, text: str, metadata: dict[str, Any] | None) -> list[dict[str, Any]]:
        payload: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            payload["metadata"] = metadata
        not_received: RasaUnavailable | None = None
        for replica in self.replicas_for(sender):
            try:
                response = await self._post_once(replica, payload)
            except RasaUnavailable as exc:
                if exc.received or exc.busy:
                    raise  # it may have acted on it (or is only busy): never to a second replica
                self.health.mark_down(replica)
                not_received = exc
                continue
            self.health.mark_up(replica)
            return _bot_messages(response)
        assert not_received is not None
        raise not_received

    async def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker (intents, slots, events) for agent assist."""
        last: Exception | None = None
        for replica in self.replicas_for(sender):
            try:
                response = await self._clients[replica].get(
                    f"/conversations/{sender}/tracker", params=self._auth()
                )
                response.raise_for_status()
            except httpx.TransportError as exc:
                last = exc
                continue
            except httpx.HTTPError as exc:
                raise RasaUnavailable(str(exc)) from exc
            result: dict[str, Any] = response.json()
            return result
        raise RasaUnavailable(str(last))

    async def healthy(self) -> bool:
        """At least one replica answers (each conversation can move to a live one)."""
        for client in self._clients.values():
            try:
                response = await client.get("/status", params=self._auth(), timeout=3.0)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                return True
        return False

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


def _bot_messages(response: httpx.Response) -> list[dict[str, Any]]:
    try:
        body = response.json()
    except ValueError as exc:  # a 200 that is not JSON (a proxy page, a half-written answer)
        raise RasaUnavailable(f"Rasa answer is not JSON: {response.text[:200]!r}") from exc
    if not isinstance(body, list):
        raise RasaUnavailable(f"unexpected Rasa answer: {body!r:.200}")
    return [m for m in body if isinstance(m, dict)]
