"""The change the bot proposed in a conversation, kept on the server until the customer confirms.

A confirmation ("确认办理") applies only what the bot itself offered in this conversation, to the
phone verified when it was offered; a ``pending_change`` slot sent over the wire chooses nothing.
Each proposal is used once and expires (``KEFU_ACCOUNTS_PROPOSAL_TTL_MINUTES``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from accounts.business import BUSINESS_REQUIREMENTS
from accounts.models import PendingProposal
from accounts.settings import AccountsSettings
from kefu.db import retry_when_locked, session_scope

KINDS = ("plan", "addon", "business")


class InvalidProposal(ValueError):
    """A proposal of an unknown kind or business request (a programming error, not user input)."""


@dataclass(frozen=True)
class Proposal:
    phone: str
    kind: str  # plan | addon | business
    target: str  # offer id, or a key of accounts.business.BUSINESS_REQUIREMENTS

    @property
    def slot_value(self) -> str:
        """How the proposal is shown in the dialogue's ``pending_change`` slot (informative only)."""
        return f"{self.kind}:{self.target}"


class ProposalStore:
    """One pending proposal per conversation. Each write is one transaction, retried with jitter while
    SQLite says ``database is locked`` (:func:`kefu.db.retry_when_locked`)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: AccountsSettings | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings or AccountsSettings()
        self.clock = clock or (lambda: datetime.now(UTC))

    @retry_when_locked(attempts=5)
    def propose(self, conversation_id: str, phone: str, kind: str, target: str) -> Proposal:
        """Remember what was just offered to ``phone`` (replacing an older offer)."""
        if kind not in KINDS or (kind == "business" and target not in BUSINESS_REQUIREMENTS):
            raise InvalidProposal(f"{kind}:{target}")
        now = self.clock()
        expires = now + timedelta(minutes=self.settings.proposal_ttl_minutes)
        with session_scope(self.session_factory) as session:
            row = session.get(PendingProposal, conversation_id)
            if row is None:
                session.add(
                    PendingProposal(
                        conversation_id=conversation_id,
                        phone=phone,
                        kind=kind,
                        target=target,
                        created_at=now,
                        expires_at=expires,
                    )
                )
            else:
                row.phone, row.kind, row.target = phone, kind, target
                row.created_at, row.expires_at, row.taken_by = now, expires, None
        return Proposal(phone, kind, target)

    @retry_when_locked(attempts=5)
    def take(self, conversation_id: str, phone: str, request_key: str | None = None) -> Proposal | None:
        """The conversation's live proposal for ``phone``, so that it is applied at most once.

        Without ``request_key`` it is removed. With it (the confirming message's key) it is marked taken
        by that message: a replay of the same message takes it again, to be given the first result by the
        idempotent services, while any other message finds nothing.
        """
        with session_scope(self.session_factory) as session:
            row = session.get(PendingProposal, conversation_id, with_for_update=True)
            if row is None:
                return None
            proposal = Proposal(row.phone, row.kind, row.target)
            if request_key is not None and row.taken_by == request_key:
                return proposal if row.phone == phone else None
            if row.taken_by is not None:
                return None  # used by another message (kept for that message's replay)
            if row.expires_at <= self.clock() or row.phone != phone:
                session.delete(row)
                return None
            if request_key is None:
                session.delete(row)
            else:
                row.taken_by = request_key
            return proposal

    @retry_when_locked(attempts=5)
    def drop(self, conversation_id: str) -> None:
        with session_scope(self.session_factory) as session:
            row = session.get(PendingProposal, conversation_id)
            if row is not None:
                session.delete(row)
