"""The agents' tools over HTTP as the console uses them: roles (agent vs supervisor), private notes
kept from the customer, labels and their filter, search (phone only for supervisors), transcripts,
availability and auto-assignment up to each agent's capacity."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from accounts.models import ConversationVerification
from kefu.db import session_scope
from tests.unit.gateway.test_handoff_api import client, history, login, queued_conversation

__all__ = ["client"]  # the fixture: a gateway on a fresh database, agents wang and li, supervisor zhao
PHONE = "13812345678"


def verify(test_client: TestClient, cid: str, phone: str = PHONE) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    with session_scope(test_client.app.state.session_factory) as session:  # type: ignore[attr-defined]
        session.add(
            ConversationVerification(
                conversation_id=cid, phone=phone, verified_at=now, expires_at=now + timedelta(hours=1)
            )
        )


def claimed(test_client: TestClient, agent: dict[str, str]) -> str:
    cid = queued_conversation(test_client)
    assert test_client.post(f"/api/agent/conversations/{cid}/claim", headers=agent).status_code == 200
    return cid


def audit_actions(test_client: TestClient, supervisor: dict[str, str]) -> list[str]:
    items: list[dict[str, Any]] = test_client.get("/api/agent/audit?limit=200", headers=supervisor).json()[
        "items"
    ]
    return [i["action"] for i in items]


def test_supervisors_manage_canned_responses_and_agents_only_use_them(client: TestClient) -> None:
    agent, supervisor = login(client, "wang"), login(client, "zhao")
    body = {
        "shortcut": "/退费",
        "title": "退费说明",
        "body": "{agent}已为尾号{phone}的号码登记退费，工单号{ticket}。",
    }
    refused = client.post("/api/agent/canned", json=body, headers=agent)
    assert refused.status_code == 403 and "只有主管" in refused.json()["error"]["message"]
    created = client.post("/api/agent/canned", json=body, headers=supervisor)
    assert created.status_code == 201, created.text
    canned_id = created.json()["id"]
    assert client.post("/api/agent/canned", json=body, headers=supervisor).status_code == 409
    bad = client.post(
        "/api/agent/canned", json={**body, "shortcut": "/x", "body": "{身份证}"}, headers=supervisor
    )
    assert bad.status_code == 422 and "未知变量" in bad.json()["error"]["message"]
    # The composer's suggestions: typing "/退" lists it.
    listed = client.get("/api/agent/canned", params={"q": "/退"}, headers=agent).json()
    assert [c["shortcut"] for c in listed["items"]] == ["/退费"]
    assert client.get("/api/agent/canned", params={"q": "/查"}, headers=agent).json()["items"] == []

    cid = claimed(client, agent)
    verify(client, cid)
    rendered = client.get(f"/api/agent/conversations/{cid}/canned/{canned_id}", headers=agent).json()
    assert rendered["text"] == "小王已为尾号138****5678的号码登记退费，工单号（暂无工单）。"
    assert rendered["missing"] == ["ticket"]

    changed = client.put(
        f"/api/agent/canned/{canned_id}",
        json={**body, "body": "您好，退费将在3个工作日内到账。"},
        headers=supervisor,
    )
    assert changed.status_code == 200 and changed.json()["updated_by"] == "zhao"
    assert client.delete(f"/api/agent/canned/{canned_id}", headers=agent).status_code == 403
    assert client.delete(f"/api/agent/canned/{canned_id}", headers=supervisor).status_code == 204
    assert client.get("/api/agent/canned", headers=agent).json()["items"] == []
    actions = audit_actions(client, supervisor)
    assert {"canned_create", "canned_update", "canned_delete"} <= set(actions)


def test_private_note_reaches_staff_but_never_the_customer(client: TestClient) -> None:
    agent, other = login(client, "wang"), login(client, "li")
    cid = claimed(client, agent)
    before = history(client, cid)["messages"]
    token = client.app.state.customer_tokens.issue(cid)  # type: ignore[attr-defined]
    with client.websocket_connect(f"/ws/conversations/{cid}?after={before[-1]['seq']}&token={token}") as ws:
        assert ws.receive_json()["type"] == "state"
        note = client.post(
            f"/api/agent/conversations/{cid}/notes",
            json={"text": f"客户情绪激动，回拨 {PHONE}"},
            headers=agent,
        )
        assert note.status_code == 201
        assert note.json()["text"] == "客户情绪激动，回拨 138****5678"  # agents see numbers masked
        sent = client.post(f"/api/agent/conversations/{cid}/messages", json={"text": "您好"}, headers=agent)
        assert sent.status_code == 201
        event = ws.receive_json()
        # The next thing on the customer's socket is the reply, not the note.
        assert event["type"] == "message" and event["message"]["text"] == "您好"
    after = history(client, cid)["messages"]
    assert all("情绪" not in m["text"] for m in after)
    assert [m["text"] for m in after[len(before) :]] == ["您好"]
    listed = client.get(f"/api/agent/conversations/{cid}/notes", headers=agent).json()["items"]
    assert [n["author"] for n in listed] == ["wang"]
    # Another agent may not read notes of a conversation held by someone else.
    assert client.get(f"/api/agent/conversations/{cid}/notes", headers=other).status_code == 403
    full = client.get(f"/api/agent/conversations/{cid}/notes", headers=login(client, "zhao")).json()
    assert PHONE in full["items"][0]["text"]


def test_labels_on_conversations_and_tickets_filter_the_lists(client: TestClient) -> None:
    agent, supervisor = login(client, "wang"), login(client, "zhao")
    refund, other = claimed(client, agent), claimed(client, agent)
    for label in ("退费", "VIP"):
        r = client.post(f"/api/agent/conversations/{refund}/labels", json={"label": label}, headers=agent)
        assert r.status_code == 201
    assert r.json()["labels"] == ["VIP", "退费"]
    bad = client.post(f"/api/agent/conversations/{other}/labels", json={"label": "a b"}, headers=agent)
    assert bad.status_code == 422
    ids = client.get("/api/agent/labels/退费/conversations", headers=agent).json()["ids"]
    assert ids == [refund]
    lookup = client.get("/api/agent/labels/of", params={"ids": f"{refund},{other}"}, headers=agent).json()
    assert lookup["labels"] == {refund: ["VIP", "退费"]}
    ticket = client.post(
        f"/api/agent/conversations/{refund}/tickets",
        json={"category": "business", "type": "套餐变更", "description": "申请退费", "phone": PHONE},
        headers=agent,
    ).json()["id"]
    assert (
        client.post(f"/api/agent/tickets/{ticket}/labels", json={"label": "退费"}, headers=agent).status_code
        == 201
    )
    assert client.get("/api/agent/labels/退费/tickets", headers=agent).json()["ids"] == [ticket]
    found = client.get("/api/agent/search", params={"ticket": ticket.lower()}, headers=agent).json()["items"]
    assert [i["conversation_id"] for i in found] == [refund] and found[0]["tickets"] == [ticket]
    assert (
        client.post("/api/agent/tickets/TK-NONE/labels", json={"label": "x"}, headers=agent).status_code
        == 404
    )
    counts = client.get("/api/agent/labels", headers=agent).json()["items"]
    assert {"label": "退费", "conversations": 1, "tickets": 1} in counts
    removed = client.delete(f"/api/agent/conversations/{refund}/labels/VIP", headers=agent)
    assert removed.json()["labels"] == ["退费"]
    assert {"label_add", "label_remove"} <= set(audit_actions(client, supervisor))


def test_search_by_phone_is_for_supervisors_and_hits_are_masked_for_agents(client: TestClient) -> None:
    agent, supervisor = login(client, "wang"), login(client, "zhao")
    cid = claimed(client, agent)
    verify(client, cid)
    client.post(
        f"/api/agent/conversations/{cid}/messages",
        json={"text": f"已记录您的号码 {PHONE}，宽带退费"},
        headers=agent,
    )
    client.post(f"/api/agent/conversations/{cid}/labels", json={"label": "退费"}, headers=agent)
    queued_conversation(client)  # another customer, nothing to do with it

    refused = client.get("/api/agent/search", params={"phone": PHONE}, headers=agent)
    assert refused.status_code == 403 and "无权按手机号" in refused.json()["error"]["message"]
    # Nor through the text box.
    assert client.get("/api/agent/search", params={"text": PHONE}, headers=agent).status_code == 403
    by_phone = client.get("/api/agent/search", params={"phone": PHONE}, headers=supervisor).json()
    assert [i["conversation_id"] for i in by_phone["items"]] == [cid]
    by_text = client.get("/api/agent/search", params={"text": "宽带退费"}, headers=agent).json()["items"]
    assert [i["conversation_id"] for i in by_text] == [cid]
    assert "138****5678" in by_text[0]["snippet"] and PHONE not in by_text[0]["snippet"]
    assert by_text[0]["labels"] == ["退费"]
    by_label = client.get(
        "/api/agent/search", params={"label": "退费", "date_from": "2000-01-01"}, headers=agent
    )
    assert [i["conversation_id"] for i in by_label.json()["items"]] == [cid]
    future = client.get(
        "/api/agent/search", params={"text": "宽带退费", "date_from": "2999-01-01"}, headers=agent
    )
    assert future.json()["items"] == []
    assert client.get("/api/agent/search", headers=agent).status_code == 422
    actions = audit_actions(client, supervisor)
    assert "search_refused" in actions and "search" in actions


def test_transcript_export_masks_by_role_and_marks_notes(client: TestClient) -> None:
    agent, supervisor = login(client, "wang"), login(client, "zhao")
    cid = claimed(client, agent)
    client.post(f"/api/agent/conversations/{cid}/messages", json={"text": f"回拨号码 {PHONE}"}, headers=agent)
    client.post(f"/api/agent/conversations/{cid}/notes", json={"text": "内部：已升级"}, headers=agent)
    text = client.get(f"/api/agent/conversations/{cid}/transcript", headers=agent)
    assert text.status_code == 200 and "attachment" in text.headers["content-disposition"]
    assert "人工客服：回拨号码 138****5678" in text.text and PHONE not in text.text
    assert "内部：已升级" not in text.text  # notes only on request
    with_notes = client.get(f"/api/agent/conversations/{cid}/transcript?notes=true", headers=agent).text
    assert "【内部备注·wang】内部：已升级" in with_notes
    full = client.get(f"/api/agent/conversations/{cid}/transcript?format=json", headers=supervisor).json()
    assert full["masked"] is False and any(PHONE in e["text"] for e in full["entries"])
    assert client.get("/api/agent/conversations/nope/transcript", headers=agent).status_code == 404
    assert "transcript_export" in audit_actions(client, supervisor)


def test_auto_assignment_fills_online_agents_up_to_their_capacity(client: TestClient) -> None:
    wang, li, supervisor = login(client, "wang"), login(client, "li"), login(client, "zhao")
    assigner = client.app.state.agent_tools.assigner  # type: ignore[attr-defined]
    assert (
        client.put("/api/agent/availability/wang/capacity", json={"capacity": 2}, headers=wang).status_code
        == 403
    )
    for name in ("wang", "li"):
        r = client.put(f"/api/agent/availability/{name}/capacity", json={"capacity": 1}, headers=supervisor)
        assert r.status_code == 200 and r.json()["capacity"] == 1
    first, second, third = (queued_conversation(client) for _ in range(3))
    # Nobody has the console open: nothing is assigned.
    client.portal.call(assigner.assign_once)  # type: ignore[union-attr]
    assert client.get("/api/agent/queue", headers=wang).json()["total"] == 3
    assert client.put("/api/agent/availability/me", json={"status": "away"}, headers=li).status_code == 200
    with (
        client.websocket_connect(f"/ws/agent?token={wang['Authorization'][7:]}") as wang_ws,
        client.websocket_connect(f"/ws/agent?token={li['Authorization'][7:]}") as li_ws,
    ):
        assert wang_ws.receive_json()["type"] == li_ws.receive_json()["type"] == "hello"  # both online
        client.portal.call(assigner.assign_once)  # type: ignore[union-attr]
        mine = client.get("/api/agent/conversations", headers=wang).json()["items"]
        assert [c["conversation_id"] for c in mine] == [first]  # the longest waiting, capacity 1
        listed = {
            a["username"]: a for a in client.get("/api/agent/availability", headers=wang).json()["items"]
        }
        assert (listed["wang"]["status"], listed["wang"]["holding"]) == ("online", 1)
        assert listed["li"]["status"] == "away"
        client.put("/api/agent/availability/me", json={"status": "online"}, headers=li)
        client.portal.call(assigner.assign_once)  # type: ignore[union-attr]
        assert [
            c["conversation_id"] for c in client.get("/api/agent/conversations", headers=li).json()["items"]
        ] == [second]
        # Manual claim still works beyond the capacity.
        assert client.post(f"/api/agent/conversations/{third}/claim", headers=wang).status_code == 200
        # Resolving frees room; the next queued conversation is given out.
        fourth = queued_conversation(client)
        client.post(f"/api/agent/conversations/{second}/resolve", headers=li)
        client.portal.call(assigner.assign_once)  # type: ignore[union-attr]
        assert [
            c["conversation_id"] for c in client.get("/api/agent/conversations", headers=li).json()["items"]
        ] == [fourth]
    listed = {a["username"]: a for a in client.get("/api/agent/availability", headers=wang).json()["items"]}
    assert listed["wang"]["status"] == "offline"
    actions = audit_actions(client, supervisor)
    assert actions.count("auto_assign") == 3 and "availability_capacity" in actions
    assert "availability_status" in actions
