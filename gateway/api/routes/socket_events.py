"""The loop both WebSockets (web chat, agent console) share: hub events until the client leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from gateway.background import cancel_and_wait


async def events_while_connected(
    queue: asyncio.Queue[dict[str, Any]], reader: asyncio.Task[None]
) -> AsyncIterator[dict[str, Any]]:
    """Events from a hub subscription, until ``reader`` (the task receiving the client's frames) ends."""
    while not reader.done():
        getter = asyncio.create_task(queue.get())
        try:
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            # Also when the socket's task is cancelled while waiting (shutdown): no getter outlives it.
            if not getter.done():
                await cancel_and_wait(getter)
        if getter not in done:
            return
        yield getter.result()


async def stop_reader(reader: asyncio.Task[None]) -> None:
    await cancel_and_wait(reader)
