"""What agent sign-in hands out (the agent, a sign-in) and the errors it raises, in Chinese and English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.agents.models import Agent


class AuthError(Exception):
    """A sign-in or account error with a message in Chinese and English."""

    code = "auth_error"

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


class InvalidCredentials(AuthError):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("用户名或密码错误", "Wrong username or password")


class LoginLocked(AuthError):
    code = "login_locked"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, (retry_after + 59) // 60)
        super().__init__(
            f"登录失败次数过多，请 {minutes} 分钟后再试",
            f"Too many failed sign-ins; try again in {minutes} minute(s)",
        )
        self.retry_after = retry_after


class InvalidAccount(AuthError):
    code = "invalid_account"


@dataclass(frozen=True)
class AgentInfo:
    username: str
    display_name: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class SignIn:
    token: str
    agent: AgentInfo
    expires_at: datetime


def agent_info(agent: Agent) -> AgentInfo:
    return AgentInfo(
        agent.username,
        agent.display_name,
        agent.role,
        agent.active,
        agent.created_at,
        agent.last_login_at,
    )
