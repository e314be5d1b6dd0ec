"""Ticket commands typed by verified customers."""

from __future__ import annotations

from accounts.ticket_commands import Rating, TicketCommand, parse_rating, parse_ticket_command


def test_commands_name_the_ticket_and_keep_the_rest() -> None:
    assert parse_ticket_command("撤销工单 tk20261128-0001") == TicketCommand("TK20261128-0001", "cancel", "")
    assert parse_ticket_command("补充工单 TK20261128-0001：晚上8点后在家") == TicketCommand(
        "TK20261128-0001", "add", "晚上8点后在家"
    )
    assert parse_ticket_command("评价 TK20261128-0001 5分 很满意") == TicketCommand(
        "TK20261128-0001", "rate", "5分 很满意"
    )


def test_no_ticket_or_no_command_is_not_a_command() -> None:
    assert parse_ticket_command("查一下我的工单") is None
    assert parse_ticket_command("TK20261128-0001 怎么样了") is None


def test_ratings_need_a_score_from_one_to_five() -> None:
    assert parse_rating("5分 很满意") == Rating(5, "很满意")
    assert parse_rating("4星") == Rating(4, None)
    assert parse_rating("非常好") is None
    assert parse_rating("9分") is None
