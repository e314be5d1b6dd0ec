"""With the real Rasa: each answer records what Rasa understood (the gateway channel appends the
intent), the customer never sees it, and the reports count it."""

from __future__ import annotations

from sqlalchemy import select

from gateway.reports.models import BotTurn
from kefu.db import make_engine, make_session_factory
from tests.conftest import LiveStack


def test_each_bot_answer_records_the_recognised_intent(live_stack: LiveStack) -> None:
    cid = live_stack.new_conversation()
    reply = live_stack.say(cid, "你好")
    assert reply["messages"], reply
    assert all("kefu_nlu" not in (m.get("custom") or {}) for m in reply["messages"])
    engine = make_engine(live_stack.settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            turns = session.scalars(select(BotTurn).where(BotTurn.conversation_id == cid)).all()
    finally:
        engine.dispose()
    assert [(t.intent, t.channel) for t in turns] == [("greet", "web")]
    assert turns[0].confidence is not None and 0 < turns[0].confidence <= 1
