"""Labels on conversations and tickets (「退费」「VIP」), for sorting work and filtering the lists."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from gateway.agents.actor import Invalid
from gateway.agents.tools_models import LabelLink
from kefu.db import retry_when_locked, session_scope

KINDS = ("conversation", "ticket")
LABEL_RE = re.compile(r"^[^\s,/\\<>]{1,20}$")


def clean_label(label: str) -> str:
    value = (label or "").strip()
    if not LABEL_RE.match(value):
        raise Invalid(
            "bad_label",
            "标签须为 1–20 个字符，不含空格、逗号或斜杠",
            "A label has 1-20 characters without spaces, commas or slashes",
        )
    return value


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise Invalid("bad_label_kind", "只能给会话或工单加标签", "Labels go on conversations or tickets")
    return kind


class Labels:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    @retry_when_locked()
    def add(self, kind: str, target_id: str, label: str, actor: str) -> bool:
        """Put ``label`` on the target; False when it was already there."""
        row = LabelLink(
            kind=_kind(kind),
            target_id=target_id,
            label=clean_label(label),
            created_by=actor,
            created_at=datetime.now(UTC),
        )
        try:
            with session_scope(self._sessions) as session:
                session.add(row)
        except IntegrityError:
            return False
        return True

    @retry_when_locked()
    def remove(self, kind: str, target_id: str, label: str) -> bool:
        with session_scope(self._sessions) as session:
            result = session.execute(
                delete(LabelLink).where(
                    LabelLink.kind == _kind(kind),
                    LabelLink.target_id == target_id,
                    LabelLink.label == label.strip(),
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def of(self, kind: str, target_ids: Iterable[str]) -> dict[str, list[str]]:
        """The labels of each target (targets without labels are left out)."""
        ids = list(dict.fromkeys(target_ids))[:1000]
        found: dict[str, list[str]] = defaultdict(list)
        if not ids:
            return {}
        with session_scope(self._sessions) as session:
            rows = session.execute(
                select(LabelLink.target_id, LabelLink.label)
                .where(LabelLink.kind == _kind(kind), LabelLink.target_id.in_(ids))
                .order_by(LabelLink.label)
            ).all()
        for target, label in rows:
            found[target].append(label)
        return dict(found)

    def targets(self, kind: str, label: str) -> list[str]:
        """Everything of ``kind`` carrying ``label``, newest label first."""
        with session_scope(self._sessions) as session:
            return list(
                session.scalars(
                    select(LabelLink.target_id)
                    .where(LabelLink.kind == _kind(kind), LabelLink.label == label.strip())
                    .order_by(LabelLink.id.desc())
                ).all()
            )

    def counts(self) -> list[dict[str, object]]:
        """Every label in use, with how many conversations and tickets carry it."""
        with session_scope(self._sessions) as session:
            rows = session.execute(select(LabelLink.label, LabelLink.kind)).all()
        per: dict[str, Counter[str]] = defaultdict(Counter)
        for label, kind in rows:
            per[label][kind] += 1
        return [
            {"label": label, "conversations": c["conversation"], "tickets": c["ticket"]}
            for label, c in sorted(per.items())
        ]
