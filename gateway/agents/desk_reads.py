"""What the desk shows: the queue, an agent's conversations, one transcript (numbers masked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio

from gateway.agents.actor import Actor, Forbidden, NotFound
from gateway.agents.handoffs import HandoffLog, HandoffView
from gateway.agents.policy import reason_for
from gateway.conversations import ConversationInfo, ConversationNotFound, ConversationStore, StoredMessage
from gateway.payload_labels import last_typed_text
from kefu.privacy import mask_sensitive


@dataclass(frozen=True)
class QueueItem:
    conversation: ConversationInfo
    position: int
    handoff: HandoffView | None
    last_customer_text: str

    def to_dict(self, now: datetime) -> dict[str, Any]:
        conv = self.conversation
        queued = conv.queued_at if conv.queued_at else conv.created_at
        reason = reason_for(conv.handoff_reason)
        return {
            "conversation_id": conv.id,
            "channel": conv.channel,
            "state": conv.state,
            "assigned_agent": conv.assigned_agent,
            "reason": conv.handoff_reason,
            "reason_label": reason.label,
            "priority": conv.priority,
            "position": self.position,
            "queued_at": queued.isoformat(),
            "waiting_seconds": max(0, int((now - queued).total_seconds())),
            "after_hours": bool(self.handoff and self.handoff.after_hours),
            "note": mask_sensitive(self.handoff.note) if self.handoff else "",
            "ticket_id": self.handoff.ticket_id if self.handoff else None,
            "last_customer_text": mask_sensitive(self.last_customer_text)[:200],
            "last_activity_at": conv.last_activity_at.isoformat(),
        }


def masked_message(message: StoredMessage) -> dict[str, Any]:
    """A message as the console shows it: phone and ID numbers masked."""
    data = message.to_dict()
    data["text"] = mask_sensitive(message.text)
    if "display" in message.custom:  # a rating comment shown as the label may hold a number too
        data["custom"] = {**message.custom, "display": mask_sensitive(str(message.custom["display"]))}
    return data


class DeskReads:
    """The reading half of the desk; :class:`gateway.agents.desk.AgentDesk` adds the changes."""

    def __init__(self, store: ConversationStore, handoffs: HandoffLog) -> None:
        self.store = store
        self.handoffs = handoffs

    async def queue(self) -> list[QueueItem]:
        """Waiting conversations, highest priority first, then longest waiting."""
        rows = await anyio.to_thread.run_sync(self.store.list_by_state, "queue")
        return [await self._item(conv, index + 1) for index, conv in enumerate(rows)]

    async def conversations(self, actor: Actor, scope: str) -> list[QueueItem]:
        """``mine``: held by the actor; ``all`` (supervisors): everything queued or held by an agent."""
        if scope == "all" and not actor.supervises:
            raise Forbidden(
                "supervisors_only", "只有主管可以查看全部会话", "Only supervisors see every conversation"
            )
        held = await anyio.to_thread.run_sync(self.store.list_by_state, "agent")
        if scope != "all":
            held = [c for c in held if c.assigned_agent == actor.username]
            return [await self._item(c, 0) for c in held]
        return [*await self.queue(), *[await self._item(c, 0) for c in held]]

    async def conversation(
        self, actor: Actor, conversation_id: str
    ) -> tuple[ConversationInfo, list[StoredMessage]]:
        """A conversation and its transcript: for its holder, any agent while it is queued, supervisors."""
        info = await self._get(conversation_id)
        if not (actor.supervises or info.state == "queue" or info.assigned_agent == actor.username):
            raise Forbidden(
                "not_your_conversation", "该会话由其他坐席处理", "The conversation is held by another agent"
            )
        messages = await anyio.to_thread.run_sync(self.store.messages_after, conversation_id, 0)
        return info, messages

    async def _item(self, conv: ConversationInfo, position: int) -> QueueItem:
        handoff = await anyio.to_thread.run_sync(self.handoffs.current, conv.id)
        return QueueItem(conv, position, handoff, await self._last_customer_text(conv))

    async def _get(self, conversation_id: str) -> ConversationInfo:
        try:
            return await anyio.to_thread.run_sync(self.store.get, conversation_id)
        except ConversationNotFound as exc:
            raise NotFound(
                "conversation_not_found", "会话不存在或已过期", "Conversation not found or expired"
            ) from exc

    async def _last_customer_text(self, conv: ConversationInfo) -> str:
        recent = await anyio.to_thread.run_sync(
            self.store.messages_after, conv.id, max(0, conv.last_seq - 20)
        )
        return last_typed_text(recent)
