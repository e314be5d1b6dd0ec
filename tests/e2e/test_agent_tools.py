"""Two agents and a supervisor in real Chromium: capacities and auto-assignment, a canned reply by
its shortcut, a private note the customer never sees, a label and the label filter.
Screenshots go to docs/screenshots/agent_tools_*.png."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from gateway.agents.auth import AgentDirectory
from gateway.agents.settings import AuthSettings
from kefu.db import make_engine, make_session_factory
from kefu.settings import REPO_ROOT
from tests.conftest import LiveStack

pytestmark = pytest.mark.e2e

PASSWORD = "Kefu-tools-2025"
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
CANNED = "您好，我是{agent}，您的退费申请已受理，款项将在3个工作日内原路退回。"
NOTE = "客户第二次来问退费，已核实套餐，注意安抚"


def staff(stack: LiveStack) -> None:
    engine = make_engine(stack.settings.database_url)
    directory = AgentDirectory(make_session_factory(engine), AuthSettings())
    directory.create("zhang", PASSWORD, role="agent", display_name="小张")
    directory.create("chen", PASSWORD, role="agent", display_name="小陈")
    directory.create("boss", PASSWORD, role="supervisor", display_name="刘主管")
    engine.dispose()


def sign_in(page: Any, url: str, username: str) -> None:
    page.goto(url + "/console")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("#desk-view:not([hidden])")
    page.locator("#live", has_text="实时在线").wait_for(timeout=15_000)


def ask_for_a_person(page: Any, url: str) -> None:
    page.goto(url + "/")
    page.locator("#status", has_text=re.compile(r"^在线$")).wait_for()
    page.click("#human")
    page.wait_for_selector("li.msg.system:has-text('排在第')", timeout=30_000)


def test_agents_and_supervisor_use_the_tools(live_stack: LiveStack, chromium: Any) -> None:
    staff(live_stack)
    url = live_stack.url
    contexts = [
        chromium.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900}) for _ in range(3)
    ]
    customers = [
        chromium.new_context(locale="zh-CN", viewport={"width": 420, "height": 780}) for _ in range(3)
    ]
    boss, zhang, chen = (c.new_page() for c in contexts)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    for page in (boss, zhang, chen):
        page.on("dialog", on_dialog)
    try:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # The supervisor writes the canned response and gives each agent room for one chat.
        sign_in(boss, url, "boss")
        boss.fill("#canned-shortcut", "/退费")
        boss.fill("#canned-title", "退费受理")
        boss.fill("#canned-body", CANNED)
        boss.click("#canned-save")
        boss.locator("#canned-admin li", has_text="/退费").wait_for()
        for name in ("小张", "小陈"):
            row = boss.locator("#availability li", has_text=name)
            row.locator("input.capacity").fill("1")
            row.locator("button", has_text="设置").click()
            boss.locator("#availability li", has_text=name).locator(".load", has_text="/1").wait_for()

        # Both agents open the console (online); three customers ask for a person.
        sign_in(zhang, url, "zhang")
        sign_in(chen, url, "chen")
        boss.locator("#availability li", has_text="小张").locator(".state", has_text="在线").wait_for(
            timeout=15_000
        )
        boss.locator("#availability li", has_text="小陈").locator(".state", has_text="在线").wait_for(
            timeout=15_000
        )
        pages = [c.new_page() for c in customers]
        for page in pages:
            ask_for_a_person(page, url)
        # Each agent is given exactly one (their capacity); the third customer keeps waiting.
        for page in pages[:2]:
            page.locator("#status", has_text=re.compile(r"^人工客服为您服务$")).wait_for(timeout=30_000)
        zhang.wait_for_selector("#mine li.conv", timeout=15_000)
        chen.wait_for_selector("#mine li.conv", timeout=15_000)
        boss.locator("#queue-count", has_text=re.compile(r"^1$")).wait_for(timeout=15_000)
        assert zhang.locator("#mine li.conv").count() == 1 and chen.locator("#mine li.conv").count() == 1
        boss.locator("#availability li", has_text="小张").locator(".load", has_text="接待 1/1").wait_for(
            timeout=15_000
        )
        boss.locator("#availability li", has_text="小陈").locator(".load", has_text="接待 1/1").wait_for(
            timeout=15_000
        )
        boss.screenshot(path=str(SCREENSHOTS / "agent_tools_auto_assignment.png"))
        first = next(p for p in pages[:2] if p.locator("li.msg.system", has_text="小张").count())

        # 小张: a private note, then the canned reply by its shortcut.
        zhang.click("#mine li.conv")
        zhang.wait_for_selector("#reply:not([hidden])", timeout=15_000)
        zhang.fill("#note-text", NOTE)
        zhang.click("#note-add")
        zhang.locator("#notes li.note", has_text=NOTE).wait_for()
        zhang.click("#reply-text")
        zhang.keyboard.type("/退")
        zhang.locator("#canned-suggest li", has_text="/退费").wait_for()
        zhang.screenshot(path=str(SCREENSHOTS / "agent_tools_canned_suggest.png"))
        zhang.keyboard.press("Enter")  # takes the suggestion, does not send
        expect(zhang.locator("#reply-text")).to_have_value(CANNED.replace("{agent}", "小张"))
        zhang.keyboard.press("Enter")  # now sends
        first.locator("li.msg.agent", has_text="退费申请已受理").wait_for(timeout=15_000)
        assert "小张" in first.locator("li.msg.agent").last.inner_text()
        # The note is nowhere on the customer's page, even after a reload (the transcript).
        assert NOTE not in first.locator("body").inner_text()
        first.reload()
        first.locator("li.msg.agent", has_text="退费申请已受理").wait_for(timeout=15_000)
        assert NOTE not in first.locator("body").inner_text()
        first.screenshot(path=str(SCREENSHOTS / "agent_tools_customer_without_note.png"))

        # A label on the conversation; the supervisor filters the lists by it.
        zhang.fill("#label-input", "退费")
        zhang.keyboard.press("Enter")
        zhang.locator("#conv-labels .label-chip", has_text="退费").wait_for()
        zhang.locator("#mine li.conv .label-chip", has_text="退费").wait_for(timeout=15_000)
        zhang.screenshot(path=str(SCREENSHOTS / "agent_tools_note_and_label.png"))
        boss.locator("#all li.conv").nth(2).wait_for(timeout=15_000)  # two held, one queued
        boss.locator("#label-filter option", has_text="退费").wait_for(state="attached", timeout=15_000)
        boss.select_option("#label-filter", "退费")
        boss.locator("#all li.conv:not([hidden])").first.wait_for()
        visible = boss.locator("#all li.conv:not([hidden])")
        assert visible.count() == 1 and "zhang" in visible.first.inner_text()
        assert boss.locator("#queue li.conv:not([hidden])").count() == 0
        boss.screenshot(path=str(SCREENSHOTS / "agent_tools_label_filter.png"))

        # 小张 ends the chat: room again, so the waiting customer is given to 小张.
        zhang.click("#resolve")
        pages[2].locator("li.msg.system", has_text="小张").wait_for(timeout=30_000)
        boss.locator("#queue-count", has_text=re.compile(r"^0$")).wait_for(timeout=15_000)
        assert dialogs == []
    finally:
        for context in contexts + customers:
            context.close()
