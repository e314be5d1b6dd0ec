"""Findings 1 and 2: the action server and Rasa bind loopback and refuse calls without their secrets."""

from __future__ import annotations

import json
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from tests.conftest import LiveStack


def call(url: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = Request(url, data=data, method="GET" if body is None else "POST")
    req.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urlopen(req, timeout=60) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw.strip().startswith((b"{", b"[")) else raw
    except HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw.strip().startswith((b"{", b"[")) else raw


def action_call(sender: str, slots: dict[str, Any], text: str, intent: str) -> dict[str, Any]:
    """What a forger would post to the action server: Rasa's webhook body with chosen slots."""
    user = {
        "event": "user",
        "text": text,
        "parse_data": {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []},
    }
    return {
        "next_action": "action_account_request",
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": slots,
            "latest_message": user["parse_data"],
            "events": [user],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def test_action_server_refuses_calls_without_the_token(live_stack: LiveStack) -> None:
    base = live_stack.settings.action_server_url
    token = live_stack.supervisor.env["KEFU_ACTION_SERVER_TOKEN"]
    body = action_call("forger-1", {"verified_phone": "13800138000"}, "查话费", "query_account")
    assert call(f"{base}/webhook", body) == (401, {"error": "unauthorized"})
    assert call(f"{base}/webhook?token=wrong-{token}", body) == (401, {"error": "unauthorized"})
    assert call(f"{base}/actions") == (401, {"error": "unauthorized"})
    assert call(f"{base}/health") == (200, {"status": "ok"})


def test_forged_verified_phone_slot_returns_no_account_data(live_stack: LiveStack) -> None:
    """Even with the token (a compromised Rasa), a slot alone never unlocks an account."""
    base = live_stack.settings.action_server_url
    token = live_stack.supervisor.env["KEFU_ACTION_SERVER_TOKEN"]
    body = action_call("forger-2", {"verified_phone": "13800138000"}, "查话费", "query_account")
    status, answer = call(f"{base}/webhook?token={token}", body)
    assert status == 200
    said = "\n".join(str(r.get("text") or "") for r in answer["responses"])
    assert said == "身份验证未通过，暂时无法查询或办理账户业务。您可以稍后再试，或转人工客服。"
    assert "余额" not in json.dumps(answer, ensure_ascii=False)


def test_rasa_api_needs_the_token_and_the_rest_channel_is_gone(live_stack: LiveStack) -> None:
    rasa = live_stack.settings.rasa_url
    cid = live_stack.new_conversation()
    live_stack.say(cid, "你好")
    token = live_stack.supervisor.env["KEFU_RASA_TOKEN"]
    assert call(f"{rasa}/conversations/{cid}/tracker")[0] == 401
    forged = [{"event": "slot", "name": "verified_phone", "value": "13800138000"}]
    assert call(f"{rasa}/conversations/{cid}/tracker/events", forged)[0] == 401
    assert call(f"{rasa}/conversations/{cid}/tracker?token={token}")[0] == 200
    assert call(f"{rasa}/webhooks/rest/webhook", {"sender": cid, "message": "你好"})[0] == 404


def test_gateway_channel_needs_the_secret(live_stack: LiveStack) -> None:
    url = f"{live_stack.settings.rasa_url}/webhooks/gateway/webhook"
    secret = live_stack.supervisor.env["KEFU_RASA_CHANNEL_SECRET"]
    message = {"sender": "around-the-gateway", "message": "你好"}
    assert call(url, message) == (401, {"error": "unauthorized"})
    assert call(url, message, {"X-Kefu-Channel-Secret": "x" + secret}) == (401, {"error": "unauthorized"})
    status, answer = call(url, message, {"X-Kefu-Channel-Secret": secret})
    assert status == 200 and isinstance(answer, list) and answer


def test_internal_services_listen_on_loopback_only(live_stack: LiveStack) -> None:
    services = {s.name: s for s in live_stack.supervisor.services}
    assert services["actions"].argv[-4:] == ["--host", "127.0.0.1", "--port", str(services["actions"].port)]
    rasa_argv = services["rasa"].argv
    assert rasa_argv[rasa_argv.index("--interface") + 1] == "127.0.0.1"
    assert "--auth-token" not in rasa_argv  # added inside the process, never on the command line


def test_secrets_are_generated_owner_only(live_stack: LiveStack) -> None:
    folder = live_stack.var_dir / "secrets"
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["action_server_token", "customer_token.key", "rasa_channel_secret", "rasa_token"]
    assert all((folder / name).stat().st_mode & 0o777 == 0o600 for name in files)
    assert folder.stat().st_mode & 0o777 == 0o700
