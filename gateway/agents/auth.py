"""Agent accounts and sign-in: argon2 password hashes, expiring bearer sessions, login throttling.

Plain synchronous SQLAlchemy (routes call it from a worker thread). The bearer token is shown
once, at sign-in; the database keeps only its SHA-256, so a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from gateway.agents.auth_types import AgentInfo as AgentInfo
from gateway.agents.auth_types import AuthError as AuthError
from gateway.agents.auth_types import InvalidAccount as InvalidAccount
from gateway.agents.auth_types import InvalidCredentials as InvalidCredentials
from gateway.agents.auth_types import LoginLocked as LoginLocked
from gateway.agents.auth_types import SignIn as SignIn
from gateway.agents.auth_types import agent_info
from gateway.agents.models import ROLES, Agent, AgentSession, LoginAttempt
from gateway.agents.settings import AuthSettings
from kefu.db import session_scope

USERNAME_RE = r"^[A-Za-z0-9_.\-]{2,64}$"
_hasher = PasswordHasher()
# Verifying against this keeps the time of an unknown-user sign-in like a known one.
_DUMMY_HASH = _hasher.hash("kefu-dummy-password")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AgentDirectory:
    """Agent accounts and their sessions on one database."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: AuthSettings | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._sessions = session_factory
        self.settings = settings or AuthSettings()
        self._clock = clock or (lambda: datetime.now(UTC))
        # One gateway process serves the sign-ins; this makes count-then-record one step.
        self._attempt_lock = threading.Lock()

    # ------------------------------------------------------------------ accounts
    def create(
        self, username: str, password: str, *, role: str, display_name: str | None = None
    ) -> AgentInfo:
        """Add an agent. Raises ``InvalidAccount`` (bad name, role or password, name taken)."""
        name = (username or "").strip()
        if not re.match(USERNAME_RE, name):
            raise InvalidAccount(
                "用户名只能包含字母、数字、点、下划线或连字符（2–64 个字符）",
                "Username: 2-64 letters, digits, '.', '_' or '-'",
            )
        self._check_role(role)
        self._check_password(password)
        now = self._clock()
        with session_scope(self._sessions) as session:
            if session.scalar(select(Agent).where(Agent.username == name)) is not None:
                raise InvalidAccount(f"用户名 {name} 已存在", f"Username {name} already exists")
            agent = Agent(
                username=name,
                display_name=(display_name or name).strip()[:64] or name,
                role=role,
                password_hash=_hasher.hash(password),
                active=True,
                created_at=now,
                password_changed_at=now,
            )
            session.add(agent)
            session.flush()
            return agent_info(agent)

    def set_password(self, username: str, password: str) -> None:
        """Replace the password and end the agent's sessions."""
        self._check_password(password)
        with session_scope(self._sessions) as session:
            agent = self._agent(session, username)
            agent.password_hash = _hasher.hash(password)
            agent.password_changed_at = self._clock()
            self._revoke_all(session, agent.id)

    def set_active(self, username: str, active: bool) -> None:
        """Disable (or enable again) an account; disabling ends its sessions."""
        with session_scope(self._sessions) as session:
            agent = self._agent(session, username)
            agent.active = active
            if not active:
                self._revoke_all(session, agent.id)

    def list_agents(self) -> list[AgentInfo]:
        with session_scope(self._sessions) as session:
            return [agent_info(a) for a in session.scalars(select(Agent).order_by(Agent.username))]

    def get(self, username: str) -> AgentInfo | None:
        with session_scope(self._sessions) as session:
            agent = session.scalar(select(Agent).where(Agent.username == username))
            return agent_info(agent) if agent else None

    # ------------------------------------------------------------------ sessions
    def login(self, username: str, password: str, *, ip: str) -> SignIn:
        """Check the password and open a session.

        Raises ``LoginLocked`` after ``max_login_attempts`` failures of this username from this IP,
        or ``max_login_failures_per_ip`` failures of any usernames from this IP (password spraying),
        within ``lockout_minutes``; checked before the password, so guessing is pointless.
        ``InvalidCredentials`` for a wrong password, an unknown or a disabled account.

        The attempt is reserved (recorded as a failure) before the slow password check, under a
        lock, so parallel guesses cannot all pass the count: only the allowed number are checked.
        """
        name = (username or "").strip()[:64]
        ip = ip[:64]
        attempt_id = self._reserve_attempt(name, ip)
        with session_scope(self._sessions) as session:
            agent = session.scalar(select(Agent).where(Agent.username == name))
            if not self._verify(agent, password):
                raise InvalidCredentials()  # the reserved attempt stays: it is the failure record
            assert agent is not None
            now = self._clock()
            if _hasher.check_needs_rehash(agent.password_hash):
                agent.password_hash = _hasher.hash(password)
            session.execute(
                delete(LoginAttempt).where(
                    (LoginAttempt.id == attempt_id)
                    | ((LoginAttempt.username == name) & (LoginAttempt.ip == ip))
                )
            )
            token = secrets.token_urlsafe(32)
            expires = now + timedelta(minutes=self.settings.session_ttl_minutes)
            session.add(
                AgentSession(
                    token_hash=token_hash(token),
                    agent_id=agent.id,
                    created_at=now,
                    expires_at=expires,
                    revoked=False,
                    ip=ip,
                )
            )
            agent.last_login_at = now
            session.flush()
            return SignIn(token, agent_info(agent), expires)

    def _reserve_attempt(self, name: str, ip: str) -> int:
        """Count the recent failures and record this attempt, atomically for this process."""
        window = timedelta(minutes=self.settings.lockout_minutes)
        with self._attempt_lock, session_scope(self._sessions) as session:
            now = self._clock()
            recent = LoginAttempt.at > now - window
            limits = (
                (LoginAttempt.username == name, self.settings.max_login_attempts),
                (LoginAttempt.ip == ip, self.settings.max_login_failures_per_ip),
            )
            for where, limit in limits:
                stamps = session.scalars(
                    select(LoginAttempt.at)
                    .where(where, LoginAttempt.ip == ip, recent)
                    .order_by(LoginAttempt.at)
                ).all()
                if len(stamps) >= limit:
                    oldest = stamps[-limit]
                    raise LoginLocked(max(1, int((oldest + window - now).total_seconds())))
            row = LoginAttempt(username=name, ip=ip, at=now)
            session.add(row)
            session.flush()
            return int(row.id)

    def authenticate(self, token: str) -> AgentInfo | None:
        """The active agent a bearer token belongs to, or None (unknown, expired, revoked, disabled)."""
        if not token:
            return None
        with session_scope(self._sessions) as session:
            row = session.get(AgentSession, token_hash(token))
            if row is None or row.revoked or row.expires_at <= self._clock():
                return None
            agent = session.get(Agent, row.agent_id)
            if agent is None or not agent.active:
                return None
            return agent_info(agent)

    def logout(self, token: str) -> None:
        with session_scope(self._sessions) as session:
            session.execute(
                update(AgentSession).where(AgentSession.token_hash == token_hash(token)).values(revoked=True)
            )

    def purge_expired(self) -> int:
        """Drop finished sessions and old failed attempts (housekeeping)."""
        now = self._clock()
        with session_scope(self._sessions) as session:
            gone = session.execute(
                delete(AgentSession).where((AgentSession.expires_at < now) | AgentSession.revoked.is_(True))
            ).rowcount  # type: ignore[attr-defined]
            session.execute(
                delete(LoginAttempt).where(
                    LoginAttempt.at < now - timedelta(minutes=self.settings.lockout_minutes)
                )
            )
            return int(gone or 0)

    def active_count(self) -> int:
        with session_scope(self._sessions) as session:
            return int(session.scalar(select(func.count()).select_from(Agent).where(Agent.active)) or 0)

    # ------------------------------------------------------------------ helpers
    def _check_password(self, password: str) -> None:
        if len(password or "") < self.settings.min_password_length:
            n = self.settings.min_password_length
            raise InvalidAccount(f"密码至少需要 {n} 个字符", f"The password needs at least {n} characters")

    @staticmethod
    def _check_role(role: str) -> None:
        if role not in ROLES:
            raise InvalidAccount(
                f"角色必须是 {' / '.join(ROLES)} 之一", f"Role must be one of {', '.join(ROLES)}"
            )

    @staticmethod
    def _agent(session: Session, username: str) -> Agent:
        agent = session.scalar(select(Agent).where(Agent.username == username))
        if agent is None:
            raise InvalidAccount(f"用户 {username} 不存在", f"No agent named {username}")
        return agent

    @staticmethod
    def _verify(agent: Agent | None, password: str) -> bool:
        try:
            _hasher.verify(agent.password_hash if agent else _DUMMY_HASH, password or "")
        except (VerificationError, InvalidHashError):
            return False
        return agent is not None and agent.active

    @staticmethod
    def _revoke_all(session: Session, agent_id: int) -> None:
        session.execute(update(AgentSession).where(AgentSession.agent_id == agent_id).values(revoked=True))
