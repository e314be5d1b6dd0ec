"""The agents' desk: claiming, writing to the customer, handing back, resolving, reassigning.

Every change of who answers is a compare-and-set on the conversation (two agents claiming at
once cannot both win) taken under the router's state lock (no in-flight bot reply slips in
after it). Every action is written to the audit log. Routes only translate HTTP to these calls;
what the desk shows (the queue, transcripts) is in :mod:`gateway.agents.desk_reads`.
"""

from __future__ import annotations

from collections import Counter

import anyio

from gateway.agents.actor import Actor, Conflict, Forbidden, Invalid, record_action
from gateway.agents.audit import AuditLog
from gateway.agents.auth import AgentDirectory
from gateway.agents.desk_reads import DeskReads
from gateway.agents.handoffs import HandoffLog
from gateway.conversations import ConversationInfo, OutgoingMessage, StateConflict, StoredMessage
from gateway.routing import ConversationRouter

RELEASED_TEXT = "人工客服已结束本次服务，智能助手将继续为您服务，您可以接着提问。"
RESOLVED_TEXT = "本次人工服务已结束，感谢您的耐心。如还有其他问题，欢迎随时向智能助手提问。"


class AgentDesk(DeskReads):
    def __init__(
        self, router: ConversationRouter, handoffs: HandoffLog, audit: AuditLog, directory: AgentDirectory
    ) -> None:
        super().__init__(router.store, handoffs)
        self.router = router
        self.owner = router.owner
        self.hub = router.hub
        self.audit = audit
        self.directory = directory
        self.online: Counter[str] = Counter()  # console WebSockets per agent

    # ------------------------------------------------------------------ changing who answers
    async def claim(self, actor: Actor, conversation_id: str, *, auto: bool = False) -> ConversationInfo:
        """Take a queued conversation (supervisors may also take one from the bot).

        ``auto``: auto-assignment gives it to ``actor``, only from the queue (``gateway.agents.assignment``).
        Raises ``Conflict`` when another agent holds it or it is not waiting.
        """
        async with self.owner.state_lock(conversation_id):
            info = await self._get(conversation_id)
            if info.state == "agent" and info.assigned_agent == actor.username:
                return info
            if info.state == "agent":
                raise Conflict(
                    "already_claimed",
                    f"该会话已由坐席 {info.assigned_agent} 接入",
                    f"Already claimed by {info.assigned_agent}",
                )
            if info.state == "bot" and (auto or not actor.supervises):
                raise Conflict(
                    "not_in_queue", "该会话不在排队中", "The conversation is not waiting in the queue"
                )
            previous_state = info.state
            try:
                info = await self.owner.change(
                    conversation_id, "agent", agent=actor.username, expect_state=info.state, announce=False
                )
            except StateConflict as exc:
                raise Conflict(
                    "already_claimed", "该会话刚刚被其他坐席接入", "Another agent claimed it first"
                ) from exc
            await anyio.to_thread.run_sync(self.handoffs.claimed, conversation_id, actor.username)
            self.owner.announce_change(info, by=actor.username)
        name = await self._display_name(actor.username)
        await self._system(conversation_id, f"人工客服 {name} 已接入，正在为您服务。")
        await record_action(
            self.audit,
            actor,
            "auto_assign" if auto else "claim",
            conversation_id,
            detail={"from_state": previous_state},
        )
        return info

    async def send(self, actor: Actor, conversation_id: str, text: str) -> StoredMessage:
        """Write to the customer; only the agent holding the conversation may (403 otherwise)."""
        body = (text or "").strip()
        if not body:
            raise Invalid("empty_message", "消息不能为空", "Message must not be empty")
        if len(body) > 2000:
            raise Invalid(
                "message_too_long", "消息过长，请控制在 2000 字以内", "Message is longer than 2000 characters"
            )
        info = await self._get(conversation_id)
        if info.state != "agent" or info.assigned_agent != actor.username:
            raise Forbidden(
                "not_your_conversation",
                "您未接入该会话，不能发送消息"
                if info.state != "agent"
                else "该会话由其他坐席处理，不能发送消息",
                "You do not hold this conversation",
            )
        stored, _ = await self.router.store_message(
            conversation_id, OutgoingMessage(sender="agent", text=body, agent_id=actor.username)
        )
        await record_action(
            self.audit, actor, "message", conversation_id, detail={"seq": stored.seq, "chars": len(body)}
        )
        return stored

    async def release(
        self, actor: Actor, conversation_id: str, *, resolved: bool, note: str = ""
    ) -> ConversationInfo:
        """Hand the conversation back to the bot (``resolved``: the problem is solved).

        The bot resumes with its tracker: slots are kept and an unfinished form continues.
        Raises ``Forbidden`` when another agent holds it (supervisors may end anyone's).
        """
        async with self.owner.state_lock(conversation_id):
            info = await self._get(conversation_id)
            if info.state == "bot":
                raise Conflict(
                    "not_with_agent", "该会话已由智能助手接待", "The bot already answers this conversation"
                )
            if info.assigned_agent != actor.username and not actor.supervises:
                raise Forbidden(
                    "not_your_conversation",
                    "该会话不由您接待" if info.state == "agent" else "请先接入该会话",
                    "You do not hold this conversation",
                )
            try:
                info = await self.owner.change(
                    conversation_id,
                    "bot",
                    expect_state=info.state,
                    expect_agent=info.assigned_agent if info.state == "agent" else None,
                    announce=False,
                )
            except StateConflict as exc:
                raise Conflict(
                    "state_changed", "会话状态已变化，请刷新", "The conversation changed; reload"
                ) from exc
            outcome = "resolved" if resolved else "released"
            await anyio.to_thread.run_sync(self.handoffs.ended, conversation_id, outcome)
            self.owner.announce_change(info, by=actor.username)
        await self._system(conversation_id, RESOLVED_TEXT if resolved else RELEASED_TEXT)
        await record_action(
            self.audit, actor, "resolve" if resolved else "release", conversation_id, detail={"note": note}
        )
        return info

    async def assign(self, actor: Actor, conversation_id: str, target: str) -> ConversationInfo:
        """A supervisor gives a queued or held conversation to another agent."""
        if not actor.supervises:
            raise Forbidden("supervisors_only", "只有主管可以转派会话", "Only supervisors can reassign")
        agent = await anyio.to_thread.run_sync(self.directory.get, target)
        if agent is None or not agent.active:
            raise Invalid("unknown_agent", f"坐席 {target} 不存在或已停用", f"No active agent named {target}")
        async with self.owner.state_lock(conversation_id):
            info = await self._get(conversation_id)
            previous = info.assigned_agent
            try:
                info = await self.owner.change(
                    conversation_id,
                    "agent",
                    agent=agent.username,
                    expect_state=info.state,
                    expect_agent=previous if info.state == "agent" else None,
                    announce=False,
                )
            except StateConflict as exc:
                raise Conflict(
                    "state_changed", "会话状态已变化，请刷新", "The conversation changed; reload"
                ) from exc
            await anyio.to_thread.run_sync(self.handoffs.claimed, conversation_id, agent.username)
            self.owner.announce_change(info, by=actor.username)
        await self._system(conversation_id, f"已为您转接人工客服 {agent.display_name}，请稍候。")
        await record_action(
            self.audit, actor, "reassign", conversation_id, detail={"from": previous, "to": agent.username}
        )
        return info

    # ------------------------------------------------------------------ helpers
    async def _display_name(self, username: str) -> str:
        agent = await anyio.to_thread.run_sync(self.directory.get, username)
        return agent.display_name if agent else username

    async def _system(self, conversation_id: str, text: str) -> None:
        await self.router.store_message(conversation_id, OutgoingMessage(sender="system", text=text))
