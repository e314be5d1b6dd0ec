"""Button presses are shown to people by their titles, not as Rasa payloads."""

from __future__ import annotations

from gateway.payload_labels import payload_label


def test_title_of_the_offered_button_wins() -> None:
    buttons = [{"title": "确认办理", "payload": "/affirm"}, {"title": "取消", "payload": "/deny"}]
    assert payload_label("/affirm", buttons) == "确认办理"
    assert payload_label("/deny", buttons) == "取消"


def test_web_chat_controls_have_fixed_labels() -> None:
    assert payload_label("/request_human") == "转人工"
    rating = '/rate_ticket{"ticket_id": "TK1", "score": 4, "comment": "很快"}'
    assert payload_label(rating) == "评分：★★★★☆ 很快"


def test_typed_text_and_unknown_payloads_keep_their_text() -> None:
    assert payload_label("宽带断了") is None
    assert payload_label("/unknown_intent") is None
    assert payload_label('/rate_ticket{"score": 9}') is None
    assert payload_label("/rate_ticket{not json") is None
