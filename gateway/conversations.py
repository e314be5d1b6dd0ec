"""Storage of conversations and messages: creation, sequence allocation, history.

The values it hands out are in :mod:`gateway.conversation_types` (importable from here too).

Plain synchronous SQLAlchemy; async callers run it in a worker thread. Every write is
one transaction retried on lock contention (:func:`kefu.db.retry_when_locked`), so a
busy SQLite file costs a short wait, not a 30 s stall or a lost message. The two writes
every chat message costs are in :class:`gateway.message_writes.MessageWrites`.

The store is the only writer of messages, so it also counts them (``on_stored``: the
``kefu_messages_total`` metric).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.agents.handoffs import note_agent_reply
from gateway.conversation_types import SENDERS, info_of, message_values, stored_of
from gateway.conversation_types import ConversationInfo as ConversationInfo
from gateway.conversation_types import ConversationNotFound as ConversationNotFound
from gateway.conversation_types import OutgoingMessage as OutgoingMessage
from gateway.conversation_types import StateConflict as StateConflict
from gateway.conversation_types import StoredMessage as StoredMessage
from gateway.message_writes import MessageCounter, MessageWrites
from gateway.models import Conversation, Message, utcnow
from kefu.db import retry_when_locked, session_scope


class ConversationStore(MessageWrites):
    """All reads and writes of conversations and messages."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        retention_days: int = 30,
        on_stored: MessageCounter | None = None,
    ) -> None:
        self._sessions = session_factory
        self._engine = session_factory.kw["bind"]
        self._retention = timedelta(days=retention_days)
        self._on_stored = on_stored

    @retry_when_locked()
    def create(self, *, channel: str = "web", channel_user_id: str | None = None) -> ConversationInfo:
        """Open a conversation with an unguessable id."""
        now = utcnow()
        conv = Conversation(
            id=secrets.token_urlsafe(18),
            channel=channel,
            channel_user_id=channel_user_id,
            state="bot",
            priority=0,
            last_seq=0,
            created_at=now,
            last_activity_at=now,
        )
        with session_scope(self._sessions) as session:
            session.add(conv)
            session.flush()
            return info_of(conv)

    def find_by_channel_user(self, channel: str, channel_user_id: str) -> ConversationInfo | None:
        """The newest conversation of a channel user (Telegram chat, WeChat openid)."""
        with session_scope(self._sessions) as session:
            conv = session.scalars(
                select(Conversation)
                .where(Conversation.channel == channel, Conversation.channel_user_id == channel_user_id)
                .order_by(Conversation.created_at.desc())
                .limit(1)
            ).first()
            return info_of(conv) if conv else None

    def get(self, conversation_id: str) -> ConversationInfo:
        with session_scope(self._sessions) as session:
            conv = session.get(Conversation, conversation_id)
            if conv is None or self._expired(conv):
                raise ConversationNotFound(conversation_id)
            return info_of(conv)

    def _expired(self, conv: Conversation) -> bool:
        return utcnow() - conv.last_activity_at > self._retention

    @retry_when_locked()
    def append(
        self, conversation_id: str, message: OutgoingMessage, *, client_msg_id: str | None = None
    ) -> tuple[StoredMessage, bool]:
        """Store one message with the next sequence number.

        Returns the stored message and whether it is new; a repeated ``client_msg_id``
        returns the message stored the first time (a client retry is not a new message).
        """
        if message.sender not in SENDERS:
            raise ValueError(f"unknown sender {message.sender!r}")
        try:
            with session_scope(self._sessions) as session:
                if client_msg_id:
                    existing = self._by_client_id(session, conversation_id, client_msg_id)
                    if existing is not None:
                        return stored_of(existing), False
                now = utcnow()
                if message.sender == "agent":  # the queue-wait report's first response
                    note_agent_reply(session, conversation_id, now)
                claimed = session.execute(
                    update(Conversation)
                    .where(Conversation.id == conversation_id)
                    .values(last_seq=Conversation.last_seq + 1, last_activity_at=now)
                    .returning(Conversation.last_seq, Conversation.channel)
                ).first()
                if claimed is None:
                    raise ConversationNotFound(conversation_id)
                values = message_values(conversation_id, claimed.last_seq, message, now, client_msg_id)
                row = Message(**values)
                session.add(row)
                session.flush()
                stored = stored_of(row)
            self._count(claimed.channel, [stored])
            return stored, True
        except IntegrityError:
            # Two deliveries of the same client id raced; the first one won.
            if client_msg_id:
                with session_scope(self._sessions) as session:
                    existing = self._by_client_id(session, conversation_id, client_msg_id)
                    if existing is not None:
                        return stored_of(existing), False
            raise

    @staticmethod
    def _by_client_id(session: Session, conversation_id: str, client_msg_id: str) -> Message | None:
        return session.scalars(
            select(Message).where(
                Message.conversation_id == conversation_id, Message.client_msg_id == client_msg_id
            )
        ).first()

    def messages_after(self, conversation_id: str, after: int = 0, limit: int = 500) -> list[StoredMessage]:
        """Messages with a sequence number greater than ``after``, oldest first."""
        self.get(conversation_id)
        with session_scope(self._sessions) as session:
            rows = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.seq > after)
                .order_by(Message.seq)
                .limit(limit)
            ).all()
            return [stored_of(m) for m in rows]

    def last_buttons(self, conversation_id: str, lookback: int = 10) -> list[dict[str, Any]]:
        """The buttons of the newest recent bot or system message that offered any (to label a click)."""
        with session_scope(self._sessions) as session:
            rows = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.sender.in_(("bot", "system")))
                .order_by(Message.seq.desc())
                .limit(lookback)
            ).all()
            for row in rows:
                if row.buttons:
                    return list(row.buttons)
        return []

    @retry_when_locked()
    def set_state(
        self,
        conversation_id: str,
        state: str,
        *,
        agent: str | None = None,
        reason: str | None = None,
        expect_state: str | None = None,
        expect_agent: str | None = None,
    ) -> ConversationInfo:
        """Change who answers the conversation.

        ``expect_state``/``expect_agent`` make the change conditional (compare-and-set), so
        two agents claiming at once cannot both win.
        """
        with session_scope(self._sessions) as session:
            stmt = update(Conversation).where(Conversation.id == conversation_id)
            if expect_state is not None:
                stmt = stmt.where(Conversation.state == expect_state)
            if expect_agent is not None:
                stmt = stmt.where(Conversation.assigned_agent == expect_agent)
            values: dict[str, Any] = {"state": state, "assigned_agent": agent, "last_activity_at": utcnow()}
            if state == "queue":
                values["queued_at"] = utcnow()
                values["handoff_reason"] = reason
            elif state == "bot":
                values["queued_at"] = None
                values["handoff_reason"] = None
            changed = session.execute(stmt.values(**values)).rowcount  # type: ignore[attr-defined]
            conv = session.get(Conversation, conversation_id)
            if conv is None:
                raise ConversationNotFound(conversation_id)
            if not changed:
                raise StateConflict(info_of(conv))
            session.refresh(conv)
            return info_of(conv)

    def queue_position(self, conversation_id: str) -> int:
        """1-based place in the human queue (by priority, then waiting time)."""
        with session_scope(self._sessions) as session:
            conv = session.get(Conversation, conversation_id)
            if conv is None or conv.state != "queue" or conv.queued_at is None:
                return 0
            ahead = session.scalar(
                select(func.count())
                .select_from(Conversation)
                .where(
                    Conversation.state == "queue",
                    (Conversation.priority > conv.priority)
                    | ((Conversation.priority == conv.priority) & (Conversation.queued_at < conv.queued_at)),
                )
            )
            return int(ahead or 0) + 1

    def list_by_state(self, state: str) -> list[ConversationInfo]:
        with session_scope(self._sessions) as session:
            rows = session.scalars(
                select(Conversation)
                .where(Conversation.state == state)
                .order_by(Conversation.priority.desc(), Conversation.queued_at)
            ).all()
            return [info_of(c) for c in rows]

    @retry_when_locked()
    def mark_delivered(self, conversation_id: str, seq: int) -> None:
        """The channel platform has everything up to ``seq`` of this conversation."""
        with session_scope(self._sessions) as session:
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.delivered_seq < seq)
                .values(delivered_seq=seq)
            )

    def delivered_seq(self, conversation_id: str) -> int:
        """The highest seq the channel platform has of this conversation (0: none, or no such one)."""
        with session_scope(self._sessions) as session:
            seq = session.scalar(select(Conversation.delivered_seq).where(Conversation.id == conversation_id))
            return int(seq or 0)

    def undelivered(self, channels: tuple[str, ...], since: datetime) -> list[tuple[ConversationInfo, int]]:
        """Channel conversations active since ``since`` with messages above their delivered seq."""
        with session_scope(self._sessions) as session:
            rows = session.scalars(
                select(Conversation).where(
                    Conversation.channel.in_(channels),
                    Conversation.last_activity_at >= since,
                    Conversation.last_seq > Conversation.delivered_seq,
                )
            ).all()
            return [(info_of(c), c.delivered_seq) for c in rows]

    def unanswered(self, since: datetime, limit: int = 500) -> list[tuple[ConversationInfo, StoredMessage]]:
        """Bot conversations active since ``since`` whose newest message is the customer's.

        After a gateway crash these were stored but never answered (the web chat does not
        resend a message it saw stored), so the gateway answers them at start.
        """
        with session_scope(self._sessions) as session:
            rows = session.execute(
                select(Conversation, Message)
                .join(
                    Message,
                    (Message.conversation_id == Conversation.id) & (Message.seq == Conversation.last_seq),
                )
                .where(
                    Conversation.state == "bot",
                    Conversation.last_activity_at >= since,
                    Message.sender == "customer",
                )
                .order_by(Conversation.last_activity_at)
                .limit(limit)
            ).all()
            return [(info_of(conv), stored_of(msg)) for conv, msg in rows]

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with session_scope(self._sessions) as session:
            session.execute(select(1))
