"""Two agents and a supervisor in real Chromium: capacities and auto-assignment (the third chat
stays queued), a canned reply by its shortcut with a variable, a private note the customer never
sees, a label and the label filter, and the reports page with its charts.
Screenshots: docs/screenshots/agent_tools_*.png, one per flow.

Every step waits on state a person would see (Playwright's retrying locators and ``expect``),
never on time: the console refreshes its lists on live events, so a one-off count right after an
action could read the list before the refresh.
"""

from __future__ import annotations

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
WAIT = 30_000  # ms; generous for a loaded machine, and only ever a ceiling on a wait for state


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
    expect(page.locator("#desk-view")).to_be_visible(timeout=WAIT)
    expect(page.locator("#live")).to_have_text("实时在线", timeout=WAIT)


def ask_for_a_person(page: Any, url: str) -> None:
    page.goto(url + "/")
    expect(page.locator("#status")).to_have_text("在线", timeout=WAIT)
    page.click("#human")
    expect(page.locator("#status")).to_have_text("排队等待人工客服", timeout=WAIT)
    expect(page.locator("li.msg.system", has_text="排在第")).to_have_count(1, timeout=WAIT)


def report(stack: LiveStack, figure: str) -> dict[str, Any]:
    """One figure from the JSON reports API for its default period (the one the page shows)."""
    status, body = stack.request("POST", "/api/agent/login", {"username": "boss", "password": PASSWORD})
    assert status == 200, body
    headers = {"Authorization": f"Bearer {body['token']}"}
    status, body = stack.request("GET", f"/api/reports/{figure}", headers=headers)
    assert status == 200, body
    return dict(body)


def reported(stack: LiveStack, figure: str, key: str) -> int:
    return int(report(stack, figure)["figure"]["summary"][key])


def availability(boss: Any, name: str) -> Any:
    return boss.locator("#availability li", has_text=name)


