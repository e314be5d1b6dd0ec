"""A customer opens the web chat in a real browser and is greeted."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import LiveStack

pytestmark = pytest.mark.e2e


def test_customer_says_hello_and_sees_the_reply(live_stack: LiveStack, chromium: Any) -> None:
    context = chromium.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(live_stack.url + "/")
        page.locator("#status", has_text=re.compile(r"^在线$")).wait_for()  # the page's CSP forbids eval
        page.fill("#input", "你好")
        page.keyboard.press("Enter")
        page.wait_for_selector("li.msg.customer:not(.pending)")
        reply = page.wait_for_selector("li.msg.bot", timeout=30_000)
        assert reply is not None
        text = reply.inner_text()
        assert any(word in text for word in ("您好", "你好", "欢迎"))
    finally:
        context.close()
