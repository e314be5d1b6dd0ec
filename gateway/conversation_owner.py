"""The one owner of conversation state and its events: who answers, and the stored messages.

Every change of who answers (the bot hands over, an agent claims or releases, a supervisor
reassigns, an after-hours message becomes a ticket) is a compare-and-set on the conversation
taken here, under the conversation's *state lock*, which the router also holds while it checks and
stores a bot reply, so no bot message slips in after an agent took over. Each change publishes
the same two events: ``{"type": "state", "handled_by": ...}`` to the conversation (the customer's
widget) and one ``{"type": "queue", ...}`` shape to the console. Every stored message is announced
as one ``{"type": "message", ...}`` shape to the conversation and to the console topic (which the
channel dispatcher reads), so every channel gets it live.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import anyio

from gateway.conversations import ConversationInfo, ConversationStore, OutgoingMessage, StoredMessage
from gateway.coordination import ConversationLocks, EventHub
from gateway.hub import CONSOLE_TOPIC, conversation_topic
from gateway.keyed_locks import KeyedLocks
from gateway.message_rows import RowWriter


def publish_message(hub: EventHub, conversation_id: str, message: StoredMessage) -> None:
    """Announce a stored message to the conversation's and the console's subscribers."""
    event = {"type": "message", "conversation_id": conversation_id, "message": message.to_dict()}
    hub.publish(conversation_topic(conversation_id), event)
    hub.publish(CONSOLE_TOPIC, event)


class ConversationOwner:
    def __init__(
        self, store: ConversationStore, hub: EventHub, *, state_locks: ConversationLocks | None = None
    ) -> None:
        self.store = store
        self.hub = hub
        # In memory: locks exist only while held or awaited; in a cluster, shared by every gateway.
        self._state_locks = state_locks or KeyedLocks()

    async def store_message(
        self, conversation_id: str, message: OutgoingMessage, *, client_msg_id: str | None = None
    ) -> tuple[StoredMessage, bool]:
        """Store a message and announce it (a repeated ``client_msg_id`` is stored and announced once)."""
        stored, new = await anyio.to_thread.run_sync(
            lambda: self.store.append(conversation_id, message, client_msg_id=client_msg_id)
        )
        if new:
            publish_message(self.hub, conversation_id, stored)
        return stored, new

    async def store_customer(
        self, conversation_id: str, message: OutgoingMessage, *, client_msg_id: str | None = None
    ) -> tuple[ConversationInfo, StoredMessage, bool]:
        """Store and announce a customer's message; also returns the conversation it went to."""
        info, stored, new = await anyio.to_thread.run_sync(
            lambda: self.store.append_customer(conversation_id, message, client_msg_id=client_msg_id)
        )
        if new:
            publish_message(self.hub, conversation_id, stored)
        return info, stored, new

    async def store_while(
        self,
        conversation_id: str,
        state: str,
        messages: list[OutgoingMessage],
        *,
        also: Sequence[RowWriter] = (),
    ) -> tuple[str, list[StoredMessage]]:
        """Store and announce messages only while the conversation is in ``state`` (one transaction,
        with ``also``)."""
        current, stored = await anyio.to_thread.run_sync(
            lambda: self.store.append_while(conversation_id, state, messages, also=also)
        )
        for message in stored:
            publish_message(self.hub, conversation_id, message)
        return current, stored

    def state_lock(self, conversation_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Held briefly by every change of who answers, and while a bot reply is checked and stored."""
        return self._state_locks.hold(conversation_id)

    async def change(
        self,
        conversation_id: str,
        state: str,
        *,
        by: str | None = None,
        announce: bool = True,
        **fields: str | None,
    ) -> ConversationInfo:
        """Change who answers (the caller holds the state lock) and announce it (``announce=False``:
        the caller records more first, then calls :meth:`announce_change`).

        ``fields`` are those of :meth:`ConversationStore.set_state` (``agent``, ``reason`` and the
        compare-and-set ``expect_state``/``expect_agent``). Raises
        :class:`gateway.conversations.StateConflict` when the conversation is not as expected;
        nothing is published then.
        """
        info = await anyio.to_thread.run_sync(lambda: self.store.set_state(conversation_id, state, **fields))
        if announce:
            self.announce_change(info, by=by)
        return info

    def announce_change(self, info: ConversationInfo, *, by: str | None = None) -> None:
        """The customer's widget learns who answers now; the console, the conversation's new place."""
        self.hub.publish(conversation_topic(info.id), {"type": "state", "handled_by": info.state})
        self.announce(info, by=by)

    def announce(self, info: ConversationInfo, *, by: str | None = None) -> None:
        """Tell the console a conversation's place changed (state, holder, reason or priority)."""
        self.hub.publish(CONSOLE_TOPIC, queue_event(info, by=by))


def queue_event(info: ConversationInfo, *, by: str | None = None) -> dict[str, Any]:
    return {
        "type": "queue",
        "conversation_id": info.id,
        "state": info.state,
        "assigned_agent": info.assigned_agent,
        "reason": info.handoff_reason,
        "priority": info.priority,
        "by": by,
    }