def test_agents_and_supervisor_use_the_tools(live_stack: LiveStack, chromium: Any) -> None:
    staff(live_stack)
    url = live_stack.url
    # The stack is shared with the other browser tests: the reports are compared with before.
    handoffs_before = reported(live_stack, "handoffs", "handoffs")
    claimed_before = reported(live_stack, "queue_wait", "claimed")
    # The agents keep the contact centre's time; the supervisor's browser is far from it (a laptop still
    # on Pacific time): the reports' default period is the server's Asia/Shanghai days all the same.
    desk = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", "viewport": {"width": 1400, "height": 900}}
    desks = [chromium.new_context(**{**desk, "timezone_id": "America/Los_Angeles"})]
    desks += [chromium.new_context(**desk) for _ in range(2)]
    phones = [chromium.new_context(locale="zh-CN", viewport={"width": 420, "height": 780}) for _ in range(3)]
    boss, zhang, chen = (c.new_page() for c in desks)
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
        expect(boss.locator("#queue-count")).to_have_text("0", timeout=WAIT)  # nobody left waiting
        boss.fill("#canned-shortcut", "/退费")
        boss.fill("#canned-title", "退费受理")
        boss.fill("#canned-body", CANNED)
        boss.click("#canned-save")
        expect(boss.locator("#canned-result")).to_have_text("已保存 /退费", timeout=WAIT)
        expect(boss.locator("#canned-admin li", has_text="/退费")).to_have_count(1, timeout=WAIT)
        for name in ("小张", "小陈"):
            expect(availability(boss, name).locator(".load")).to_have_text("接待 0/0", timeout=WAIT)
            availability(boss, name).locator("input.capacity").fill("1")
            availability(boss, name).locator("button", has_text="设置").click()
            expect(availability(boss, name).locator(".load")).to_have_text("接待 0/1", timeout=WAIT)

        # Three customers ask for a person while no agent is signed in: all three queue.
        customers = [c.new_page() for c in phones]
        for page in customers:
            ask_for_a_person(page, url)
        expect(boss.locator("#queue-count")).to_have_text("3", timeout=WAIT)

        # The agents open the console: each is given one chat (the two longest waiting), no more.
        sign_in(zhang, url, "zhang")
        expect(zhang.locator("#mine li.conv")).to_have_count(1, timeout=WAIT)
        sign_in(chen, url, "chen")
        expect(chen.locator("#mine li.conv")).to_have_count(1, timeout=WAIT)
        expect(customers[0].locator("li.msg.system", has_text="小张")).to_have_count(1, timeout=WAIT)
        expect(customers[1].locator("li.msg.system", has_text="小陈")).to_have_count(1, timeout=WAIT)
        for page in customers[:2]:
            expect(page.locator("#status")).to_have_text("人工客服为您服务", timeout=WAIT)
        for name in ("小张", "小陈"):
            expect(availability(boss, name).locator(".state")).to_have_text("在线", timeout=WAIT)
            expect(availability(boss, name).locator(".load")).to_have_text("接待 1/1", timeout=WAIT)
        expect(boss.locator("#queue-count")).to_have_text("1", timeout=WAIT)
        expect(boss.locator("#queue li.conv")).to_have_count(1, timeout=WAIT)
        # This walk's three chats (the shared stack may hold other tests' chats in the "all" list).
        lists = ((zhang, "#mine li.conv"), (chen, "#mine li.conv"), (boss, "#queue li.conv"))
        ours = [page.locator(selector).first.get_attribute("data-id") for page, selector in lists]
        # Both agents are full: the third customer is still waiting, and sees it.
        expect(customers[2].locator("#status")).to_have_text("排队等待人工客服")
        expect(customers[2].locator("li.msg.system", has_text="已接入")).to_have_count(0)
        boss.screenshot(path=str(SCREENSHOTS / "agent_tools_auto_assignment.png"))
        first = customers[0]

        # 小张: a private note, then the canned reply by its shortcut ({agent} filled in).
        zhang.click("#mine li.conv")
        expect(zhang.locator("#reply")).to_be_visible(timeout=WAIT)
        expect(zhang.locator("#notes li.sub")).to_have_text("暂无备注", timeout=WAIT)
        zhang.fill("#note-text", NOTE)
        zhang.click("#note-add")
        expect(zhang.locator("#notes li.note", has_text=NOTE)).to_have_count(1, timeout=WAIT)
        zhang.click("#reply-text")
        zhang.keyboard.type("/退")
        expect(zhang.locator("#canned-suggest li", has_text="/退费")).to_be_visible(timeout=WAIT)
        zhang.screenshot(path=str(SCREENSHOTS / "agent_tools_canned_reply.png"))
        zhang.keyboard.press("Enter")  # takes the suggestion, does not send
        expect(zhang.locator("#reply-text")).to_have_value(CANNED.replace("{agent}", "小张"), timeout=WAIT)
        zhang.keyboard.press("Enter")  # now sends
        expect(zhang.locator("#reply-text")).to_have_value("", timeout=WAIT)
        reply = first.locator("li.msg.agent", has_text="退费申请已受理")
        expect(reply).to_have_count(1, timeout=WAIT)
        expect(reply).to_contain_text("我是小张")
        # The note is nowhere on the customer's page, live or reloaded from the transcript.
        expect(first.locator("body")).not_to_contain_text(NOTE)
        first.reload()
        expect(first.locator("li.msg.agent", has_text="退费申请已受理")).to_have_count(1, timeout=WAIT)
        expect(first.locator("body")).not_to_contain_text(NOTE)
        expect(first.locator("body")).not_to_contain_text("已核实套餐")
        first.screenshot(path=str(SCREENSHOTS / "agent_tools_customer_without_note.png"))

        # A label on the conversation; the lists show it, and the supervisor filters by it.
        zhang.fill("#label-input", "退费")
        zhang.keyboard.press("Enter")
        expect(zhang.locator("#conv-labels .label-chip", has_text="退费")).to_have_count(1, timeout=WAIT)
        expect(zhang.locator("#mine li.conv .label-chip", has_text="退费")).to_have_count(1, timeout=WAIT)
        zhang.screenshot(path=str(SCREENSHOTS / "agent_tools_note_and_label.png"))
        for cid in ours:  # two held, one queued
            expect(boss.locator(f'#all li.conv[data-id="{cid}"]')).to_have_count(1, timeout=WAIT)
        expect(boss.locator("#label-filter option", has_text="退费")).to_have_count(1, timeout=WAIT)
        boss.select_option("#label-filter", "退费")
        visible = boss.locator("#all li.conv:not([hidden])")
        expect(visible).to_have_count(1, timeout=WAIT)
        expect(visible).to_contain_text("zhang")
        expect(visible.locator(".label-chip")).to_have_text("退费", timeout=WAIT)
        expect(boss.locator("#queue li.conv:not([hidden])")).to_have_count(0)
        boss.screenshot(path=str(SCREENSHOTS / "agent_tools_label_filter.png"))
        boss.select_option("#label-filter", "")
        for cid in ours:
            shown = boss.locator(f'#all li.conv[data-id="{cid}"]:not([hidden])')
            expect(shown).to_have_count(1, timeout=WAIT)

        # 小张 ends the chat: room again, so the waiting customer is given to 小张.
        zhang.click("#resolve")
        expect(customers[2].locator("li.msg.system", has_text="小张")).to_have_count(1, timeout=WAIT)
        expect(customers[2].locator("#status")).to_have_text("人工客服为您服务", timeout=WAIT)
        expect(boss.locator("#queue-count")).to_have_text("0", timeout=WAIT)

        # The supervisor reads today's reports: every figure drawn, the three handoffs counted.
        boss.click("#reports-link")
        boss.wait_for_url("**/console/reports", timeout=WAIT)
        expect(boss.locator("body")).to_have_attribute("data-loaded", "10", timeout=WAIT)
        expect(boss.locator("section.card canvas")).to_have_count(10)
        handoffs = boss.locator("#report-handoffs .summary")
        expect(handoffs).to_contain_text(f"转人工次数：{handoffs_before + 3}")
        expect(boss.locator("#report-queue_wait .summary")).to_contain_text(f"已接入：{claimed_before + 3}")
        period = report(live_stack, "handoffs")["query"]
        expect(boss.locator("#from")).to_have_value(period["first_day"])
        expect(boss.locator("#to")).to_have_value(period["last_day"])
        boss.screenshot(path=str(SCREENSHOTS / "agent_tools_reports.png"), full_page=True)
        assert dialogs == []
    finally:
        for context in desks + phones:
            context.close()
