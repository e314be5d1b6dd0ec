"""docs/capacity.md's arithmetic: cores per 1,000 chats at one message per 15 s, and who saturates."""

from __future__ import annotations

from typing import Any

from scripts.cluster_bench_report import capacity_markdown, markdown


def _row(topology: str, chats: int, rate: float, cpu: dict[str, float]) -> dict[str, Any]:
    return {
        "topology": topology,
        "chats": chats,
        "sent": chats * 4,
        "msgs_per_s": rate,
        "p50_ms": 900.0,
        "p95_ms": 2000.0,
        "errors": 0,
        "lost": 0,
        "cpu_ms_per_msg": cpu,
    }


RESULT = {
    "at": "2026-12-02 06:00 UTC",
    "cpus": 2,
    "load_before": [0.1, 0.2, 0.3],
    "levels": [
        _row("one stack", 100, 18.0, {"gateway": 9.0, "rasa": 45.0, "actions": 10.0}),
        _row(
            "cluster",
            100,
            16.0,
            {"gateway-a": 6.0, "gateway-b": 6.0, "rasa": 21.0, "rasa-b": 21.0, "postgresql": 10.5},
        ),
    ],
}


def test_capacity_adds_replicas_of_a_role_and_sizes_at_seventy_percent() -> None:
    page = capacity_markdown(RESULT)
    # Rasa: 42 ms per message x 66.7 msg/s / 0.7 = 4.0 cores, at most one core per process.
    assert "| Rasa | 42.0 | 4.00 | 4 |" in page
    assert "| gateway | 12.0 | 1.14 | 2 |" in page
    assert "| PostgreSQL | 10.5 | 1.00 | one server, its own workers |" in page
    assert "**About 6 cores per 1,000 concurrent chats.**" in page
    assert "first is **Rasa**" in page and "tops out near 24 messages/s" in page
    assert "(+0.5 ms)" in page  # 64.5 against 64.0 for one stack


def test_the_bench_page_lists_every_service_of_both_topologies() -> None:
    page = markdown(RESULT)
    assert "| one stack | 100 | 9.0 |  |  | 45.0 |  | 10.0 |  | 64.0 |" in page
    assert "| cluster | 100 | 400 | 16.0 | 900.0 | 2000.0 | 0 | 0 |" in page
