"""A customer and an agent in two browser contexts: handoff, claim, live reply, hand back to the bot."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kefu.settings import REPO_ROOT
from tests.conftest import LiveStack
from tests.staff_accounts import create_staff

pytestmark = pytest.mark.e2e

PASSWORD = "Kefu-console-2025"
XSS = "<img src=x onerror=alert(1)>"
AGENT_REPLY = "您好，我是人工客服小王。宽带报修后我们会尽快安排处理，请保持电话畅通。"
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


def create_agent(stack: LiveStack, username: str) -> None:
    """Through the documented command, password on standard input."""
    create_staff(stack.settings.database_url, username, PASSWORD)


def test_customer_reaches_an_agent_and_is_handed_back(live_stack: LiveStack, chromium: Any) -> None:
    create_agent(live_stack, "xiaowang")
    customer_ctx = chromium.new_context(locale="zh-CN", viewport={"width": 420, "height": 780})
    agent_ctx = chromium.new_context(locale="zh-CN", viewport={"width": 1400, "height": 860})
    customer, agent = customer_ctx.new_page(), agent_ctx.new_page()
    dialogs: list[str] = []
    agent.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        # The customer asks a question, presses 转人工, then writes while queued (script-looking text too).
        customer.goto(live_stack.url + "/")
        # Locator waits, not wait_for_function: the chat page's CSP forbids the eval that one needs.
        customer.locator("#status", has_text=re.compile(r"^在线$")).wait_for()
        customer.fill("#input", "宽带装好以后老是掉线")
        customer.keyboard.press("Enter")
        customer.wait_for_selector("li.msg.bot", timeout=30_000)
        customer.click("#human")
        customer.wait_for_selector("li.msg.system:has-text('排在第')", timeout=30_000)
        for text in (XSS, "报修以后一般多久能修好"):
            notices = customer.locator("li.msg.system").count()
            customer.fill("#input", text)
            customer.keyboard.press("Enter")
            customer.locator("li.msg.system").nth(notices).wait_for(timeout=30_000)

        # The agent signs in, sees the conversation queued, claims it.
        agent.goto(live_stack.url + "/console")
        agent.fill("#username", "xiaowang")
        agent.fill("#password", PASSWORD)
        agent.click("#login-button")
        agent.wait_for_selector("#desk-view:not([hidden])")
        agent.wait_for_selector("#queue li.conv", timeout=30_000)
        agent.click("#queue li.conv")
        agent.wait_for_selector("#claim:not([hidden])")
        agent.click("#claim")
        agent.wait_for_selector("#reply:not([hidden])", timeout=15_000)

        # Agent assist: KB passages for the customer's last question, cited by section.
        passage = agent.wait_for_selector("#kb-passages li.kb-passage", timeout=30_000)
        assert passage is not None and "《服务指南》" in passage.inner_text()
        # Customer text is shown as text: no element, no script.
        transcript = agent.locator("#transcript")
        transcript.locator("li.msg.customer").first.wait_for()
        assert XSS in transcript.inner_text()
        assert transcript.locator("img").count() == 0
        # The 转人工 click shows as the button the customer pressed, not as a Rasa payload.
        assert "［按钮］转人工" in transcript.inner_text()
        assert "/request_human" not in transcript.inner_text()

        agent.fill("#reply-text", AGENT_REPLY)
        agent.keyboard.press("Enter")
        customer.wait_for_selector(f"li.msg.agent:has-text('{AGENT_REPLY[:12]}')", timeout=15_000)
        customer.locator("#status", has_text=re.compile(r"^人工客服为您服务$")).wait_for()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        agent.screenshot(path=str(SCREENSHOTS / "agent_console.png"))
        customer.screenshot(path=str(SCREENSHOTS / "webchat_agent.png"))

        # Hand back: the bot answers the next question again.
        agent.click("#release")
        customer.wait_for_selector("li.msg.system:has-text('智能助手将继续为您服务')", timeout=15_000)
        answers_before = customer.locator("li.msg.bot", has_text="证").count()
        customer.fill("#input", "办新号要带什么证件")
        customer.keyboard.press("Enter")
        # The bot's answer (quoting the guide on ID documents), not a queue notice.
        customer.locator("li.msg.bot", has_text="证").nth(answers_before).wait_for(timeout=30_000)
        assert dialogs == []
    finally:
        customer_ctx.close()
        agent_ctx.close()


def test_console_rejects_a_wrong_password(live_stack: LiveStack, chromium: Any) -> None:
    create_agent(live_stack, "xiaoli")
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(live_stack.url + "/console")
        page.fill("#username", "xiaoli")
        page.fill("#password", "wrong-password")
        page.click("#login-button")
        error = page.wait_for_selector("#login-error:has-text('密码')", timeout=15_000)
        assert error is not None
        assert page.locator("#desk-view").is_hidden()
    finally:
        context.close()
