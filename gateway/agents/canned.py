"""Canned responses: replies agents insert by shortcut (``/退费``), with the customer's details filled in.

Supervisors write them; agents only read and render them. A body may hold the variables of
``VARIABLES`` in braces (``{phone}``); rendering never puts a full phone number in front of an
agent: ``{phone}`` is always the masked one.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from accounts.verification import verified_phone_of
from gateway.agents.actor import Actor, Conflict, Forbidden, Invalid, NotFound
from gateway.agents.models import Handoff
from gateway.agents.tools_models import CannedResponse
from kefu.db import retry_when_locked, session_scope
from kefu.privacy import mask_phone
from tickets.models import Ticket

# Variable -> what it is (shown in the editor), and what stands in when it is not known.
VARIABLES: dict[str, tuple[str, str]] = {
    "phone": ("客户手机号（已脱敏）", "（手机号未知）"),
    "ticket": ("工单号", "（暂无工单）"),
    "agent": ("坐席姓名", "客服"),
}
SHORTCUT_RE = re.compile(r"^/[^\s/{}]{1,30}$")
MAX_BODY = 2000


@dataclass(frozen=True)
class CannedView:
    id: int
    shortcut: str
    title: str
    body: str
    updated_by: str
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True)
class CannedContext:
    """What the variables of one conversation stand for."""

    phone_masked: str | None = None
    ticket_id: str | None = None
    agent_name: str | None = None

    def values(self) -> dict[str, str | None]:
        return {"phone": self.phone_masked, "ticket": self.ticket_id, "agent": self.agent_name}


@dataclass(frozen=True)
class Rendered:
    text: str
    missing: tuple[str, ...]  # variables that were not known for this conversation


def variables_in(body: str) -> list[str]:
    """The variable names a body uses; raises ``Invalid`` for a stray brace or an unknown name."""
    try:
        names = [field for _, field, _, _ in string.Formatter().parse(body) if field is not None]
    except ValueError as exc:
        raise Invalid(
            "canned_bad_braces", "快捷回复中的花括号不成对", "Unbalanced braces in the canned response"
        ) from exc
    unknown = sorted({n for n in names if n not in VARIABLES})
    if unknown:
        known = "、".join("{" + v + "}" for v in VARIABLES)
        raise Invalid(
            "canned_unknown_variable",
            f"未知变量 {{{unknown[0]}}}，可用变量：{known}",
            f"Unknown variable {{{unknown[0]}}}; known: {', '.join(VARIABLES)}",
        )
    return names


def render(body: str, context: CannedContext) -> Rendered:
    values = context.values()
    names = variables_in(body)
    missing = tuple(dict.fromkeys(n for n in names if not values[n]))
    filled = {n: values[n] or VARIABLES[n][1] for n in VARIABLES}
    return Rendered(body.format_map(filled), missing)


def context_for(
    session_factory: sessionmaker[Session], conversation_id: str, agent_name: str, now: datetime
) -> CannedContext:
    """The conversation's facts: the SMS-verified phone (or its newest ticket's), its newest ticket."""
    phone = verified_phone_of(session_factory, conversation_id, now)
    with session_scope(session_factory) as session:
        ticket = session.execute(
            select(Ticket.id, Ticket.phone)
            .where(Ticket.conversation_id == conversation_id)
            .order_by(Ticket.created_at.desc())
            .limit(1)
        ).first()
        left = session.scalar(
            select(Handoff.ticket_id)
            .where(Handoff.conversation_id == conversation_id, Handoff.ticket_id.is_not(None))
            .order_by(Handoff.id.desc())
            .limit(1)
        )
    phone = phone or (ticket.phone if ticket else None)
    return CannedContext(
        phone_masked=mask_phone(phone) if phone else None,
        ticket_id=ticket.id if ticket else left,
        agent_name=agent_name,
    )


def _check(shortcut: str, title: str, body: str) -> tuple[str, str, str]:
    shortcut, title, body = shortcut.strip(), title.strip(), body.strip()
    if not shortcut.startswith("/"):
        shortcut = "/" + shortcut
    if not SHORTCUT_RE.match(shortcut):
        raise Invalid(
            "canned_bad_shortcut",
            "快捷指令须以 / 开头，1–30 个字符，不含空格",
            "A shortcut is / and 1-30 characters without spaces",
        )
    if not title or len(title) > 64:
        raise Invalid("canned_bad_title", "标题须为 1–64 个字符", "A title has 1-64 characters")
    if not body or len(body) > MAX_BODY:
        raise Invalid("canned_bad_body", "回复内容须为 1–2000 个字符", "A body has 1-2000 characters")
    variables_in(body)
    return shortcut, title, body


def _view(row: CannedResponse) -> CannedView:
    return CannedView(row.id, row.shortcut, row.title, row.body, row.updated_by, row.updated_at)


def _supervisor(actor: Actor) -> None:
    if not actor.supervises:
        raise Forbidden(
            "supervisors_only", "只有主管可以管理快捷回复", "Only supervisors manage canned responses"
        )


class CannedResponses:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def list(self, prefix: str = "") -> list[CannedView]:
        """All responses by shortcut; ``prefix`` (``/退`` or ``退``) narrows to matching shortcuts."""
        query = select(CannedResponse).order_by(CannedResponse.shortcut)
        needle = prefix.strip().lstrip("/")
        if needle:
            query = query.where(CannedResponse.shortcut.startswith("/" + needle, autoescape=True))
        with session_scope(self._sessions) as session:
            return [_view(r) for r in session.scalars(query.limit(200)).all()]

    def get(self, canned_id: int) -> CannedView:
        with session_scope(self._sessions) as session:
            row = session.get(CannedResponse, canned_id)
            if row is None:
                raise NotFound("canned_not_found", "快捷回复不存在", "No such canned response")
            return _view(row)

    @retry_when_locked()
    def create(self, actor: Actor, *, shortcut: str, title: str, body: str) -> CannedView:
        _supervisor(actor)
        shortcut, title, body = _check(shortcut, title, body)
        now = datetime.now(UTC)
        row = CannedResponse(
            shortcut=shortcut,
            title=title,
            body=body,
            created_by=actor.username,
            updated_by=actor.username,
            created_at=now,
            updated_at=now,
        )
        try:
            with session_scope(self._sessions) as session:
                session.add(row)
                session.flush()
                return _view(row)
        except IntegrityError as exc:
            raise _taken(shortcut) from exc

    @retry_when_locked()
    def update(self, actor: Actor, canned_id: int, *, shortcut: str, title: str, body: str) -> CannedView:
        _supervisor(actor)
        shortcut, title, body = _check(shortcut, title, body)
        try:
            with session_scope(self._sessions) as session:
                row = session.get(CannedResponse, canned_id)
                if row is None:
                    raise NotFound("canned_not_found", "快捷回复不存在", "No such canned response")
                row.shortcut, row.title, row.body = shortcut, title, body
                row.updated_by, row.updated_at = actor.username, datetime.now(UTC)
                session.flush()
                return _view(row)
        except IntegrityError as exc:
            raise _taken(shortcut) from exc

    @retry_when_locked()
    def delete(self, actor: Actor, canned_id: int) -> CannedView:
        _supervisor(actor)
        with session_scope(self._sessions) as session:
            row = session.get(CannedResponse, canned_id)
            if row is None:
                raise NotFound("canned_not_found", "快捷回复不存在", "No such canned response")
            view = _view(row)
            session.delete(row)
            return view


def _taken(shortcut: str) -> Conflict:
    return Conflict("canned_shortcut_taken", f"快捷指令 {shortcut} 已存在", f"Shortcut {shortcut} exists")
