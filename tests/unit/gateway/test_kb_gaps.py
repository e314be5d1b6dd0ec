"""The KB workbench's gaps, built from a stored transcript: no-answer replies and 「没解决」 presses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.conversations import ConversationStore, OutgoingMessage
from gateway.kb_gaps import find_gaps, question_key
from kefu.db import make_engine, make_session_factory, upgrade_database
from retrieval.replies import HELPFUL_QUESTION, NO_ANSWER_TEXT, NOT_SOLVED_PAYLOAD


def _chat(store: ConversationStore, *turns: tuple[str, str, list[dict[str, str]]]) -> None:
    conv = store.create()
    for sender, text, citations in turns:
        store.append(conv.id, OutgoingMessage(sender=sender, text=text, citations=citations))


def test_gaps_count_no_answers_and_not_solved_per_question(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kefu.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    store = ConversationStore(sessions)
    repair = [{"section": "3.2", "title": "故障修复时限"}]
    for question in ("宽带坏了多久能修好", "宽带坏了多久能修好？"):  # one row: end punctuation does not count
        _chat(
            store,
            ("customer", question, []),
            ("bot", "城区故障24小时内修复。", repair),
            ("bot", HELPFUL_QUESTION, []),
            ("customer", NOT_SOLVED_PAYLOAD, []),
        )
    _chat(store, ("customer", "营业厅门口停车收费吗 13800138000", []), ("bot", NO_ANSWER_TEXT, []))
    _chat(
        store,
        ("customer", "办新号要带什么", []),
        ("bot", "带身份证原件。", []),
        ("bot", HELPFUL_QUESTION, []),
    )
    try:
        gaps = find_gaps(sessions, datetime.now(UTC) - timedelta(days=1))
    finally:
        engine.dispose()
    found = {question_key(g.question): g for g in gaps}
    assert set(found) == {"宽带坏了多久能修好", "营业厅门口停车收费吗138****8000"}  # phones masked
    assert question_key(gaps[0].question) == "宽带坏了多久能修好"  # most frequent first
    repairs = found["宽带坏了多久能修好"]
    assert (repairs.not_solved, repairs.no_answer, repairs.sections) == (2, 0, ["3.2"])
    parking = found["营业厅门口停车收费吗138****8000"]
    assert (parking.no_answer, parking.not_solved) == (1, 0)
