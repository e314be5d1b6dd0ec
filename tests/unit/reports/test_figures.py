"""Every report figure over a known history (tests/unit/reports/history.py): the exact numbers."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from gateway.reports import InvalidReportQuery, Reports
from gateway.reports.query import parse_query
from gateway.reports.table import Figure
from kefu.db import make_engine, make_session_factory, upgrade_database
from tests.unit.reports import history


@pytest.fixture(scope="module", params=["raw", "rolled_up"])
def reports(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Reports:
    """One database per path: every figure from the stored events alone, and again once the
    hourly roll-ups cover the history (the gateway's job); the numbers must not change."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('reports') / 'kefu.db'}"
    upgrade_database(database_url)
    factory: sessionmaker[Session] = make_session_factory(make_engine(database_url))
    history.build(factory)
    reports = Reports(factory, clock=lambda: history.NOW)
    if request.param == "rolled_up":
        reports.refresh_rollups()
    return reports


def figure(reports: Reports, name: str, channel: str | None = None) -> Figure:
    return reports.figure(name, reports.query(history.DAY, history.DAY, channel))


def test_containment_counts_conversations_that_never_reached_the_queue(reports: Reports) -> None:
    f = figure(reports, "containment")
    assert f.summary == {"conversations": 5, "contained": 2, "with_human": 3, "rate": 0.4}
    assert f.rows == [("bot_only", 2), ("with_human", 3)]
    assert figure(reports, "containment", "web").summary == {
        "conversations": 3,
        "contained": 1,
        "with_human": 2,
        "rate": 0.3333,
    }


def test_handoff_rate_by_reason(reports: Reports) -> None:
    f = figure(reports, "handoffs")
    assert f.rows == [
        ("escalation", "投诉升级风险", 1, 0.2),
        ("fallback", "机器人连续未能理解", 1, 0.2),
        ("request_human", "客户要求转人工", 1, 0.2),
    ]
    assert f.summary == {"handoffs": 3, "conversations": 5, "rate": 0.6}
    assert figure(reports, "handoffs", "telegram").rows == [("fallback", "机器人连续未能理解", 1, 1.0)]


def test_queue_wait_and_first_agent_response_percentiles(reports: Reports) -> None:
    f = figure(reports, "queue_wait")
    assert f.summary == {
        "handoffs": 3,
        "claimed": 2,
        "unclaimed": 1,
        "wait_p50_s": 60.0,
        "wait_p90_s": 300.0,
        "first_response_p50_s": 120.0,
        "first_response_p90_s": 400.0,
        "answered": 2,
    }
    assert f.rows == [("queue_wait", 60.0, 300.0, 2), ("first_response", 120.0, 400.0, 2)]


def test_conversations_and_messages_per_local_hour(reports: Reports) -> None:
    f = figure(reports, "per_hour")
    by_hour = {h: (c, m) for h, c, m in f.rows}
    assert len(f.rows) == 24
    assert {h: v for h, v in by_hour.items() if v != (0, 0)} == {10: (2, 3), 11: (1, 2), 12: (2, 3)}
    assert f.summary == {
        "conversations": 5,
        "messages": 8,
        "conversations_per_hour": 0.21,
        "messages_per_hour": 0.33,
    }
    web = {h: (c, m) for h, c, m in figure(reports, "per_hour", "web").rows if (c, m) != (0, 0)}
    assert web == {10: (1, 2), 11: (1, 2), 12: (1, 1)}


def test_top_intents_and_fallback_rate(reports: Reports) -> None:
    f = figure(reports, "intents")
    assert f.rows == [
        ("faq_question", 3, 0.375),
        ("nlu_fallback", 2, 0.25),
        ("affirm", 1, 0.125),
        ("ask_tariff", 1, 0.125),
        ("deny", 1, 0.125),
    ]
    assert f.summary == {"turns": 8, "fallback": 2, "fallback_rate": 0.25}


def test_kb_answer_rate_and_not_solved_rate(reports: Reports) -> None:
    f = figure(reports, "kb_answers")
    assert f.summary == {
        "turns": 8,
        "kb_answers": 3,
        "kb_answer_rate": 0.375,
        "not_solved": 1,
        "not_solved_rate": 0.3333,
    }
    assert figure(reports, "kb_answers", "wechat").summary == {
        "turns": 2,
        "kb_answers": 1,
        "kb_answer_rate": 0.5,
        "not_solved": 0,
        "not_solved_rate": 0.0,
    }


def test_tickets_opened_by_category_and_severity(reports: Reports) -> None:
    f = figure(reports, "tickets")
    assert f.rows == [
        ("business", "业务办理", "III", "三级（一般）", 3),
        ("complaint", "投诉", "I", "一级（重大）", 1),
        ("fault", "故障报修", "II", "二级（较大）", 2),
        ("fault", "故障报修", "III", "三级（一般）", 1),
        ("inquiry", "咨询", "IV", "四级（轻微）", 1),
    ]
    assert f.summary["tickets"] == 8
    assert f.summary["by_severity"] == {"III": 4, "I": 1, "II": 2, "IV": 1}
    assert figure(reports, "tickets", "telegram").summary["tickets"] == 1


def test_sla_compliance_by_department(reports: Reports) -> None:
    f = figure(reports, "sla")
    assert f.rows == [
        ("billing", "计费账务部", 0, 0, 1, 2, None),
        ("customer_service", "客户服务部", 0, 1, 0, 0, 0.0),
        ("field_service", "装维服务部", 1, 0, 0, 0, 1.0),
        ("network_ops", "网络运维部", 1, 1, 0, 0, 0.5),
    ]
    assert f.summary == {"met": 2, "breached": 2, "at_risk": 1, "on_track": 2, "compliance": 0.5}


def test_csat_average_distribution_and_per_agent(reports: Reports) -> None:
    f = figure(reports, "csat")
    assert f.summary == {
        "ratings": 4,
        "average": 3.5,
        "distribution": {"1": 0, "2": 1, "3": 1, "4": 1, "5": 1},
    }
    assert f.rows == [
        ("alice", 2, 4.5, 0, 0, 0, 1, 1),
        ("bob", 1, 2.0, 0, 1, 0, 0, 0),
        ("（未分配）", 1, 3.0, 0, 0, 1, 0, 0),
    ]
    assert figure(reports, "csat", "web").summary["average"] == 3.33


def test_incidents_by_district(reports: Reports) -> None:
    f = figure(reports, "incidents")
    assert f.rows == [("朝阳区", 2, 1, 1), ("海淀区", 1, 1, 1)]
    assert f.summary == {"incidents": 3, "open": 2}


def test_an_empty_period_gives_zeros_and_no_rates(reports: Reports) -> None:
    q = reports.query("2026-10-01", "2026-10-01", None)
    figures = {f.name: f for f in reports.all(q)}
    assert figures["containment"].summary == {
        "conversations": 0,
        "contained": 0,
        "with_human": 0,
        "rate": None,
    }
    assert figures["queue_wait"].summary["wait_p50_s"] is None
    assert figures["csat"].summary["average"] is None


@pytest.mark.parametrize(
    ("date_from", "date_to", "channel"),
    [
        ("2026-12-02", "2026-12-01", None),
        ("yesterday", None, None),
        (None, None, "fax"),
        ("2024-01-01", "2026-01-01", None),
    ],
)
def test_bad_periods_and_channels_are_refused_in_both_languages(
    reports: Reports, date_from: str | None, date_to: str | None, channel: str | None
) -> None:
    with pytest.raises(InvalidReportQuery) as caught:
        reports.query(date_from, date_to, channel)
    assert caught.value.zh and caught.value.en


@pytest.mark.parametrize(
    ("utc_now", "first_day", "last_day"),
    [
        # 15:59 UTC is still 23:59 of 1 December in Shanghai; 16:00 UTC is already 2 December there.
        ("2026-12-01T15:59:00+00:00", "2026-11-25", "2026-12-01"),
        ("2026-12-01T16:00:00+00:00", "2026-11-26", "2026-12-02"),
    ],
)
def test_the_default_period_is_the_last_seven_shanghai_days(
    utc_now: str, first_day: str, last_day: str
) -> None:
    """What the reports page shows when no period is chosen, whatever the browser's timezone."""
    q = parse_query(None, None, None, now=datetime.fromisoformat(utc_now))
    assert (q.to_dict()["first_day"], q.to_dict()["last_day"]) == (first_day, last_day)
