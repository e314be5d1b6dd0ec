"""A bot reply is stored only while the bot still answers, all of its messages at once, in order."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from gateway.conversations import ConversationNotFound, ConversationStore, OutgoingMessage
from kefu.db import make_engine, make_session_factory


@pytest.fixture
def store(database_url: str) -> ConversationStore:
    return ConversationStore(make_session_factory(make_engine(database_url)))


def test_a_reply_follows_the_customer_message_with_consecutive_numbers(store: ConversationStore) -> None:
    conv = store.create()
    customer, _ = store.append(conv.id, OutgoingMessage(sender="customer", text="宽带断网了"))
    reply = [OutgoingMessage(sender="bot", text="请问是哪个区？"), OutgoingMessage(sender="bot", text="好的")]
    state, stored = store.append_while(conv.id, "bot", reply)
    assert state == "bot"
    expected = [(customer.seq + 1, "请问是哪个区？"), (customer.seq + 2, "好的")]
    assert [(m.seq, m.text) for m in stored] == expected
    assert [m.text for m in store.messages_after(conv.id)] == ["宽带断网了", "请问是哪个区？", "好的"]
    later, _ = store.append(conv.id, OutgoingMessage(sender="customer", text="海淀区"))
    assert later.seq == customer.seq + 3


def test_nothing_is_stored_once_an_agent_took_the_conversation(store: ConversationStore) -> None:
    conv = store.create()
    store.append(conv.id, OutgoingMessage(sender="customer", text="转人工"))
    store.set_state(conv.id, "agent", agent="agent-1")
    state, stored = store.append_while(conv.id, "bot", [OutgoingMessage(sender="bot", text="我来帮您")])
    assert (state, stored) == ("agent", [])
    assert [m.text for m in store.messages_after(conv.id)] == ["转人工"]


def test_an_unknown_conversation_is_an_error_not_a_silent_drop(store: ConversationStore) -> None:
    with pytest.raises(ConversationNotFound):
        store.append_while("no-such-id", "bot", [OutgoingMessage(sender="bot", text="你好")])


def test_a_customer_message_is_stored_once_however_often_it_is_delivered(store: ConversationStore) -> None:
    conv = store.create()
    info, first, new = store.append_customer(
        conv.id, OutgoingMessage(sender="customer", text="查话费"), client_msg_id="m-1"
    )
    assert (info.id, info.state, new) == (conv.id, "bot", True)
    _, again, new = store.append_customer(
        conv.id, OutgoingMessage(sender="customer", text="查话费"), client_msg_id="m-1"
    )
    assert (again.seq, new) == (first.seq, False)
    assert [m.text for m in store.messages_after(conv.id)] == ["查话费"]
    with pytest.raises(ConversationNotFound):
        store.append_customer("no-such-id", OutgoingMessage(sender="customer", text="你好"))


def test_a_failing_report_row_does_not_cost_the_customer_the_answer(store: ConversationStore) -> None:
    conv = store.create()
    store.append(conv.id, OutgoingMessage(sender="customer", text="宽带断网了"))

    def broken_report(conn: Connection) -> None:
        conn.execute(text("INSERT INTO no_such_table VALUES (1)"))

    state, stored = store.append_while(
        conv.id, "bot", [OutgoingMessage(sender="bot", text="请问是哪个区？")], also=[broken_report]
    )
    assert (state, [m.text for m in stored]) == ("bot", ["请问是哪个区？"])
    assert [m.text for m in store.messages_after(conv.id)] == ["宽带断网了", "请问是哪个区？"]
