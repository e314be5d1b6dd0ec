"""Agent sign-in (``/api/agent/login``), sign-out and who is signed in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gateway.agents.actor import record_action
from gateway.agents.auth import InvalidCredentials, LoginLocked
from gateway.api.routes.agent_deps import PREFIX, ActorDep, AuditDep, DirectoryDep
from gateway.errors import ApiError, error_body
from gateway.inbound import storable

router = APIRouter(prefix=PREFIX, tags=["agent console"])


class LoginIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class LoginOut(BaseModel):
    token: str = Field(description="Bearer token for every other staff endpoint.")
    token_type: Literal["bearer"] = "bearer"
    username: str
    display_name: str
    role: str
    expires_at: datetime


@router.post(
    "/login",
    response_model=LoginOut,
    responses={401: {"description": "Wrong username or password"}, 429: {"description": "Locked"}},
)
async def login(body: LoginIn, request: Request, directory: DirectoryDep, audit: AuditDep) -> Any:
    """Sign in with username and password; returns a bearer token that expires."""
    if not (storable(body.username) and storable(body.password)):
        raise ApiError(422, "invalid_credentials_format", "用户名或密码包含无效字符", "Invalid characters")
    ip = request.client.host if request.client else "unknown"
    name = body.username.strip()[:64]

    async def failed(action: str) -> None:
        # Staff usernames, not customer data: logged as typed, so guessing shows in the audit log.
        await anyio.to_thread.run_sync(lambda: audit.record(actor=name, role="", action=action, ip=ip))

    try:
        signed = await anyio.to_thread.run_sync(lambda: directory.login(body.username, body.password, ip=ip))
    except LoginLocked as exc:
        await failed("login_locked")
        return JSONResponse(
            error_body(exc.code, exc.zh, exc.en),
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except InvalidCredentials as exc:
        await failed("login_failed")
        raise ApiError(401, exc.code, exc.zh, exc.en) from exc
    await anyio.to_thread.run_sync(
        lambda: audit.record(actor=signed.agent.username, role=signed.agent.role, action="login", ip=ip)
    )
    return LoginOut(
        token=signed.token,
        username=signed.agent.username,
        display_name=signed.agent.display_name,
        role=signed.agent.role,
        expires_at=signed.expires_at,
    )


@router.post("/logout", status_code=204)
async def logout(
    directory: DirectoryDep,
    audit: AuditDep,
    actor: ActorDep,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """End this sign-in."""
    token = (authorization or "")[7:].strip()
    await anyio.to_thread.run_sync(directory.logout, token)
    await record_action(audit, actor, "logout")


@router.get("/me")
async def me(directory: DirectoryDep, actor: ActorDep) -> dict[str, Any]:
    """Who is signed in."""
    info = await anyio.to_thread.run_sync(directory.get, actor.username)
    return {
        "username": actor.username,
        "display_name": info.display_name if info else actor.username,
        "role": actor.role,
    }
