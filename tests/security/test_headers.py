"""Low findings: security headers on every page (the widget frames only on allowed sites), the API
docs off by default, the supervisors' ticket view closed to agents, and "315" inside a phone
number does not jump the queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rasa_sdk import Tracker

from tests.integration.channel_fixtures import ChannelStack
from tests.security.public_gateway import PASSWORD, Customer, start_public_stack

pytestmark = pytest.mark.integration
SHOP = "https://shop.example.com"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChannelStack]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("KEFU_HANDOFF_WORKING_HOURS", "00:00-24:00")
        from tests.integration.channel_fixtures import start_stack

        yield from start_stack(tmp_path_factory.mktemp("headers"), monkeypatch, allowed_origins=[SHOP])


@pytest.mark.parametrize(
    "path",
    ["/", "/console", "/kb/sections/3.2", "/static/chat.js", "/healthz", "/api/conversations/x/messages"],
)
def test_every_response_carries_the_security_headers(stack: ChannelStack, path: str) -> None:
    response = httpx.get(stack.url + path)
    assert response.status_code != 500  # /healthz may say 503: the stand-in bot has no status page
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp


def test_the_chat_page_policy_allows_no_inline_script(stack: ChannelStack) -> None:
    csp = httpx.get(stack.url + "/").headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "default-src 'self'" in csp and "object-src 'none'" in csp


def test_the_widget_frame_may_be_framed_by_allowed_sites_only(stack: ChannelStack) -> None:
    response = httpx.get(stack.url + "/widget/frame")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {stack.url} {SHOP}" in csp
    assert "script-src 'self'" in csp
    assert "X-Frame-Options" not in response.headers  # it cannot name several sites; CSP does
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_api_docs_are_off_by_default(stack: ChannelStack, path: str) -> None:
    assert httpx.get(stack.url + path).status_code == 404


def test_api_docs_can_be_switched_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for docs in start_public_stack(tmp_path, monkeypatch, API_DOCS="true"):
        assert httpx.get(docs.url + "/openapi.json").status_code == 200
        assert httpx.get(docs.url + "/docs").status_code == 200


def test_agents_cannot_use_the_supervisors_ticket_view(stack: ChannelStack) -> None:
    directory = stack.app.state.agent_directory
    directory.create("xiaoli", PASSWORD, role="agent")
    directory.create("laozhang", PASSWORD, role="supervisor")

    def bearer(name: str) -> dict[str, str]:
        body = httpx.post(
            stack.url + "/api/agent/login", json={"username": name, "password": PASSWORD}
        ).json()
        return {"Authorization": f"Bearer {body['token']}"}

    agent_view = httpx.get(stack.url + "/api/tickets/supervisor", headers=bearer("xiaoli"))
    assert agent_view.status_code == 403 and agent_view.json()["error"]["code"] == "supervisors_only"
    assert httpx.get(stack.url + "/api/tickets/supervisor", headers=bearer("laozhang")).status_code == 200


def test_315_inside_a_phone_number_does_not_jump_the_queue(stack: ChannelStack) -> None:
    customer = Customer(stack.url)
    reply = customer.say("我的号码是13153151234，帮我查一下话费")
    assert reply.status_code == 200 and reply.json()["handled_by"] == "bot"
    assert stack.app.state.store.get(customer.id).priority == 0


def test_315_inside_a_phone_number_is_no_escalation_for_the_bot_either() -> None:
    """The bot's handoff action reads the same escalation table as the gateway."""
    from actions.handoff import escalation_reason

    def tracker(text: str) -> Tracker:
        event = {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": "inform"}}}
        return Tracker("c", {}, event["parse_data"], [event], False, None, {}, "action_listen")

    assert escalation_reason(tracker("我的号码是13153151234")) is None
    assert escalation_reason(tracker("我要打12315投诉你们")) is not None
    assert escalation_reason(tracker("再不解决我就打315")) is not None
