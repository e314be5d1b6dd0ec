"""The intent the gateway channel appends reaches the bot-turn table and never the customer."""

from __future__ import annotations

from gateway.rasa_reply import NLU_KEY, translate_rasa_messages


def test_the_recognised_intent_is_taken_off_the_messages() -> None:
    reply = translate_rasa_messages(
        [
            {"text": "宽带资费如下……", "custom": {"citations": [{"section": "3.1", "title": "资费"}]}},
            {"text": "以上回答对您有帮助吗？", "buttons": [{"title": "没解决", "payload": "/deny"}]},
            {"custom": {NLU_KEY: {"intent": "faq_question", "confidence": 0.97}}},
        ]
    )
    assert reply.nlu == {"intent": "faq_question", "confidence": 0.97}
    assert [m.text for m in reply.messages] == ["宽带资费如下……", "以上回答对您有帮助吗？"]
    assert all(NLU_KEY not in m.custom for m in reply.messages)
    assert reply.messages[0].citations == [{"section": "3.1", "title": "资费"}]
