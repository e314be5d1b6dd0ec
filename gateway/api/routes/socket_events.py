"""The loop both WebSockets (web chat, agent console) share: hub events until the client leaves."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any


async def events_while_connected(
    queue: asyncio.Queue[dict[str, Any]], reader: asyncio.Task[None]
) -> AsyncIterator[dict[str, Any]]:
    """Events from a hub subscription, until ``reader`` (the task receiving the client's frames) ends."""
    while not reader.done():
        getter = asyncio.create_task(queue.get())
        done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
        if getter not in done:
            getter.cancel()
            return
        yield getter.result()


async def stop_reader(reader: asyncio.Task[None]) -> None:
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await reader
