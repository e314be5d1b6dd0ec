"""The two writes every chat message costs, each one transaction on one connection: the customer's
message (:meth:`MessageWrites.append_customer`) and the bot's reply with its reports' bot turn
(:meth:`MessageWrites.append_while`), as the prepared Core statements of :mod:`gateway.message_rows`.

Part of :class:`gateway.conversations.ConversationStore` (which sets the engine, the retention and the
counter); apart so that the store's module keeps to the rest of its reads and writes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from gateway.conversation_types import (
    SENDERS,
    ConversationInfo,
    ConversationNotFound,
    OutgoingMessage,
    StoredMessage,
)
from gateway.message_rows import (
    RowWriter,
    active_conversation,
    by_client_id,
    insert_customer_message,
    insert_while,
)
from gateway.models import utcnow
from kefu.db import is_lock_error, retry_when_locked

log = logging.getLogger(__name__)

# Told (channel, sender) of every message stored, in the storing thread; must not raise.
MessageCounter = Callable[[str, str], None]


class MessageWrites:
    """The store's Core writes; the store counts what they stored itself (no ORM event fires)."""

    _engine: Engine
    _retention: timedelta
    _on_stored: MessageCounter | None

    def _count(self, channel: str, messages: Sequence[StoredMessage]) -> None:
        if self._on_stored is not None:
            for message in messages:
                self._on_stored(channel, message.sender)

    @retry_when_locked()
    def append_customer(
        self, conversation_id: str, message: OutgoingMessage, *, client_msg_id: str | None = None
    ) -> tuple[ConversationInfo, StoredMessage, bool]:
        """Store a customer's message in a live conversation, in one transaction.

        Returns the conversation (as the message found it), the stored message and whether it is
        new; a repeated ``client_msg_id`` returns the message stored the first time. Raises
        :class:`ConversationNotFound` for an unknown or expired conversation (nothing stored).
        """
        if message.sender not in SENDERS:
            raise ValueError(f"unknown sender {message.sender!r}")
        since = utcnow() - self._retention
        try:
            with self._engine.begin() as conn:
                if client_msg_id:
                    existing = by_client_id(conn, conversation_id, client_msg_id)
                    if existing is not None:
                        return self._known(conn, conversation_id, since), existing, False
                now = utcnow()
                stored = insert_customer_message(conn, conversation_id, message, client_msg_id, now, since)
                if stored is None:
                    raise ConversationNotFound(conversation_id)
        except IntegrityError:
            if not client_msg_id:
                raise
            with self._engine.connect() as conn:  # two deliveries of one client id raced; the first won
                existing = by_client_id(conn, conversation_id, client_msg_id)
                if existing is None:
                    raise
                return self._known(conn, conversation_id, since), existing, False
        info, customer = stored
        self._count(info.channel, [customer])
        return info, customer, True

    @staticmethod
    def _known(conn: Connection, conversation_id: str, since: datetime) -> ConversationInfo:
        info = active_conversation(conn, conversation_id, since)
        if info is None:
            raise ConversationNotFound(conversation_id)
        return info

    @retry_when_locked()
    def append_while(
        self,
        conversation_id: str,
        state: str,
        messages: Sequence[OutgoingMessage],
        *,
        also: Sequence[RowWriter] = (),
    ) -> tuple[str, list[StoredMessage]]:
        """Store messages in one transaction, only while the conversation is in ``state``.

        Returns the conversation's state and the stored messages: none when the state differs (an
        agent took over while the bot was thinking). ``also`` are written in the same transaction
        whether or not the messages were (the reports' bot turn). The bot's reply is the gateway's
        busiest write after the customer's message: one transaction, not a read and one per message.
        """
        if any(m.sender not in SENDERS for m in messages):
            raise ValueError("unknown sender")
        try:
            channel, current, stored = self._insert_while(conversation_id, state, messages, also)
        except SQLAlchemyError as exc:
            if not also or is_lock_error(exc):
                raise
            # A report row never costs the customer the answer: store the reply without it.
            log.exception(
                "rows stored with a reply failed for %s; storing the reply alone", conversation_id[:8]
            )
            channel, current, stored = self._insert_while(conversation_id, state, messages, ())
        if channel is not None:
            self._count(channel, stored)
        return current, stored

    def _insert_while(
        self,
        conversation_id: str,
        state: str,
        messages: Sequence[OutgoingMessage],
        also: Sequence[RowWriter],
    ) -> tuple[str | None, str, list[StoredMessage]]:
        with self._engine.begin() as conn:
            channel, current, stored = insert_while(conn, conversation_id, state, messages, utcnow())
            if not current:
                raise ConversationNotFound(conversation_id)
            for write in also:
                write(conn)
        return channel, current, stored

    @retry_when_locked()
    def write(self, writes: Sequence[RowWriter]) -> None:
        """Run ``writes`` in one transaction (a bot turn whose reply stored nothing)."""
        with self._engine.begin() as conn:
            for write in writes:
                write(conn)
