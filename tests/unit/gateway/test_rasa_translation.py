"""How Rasa's REST output becomes chat messages (citations, buttons, handoff)."""

from __future__ import annotations

from gateway.routing import translate_rasa_messages


def test_text_with_buttons_becomes_one_bot_message() -> None:
    reply = translate_rasa_messages(
        [
            {
                "recipient_id": "c",
                "text": "您是想问资费还是办理业务？",
                "buttons": [{"title": "资费", "payload": "/ask_tariff"}],
            }
        ]
    )
    [message] = reply.messages
    assert message.text == "您是想问资费还是办理业务？"
    assert message.buttons == [{"title": "资费", "payload": "/ask_tariff"}]
    assert reply.handoff is None


def test_citations_attach_to_the_preceding_text() -> None:
    reply = translate_rasa_messages(
        [
            {"recipient_id": "c", "text": "办理新号需要携带本人有效身份证件。"},
            {"recipient_id": "c", "custom": {"citations": [{"section": "1.3", "title": "材料准备"}]}},
        ]
    )
    [message] = reply.messages
    assert message.citations == [{"section": "1.3", "title": "材料准备"}]


def test_handoff_payload_is_a_request_not_a_message() -> None:
    reply = translate_rasa_messages(
        [
            {"recipient_id": "c", "text": "正在为您转接人工客服…"},
            {"recipient_id": "c", "custom": {"handoff": {"reason": "request_human"}}},
        ]
    )
    assert [m.text for m in reply.messages] == ["正在为您转接人工客服…"]
    assert reply.handoff == {"reason": "request_human"}


def test_csat_prompt_is_kept_on_the_message() -> None:
    reply = translate_rasa_messages(
        [
            {"recipient_id": "c", "text": "请为本次处理打分"},
            {"recipient_id": "c", "custom": {"csat": {"ticket_id": "TK20261128-0001"}}},
        ]
    )
    assert reply.messages[0].custom == {"csat": {"ticket_id": "TK20261128-0001"}}
