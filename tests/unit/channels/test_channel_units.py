"""Pure channel logic: signatures, rendering, KB section pages, widget framing policy."""

from __future__ import annotations

import hashlib
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from gateway.api.routes.kb_pages import find_section, render_page
from gateway.api.routes.widget import frame_ancestors
from gateway.channels.render import message_text
from gateway.channels.settings import TelegramSettings, WechatSettings
from gateway.channels.telegram import parse_update, render, secret_ok
from gateway.channels.wechat import BadXml, IncomingWechat, parse_message, signature, signature_ok, text_reply


def test_wechat_signature_matches_the_documented_scheme() -> None:
    expected = hashlib.sha1("".join(sorted(["tok", "1409304348", "xxxxxx"])).encode()).hexdigest()
    assert signature("tok", "1409304348", "xxxxxx") == expected


@pytest.mark.parametrize(
    ("token", "sig_token", "ok"), [("tok", "tok", True), ("tok", "other", False), ("", "", False)]
)
def test_wechat_signature_check_accepts_only_the_configured_token(
    token: str, sig_token: str, ok: bool
) -> None:
    settings = WechatSettings(token=token)
    assert signature_ok(settings, signature(sig_token, "1", "2"), "1", "2") is ok


def test_telegram_secret_check_rejects_when_no_secret_is_configured() -> None:
    assert not secret_ok("", TelegramSettings(webhook_secret=""))
    assert not secret_ok(None, TelegramSettings(webhook_secret="s"))
    assert secret_ok("s", TelegramSettings(webhook_secret="s"))


def test_wechat_xml_with_entities_is_refused() -> None:
    with pytest.raises(BadXml):
        parse_message(b'<!DOCTYPE x [<!ENTITY a "b">]><xml><FromUserName>&a;</FromUserName></xml>')


def test_passive_reply_cannot_be_broken_out_of_by_cdata_terminator() -> None:
    incoming = IncomingWechat("gh_1", "openid", "text", "hi", "1")
    xml = text_reply(incoming, "a]]><b>x</b>", now=1)
    root = ET.fromstring(xml)
    assert root.findtext("Content") == "a]]><b>x</b>"
    assert root.findtext("ToUserName") == "openid"
    assert root.find("Content/b") is None


def test_telegram_csat_prompt_renders_star_buttons_with_rate_ticket_payload() -> None:
    params = render({"text": "请评价", "custom": {"csat": {"ticket_id": "TK20261128-0001"}}})
    row = params["reply_markup"]["inline_keyboard"][-1]
    assert [b["text"] for b in row] == ["★", "★★", "★★★", "★★★★", "★★★★★"]
    assert row[4]["callback_data"] == '/rate_ticket{"ticket_id":"TK20261128-0001","score":5}'
    assert all(len(b["callback_data"].encode()) <= 64 for b in row)


def test_telegram_update_without_text_is_ignored() -> None:
    assert parse_update({"update_id": 1, "message": {"chat": {"id": 1}, "sticker": {}}}) is None


def test_text_channels_show_citations_and_button_titles() -> None:
    text = message_text(
        {
            "text": "请携带身份证原件。",
            "buttons": [{"title": "转人工客服", "payload": "/request_human"}],
            "citations": [{"section": "3.2", "title": "业务受理"}],
        },
        with_buttons=True,
    )
    assert text.splitlines() == [
        "请携带身份证原件。",
        "依据：《服务指南》3.2 业务受理",
        "您可以回复：转人工客服",
    ]


def test_kb_section_page_includes_subsections_and_escapes_html(tmp_path: Path) -> None:
    (tmp_path / "03.md").write_text(
        "## 3.2 业务受理\n\n办理新号需<b>本人</b>身份证。\n\n"
        "### 3.2.1 携号转网\n\n- 先查询资格\n\n## 3.3 其他\n\n无关内容\n",
        encoding="utf-8",
    )
    found = find_section("3.2", tmp_path)
    assert found is not None
    title, body = found
    page = render_page("3.2", title, body)
    assert "《服务指南》3.2 业务受理" in page
    assert "3.2.1 携号转网" in page and "先查询资格" in page
    assert "&lt;b&gt;本人&lt;/b&gt;" in page and "<b>" not in page
    assert "无关内容" not in page
    assert find_section("9.9", tmp_path) is None


def test_widget_frame_policy_lists_only_configured_origins() -> None:
    policy = frame_ancestors(["https://shop.example.com/", "https://evil.example.com; script-src *"])
    assert policy == "frame-ancestors 'self' https://shop.example.com"
