"""Account queries and changes for verified subscribers.

Callers must have verified the phone first (``accounts.verification``); every method
takes that phone and only ever touches its own account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from accounts.models import PlanChange, Subscriber
from kefu.db import retry_when_locked, session_scope
from tariffs.catalogue import Catalogue, Offer


class AccountError(Exception):
    """Base of account errors shown to the customer as a clear refusal."""


class AccountNotFound(AccountError):
    """No subscriber with this phone."""


class UnknownOffer(AccountError):
    """The requested plan or add-on is not in the catalogue."""


class NotAPlan(AccountError):
    """An add-on was requested as a plan or the other way round."""


class SamePlan(AccountError):
    """The subscriber already has (or has already ordered) this plan."""


@dataclass(frozen=True)
class PendingChange:
    offer_name: str
    kind: str
    effective_date: date
    status: str


@dataclass(frozen=True)
class AccountSummary:
    phone: str
    name: str
    plan_name: str
    monthly_fee: float
    balance_yuan: float
    data_used_gb: float
    data_quota_gb: float
    minutes_used: int
    minutes_quota: int
    contract_end: date | None
    status: str
    pending: tuple[PendingChange, ...]

    @property
    def data_left_gb(self) -> float:
        return max(0.0, self.data_quota_gb - self.data_used_gb)

    @property
    def minutes_left(self) -> int:
        return max(0, self.minutes_quota - self.minutes_used)


@dataclass(frozen=True)
class ChangeResult:
    offer: Offer
    effective_date: date
    immediate: bool


def next_cycle_start(today: date) -> date:
    """Billing cycles are calendar months: changes take effect on the 1st of next month."""
    return date(today.year + (today.month == 12), today.month % 12 + 1, 1)


class AccountService:
    """Balance, usage and plan changes of subscriber accounts."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        catalogue: Catalogue,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.catalogue = catalogue
        self.clock = clock or (lambda: datetime.now(UTC))

    def _offer(self, plan_id: str) -> Offer | None:
        return self.catalogue.get(plan_id) or self.catalogue.find(plan_id)

    def exists(self, phone: str) -> bool:
        with session_scope(self.session_factory) as session:
            return session.get(Subscriber, phone) is not None

    def summary(self, phone: str) -> AccountSummary:
        """Plan, balance, usage this month and pending changes (due changes are applied first)."""
        self.apply_due_changes(phone)
        with session_scope(self.session_factory) as session:
            sub = self._subscriber(session, phone)
            offer = self._offer(sub.plan_id)
            changes = session.scalars(
                select(PlanChange)
                .where(PlanChange.phone == phone, PlanChange.status == "pending")
                .order_by(PlanChange.id)
            ).all()
            pending = tuple(
                PendingChange(
                    (self._offer(c.to_offer).name if self._offer(c.to_offer) else c.to_offer),  # type: ignore[union-attr]
                    c.kind,
                    c.effective_date,
                    c.status,
                )
                for c in changes
            )
            return AccountSummary(
                phone=sub.phone,
                name=sub.name,
                plan_name=offer.name if offer else sub.plan_id,
                monthly_fee=offer.monthly_fee if offer else 0.0,
                balance_yuan=sub.balance_fen / 100,
                data_used_gb=round(sub.data_used_mb / 1024, 2),
                data_quota_gb=round(sub.data_quota_mb / 1024, 2)
                if sub.data_quota_mb or offer is None
                else float(offer.data_gb or 0),
                minutes_used=sub.minutes_used,
                minutes_quota=sub.minutes_quota if sub.minutes_quota or offer is None else offer.minutes or 0,
                contract_end=sub.contract_end,
                status=sub.status,
                pending=pending,
            )

    def change_plan(self, phone: str, plan: str, *, request_key: str | None = None) -> ChangeResult:
        """Switch the main plan: next cycle, or now where the catalogue says ``immediate``.

        ``request_key`` names the customer message asking for it (``actions.request_keys``): a replay
        of that message returns the first result and changes nothing (so too for ``order_addon``).
        """
        return self._once(phone, request_key, lambda: self._change_plan(phone, plan, request_key))

    def order_addon(self, phone: str, addon: str, *, request_key: str | None = None) -> ChangeResult:
        """Order an add-on pack; data and voice packs add to this month's allowance when immediate."""
        return self._once(phone, request_key, lambda: self._order_addon(phone, addon, request_key))

    def _once(self, phone: str, request_key: str | None, apply: Callable[[], ChangeResult]) -> ChangeResult:
        if request_key is None:
            return retry_when_locked(attempts=5)(apply)()
        key = request_key

        @retry_when_locked(attempts=5)  # a concurrent writer (SQLite: a stale snapshot) retries whole
        def attempt() -> ChangeResult:
            first = self._replayed(phone, key)
            if first is not None:
                return first
            try:
                return apply()
            except IntegrityError:  # a concurrent delivery of the same message committed first
                first = self._replayed(phone, key)
                if first is None:
                    raise
                return first

        return attempt()

    def _replayed(self, phone: str, request_key: str) -> ChangeResult | None:
        """The result of the change this message already made, if any."""
        with session_scope(self.session_factory) as session:
            row = session.scalars(
                select(PlanChange).where(PlanChange.request_key == request_key, PlanChange.phone == phone)
            ).first()
            if row is None:
                return None
            offer = self._offer(row.to_offer)
            if offer is None:
                raise UnknownOffer(row.to_offer)
            return ChangeResult(offer, row.effective_date, offer.effective == "immediate")

    def _wanted(self, name: str, *, plan: bool) -> Offer:
        """The offer a customer asked for, of the kind the request is for."""
        offer = self.catalogue.find(name)
        if offer is None:
            raise UnknownOffer(name)
        if not (offer.is_plan if plan else offer.is_addon):
            raise NotAPlan(offer.name)
        return offer

    @staticmethod
    def _subscriber(session: Session, phone: str) -> Subscriber:
        sub = session.get(Subscriber, phone)
        if sub is None:
            raise AccountNotFound(phone)
        return sub

    def _change_plan(self, phone: str, plan: str, request_key: str | None) -> ChangeResult:
        offer = self._wanted(plan, plan=True)
        today = self.clock().date()
        with session_scope(self.session_factory) as session:
            sub = self._subscriber(session, phone)
            current = self._offer(sub.plan_id)
            if current is not None and current.id == offer.id:
                raise SamePlan(offer.name)
            for pending in session.scalars(
                select(PlanChange).where(
                    PlanChange.phone == phone, PlanChange.kind == "plan", PlanChange.status == "pending"
                )
            ):
                if pending.to_offer == offer.id:
                    raise SamePlan(offer.name)
                pending.status = "cancelled"  # the newest request replaces an older one
            return self._record_change(session, sub, offer, "plan", today, request_key)

    def _order_addon(self, phone: str, addon: str, request_key: str | None) -> ChangeResult:
        offer = self._wanted(addon, plan=False)
        today = self.clock().date()
        with session_scope(self.session_factory) as session:
            sub = self._subscriber(session, phone)
            return self._record_change(session, sub, offer, "addon", today, request_key)

    def _record_change(
        self,
        session: Session,
        sub: Subscriber,
        offer: Offer,
        kind: str,
        today: date,
        request_key: str | None,
    ) -> ChangeResult:
        """Record a plan (``kind="plan"``) or add-on change: applied now where the catalogue says
        ``immediate``, else pending until the next billing cycle."""
        immediate = offer.effective == "immediate"
        effective = today if immediate else next_cycle_start(today)
        session.add(
            PlanChange(
                phone=sub.phone,
                kind=kind,
                from_offer=sub.plan_id if kind == "plan" else "",
                to_offer=offer.id,
                effective_date=effective,
                status="applied" if immediate else "pending",
                created_at=self.clock(),
                request_key=request_key,
            )
        )
        if immediate:
            (self._apply_plan if kind == "plan" else self._apply_addon)(sub, offer)
        return ChangeResult(offer, effective, immediate)

    @retry_when_locked(attempts=5)
    def apply_due_changes(self, phone: str) -> int:
        """Apply pending changes whose effective date has come; returns how many."""
        today = self.clock().date()
        applied = 0
        with session_scope(self.session_factory) as session:
            sub = session.get(Subscriber, phone)
            if sub is None:
                return 0
            for change in session.scalars(
                select(PlanChange)
                .where(
                    PlanChange.phone == phone,
                    PlanChange.status == "pending",
                    PlanChange.effective_date <= today,
                )
                .order_by(PlanChange.id)
            ):
                offer = self._offer(change.to_offer)
                if offer is None:
                    continue
                if change.kind == "plan":
                    self._apply_plan(sub, offer)
                else:
                    self._apply_addon(sub, offer)
                change.status = "applied"
                applied += 1
        return applied

    @staticmethod
    def _apply_plan(sub: Subscriber, offer: Offer) -> None:
        sub.plan_id = offer.id
        sub.data_quota_mb = int((offer.data_gb or 0) * 1024)
        sub.minutes_quota = offer.minutes or 0

    @staticmethod
    def _apply_addon(sub: Subscriber, offer: Offer) -> None:
        if offer.data_gb:
            sub.data_quota_mb += int(offer.data_gb * 1024)
        if offer.minutes:
            sub.minutes_quota += offer.minutes
