"""The chat's two busiest writes as prepared SQLAlchemy Core statements: a customer message (with the
conversation it belongs to) and a bot reply, each one transaction on one connection.

Every chat message costs these two writes, so they skip the ORM (its unit of work, identity map and
``synchronize_session`` evaluation were about a fifth of the gateway's CPU per message) and build no
statement per call: the statements are built once here with bound parameters and compiled once per
engine. The ORM's insert events do not fire for them; :class:`gateway.conversations.ConversationStore`
counts what they stored itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, bindparam, insert, select, update

from gateway.conversation_types import ConversationInfo, OutgoingMessage, StoredMessage, message_values
from gateway.models import Conversation, Message
from kefu.db import UtcDateTime

# Written in the transaction that stores a bot reply (the reports' bot turn), so a reply costs one.
RowWriter = Callable[[Connection], None]

CONVERSATIONS = cast(Table, Conversation.__table__)
MESSAGES = cast(Table, Message.__table__)
_CONV = CONVERSATIONS.c
_MSG = MESSAGES.c
_INFO_COLUMNS = (
    _CONV.id,
    _CONV.channel,
    _CONV.channel_user_id,
    _CONV.state,
    _CONV.assigned_agent,
    _CONV.handoff_reason,
    _CONV.queued_at,
    _CONV.priority,
    _CONV.last_seq,
    _CONV.created_at,
    _CONV.last_activity_at,
)
_NOW = bindparam("b_now", type_=UtcDateTime())

# Take the next sequence number of a live conversation (not expired), returning the conversation.
_CLAIM_ACTIVE = (
    update(CONVERSATIONS)
    .where(_CONV.id == bindparam("b_id"), _CONV.last_activity_at >= bindparam("b_since", type_=UtcDateTime()))
    .values(last_seq=_CONV.last_seq + 1, last_activity_at=_NOW)
    .returning(*_INFO_COLUMNS)
)
# Take ``b_count`` sequence numbers while the conversation is in ``b_state``.
_CLAIM_IN_STATE = (
    update(CONVERSATIONS)
    .where(_CONV.id == bindparam("b_id"), _CONV.state == bindparam("b_state"))
    .values(last_seq=_CONV.last_seq + bindparam("b_count"), last_activity_at=_NOW)
    .returning(_CONV.last_seq, _CONV.channel)
)
_STATE = select(_CONV.state).where(_CONV.id == bindparam("b_id"))
_ACTIVE = select(*_INFO_COLUMNS).where(
    _CONV.id == bindparam("b_id"), _CONV.last_activity_at >= bindparam("b_since", type_=UtcDateTime())
)
_BY_CLIENT_ID = select(MESSAGES).where(
    _MSG.conversation_id == bindparam("b_id"), _MSG.client_msg_id == bindparam("b_client")
)
_INSERT = insert(MESSAGES)


def info_of_row(row: Row[Any]) -> ConversationInfo:
    return ConversationInfo(*row)


def stored_of_values(values: dict[str, Any]) -> StoredMessage:
    """The message as stored from the values just inserted (no read back)."""
    return StoredMessage(
        seq=values["seq"],
        sender=values["sender"],
        text=values["text"],
        buttons=values["buttons"],
        citations=values["citations"],
        custom=values["custom"],
        created_at=values["created_at"],
        client_msg_id=values["client_msg_id"],
    )


def stored_of_row(row: Row[Any]) -> StoredMessage:
    m = row._mapping
    return StoredMessage(
        seq=m["seq"],
        sender=m["sender"],
        text=m["text"],
        buttons=list(m["buttons"] or []),
        citations=list(m["citations"] or []),
        custom=dict(m["custom"] or {}),
        created_at=m["created_at"],
        client_msg_id=m["client_msg_id"],
    )


def by_client_id(conn: Connection, conversation_id: str, client_msg_id: str) -> StoredMessage | None:
    row = conn.execute(_BY_CLIENT_ID, {"b_id": conversation_id, "b_client": client_msg_id}).first()
    return stored_of_row(row) if row is not None else None


def active_conversation(conn: Connection, conversation_id: str, since: datetime) -> ConversationInfo | None:
    row = conn.execute(_ACTIVE, {"b_id": conversation_id, "b_since": since}).first()
    return info_of_row(row) if row is not None else None


def insert_customer_message(
    conn: Connection,
    conversation_id: str,
    message: OutgoingMessage,
    client_msg_id: str | None,
    now: datetime,
    since: datetime,
) -> tuple[ConversationInfo, StoredMessage] | None:
    """Store the message with the conversation's next seq; None if no live conversation has that id."""
    row = conn.execute(_CLAIM_ACTIVE, {"b_id": conversation_id, "b_now": now, "b_since": since}).first()
    if row is None:
        return None
    info = info_of_row(row)
    values = message_values(conversation_id, info.last_seq, message, now, client_msg_id)
    conn.execute(_INSERT, values)
    return info, stored_of_values(values)


def insert_while(
    conn: Connection, conversation_id: str, state: str, messages: Sequence[OutgoingMessage], now: datetime
) -> tuple[str | None, str, list[StoredMessage]]:
    """Store ``messages`` only while the conversation is in ``state``.

    Returns (the conversation's channel, or None when nothing was stored; its state; the stored
    messages). Raises nothing: a missing conversation comes back as state ``""``.
    """
    count = len(messages)
    row = conn.execute(
        _CLAIM_IN_STATE, {"b_id": conversation_id, "b_state": state, "b_count": count, "b_now": now}
    ).first()
    if row is None:
        current = conn.execute(_STATE, {"b_id": conversation_id}).scalar_one_or_none()
        return None, current or "", []
    first = row.last_seq - count + 1
    values = [message_values(conversation_id, first + i, m, now) for i, m in enumerate(messages)]
    if values:
        conn.execute(_INSERT, values)
    return str(row.channel), state, [stored_of_values(v) for v in values]
