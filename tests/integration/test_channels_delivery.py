"""A message stored for a Telegram chat but not yet sent when the gateway stopped is sent after the
restart, once; what had been delivered before is not sent again."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.conversations import ConversationStore, OutgoingMessage
from kefu.db import make_engine, make_session_factory
from tests.integration import test_channels_telegram as telegram
from tests.integration.channel_fixtures import start_stack

pytestmark = pytest.mark.integration


def test_undelivered_agent_message_is_sent_after_a_gateway_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = start_stack(tmp_path, monkeypatch)
    stack = next(first)
    assert telegram.post(stack, telegram.text_update(60, "你好")).status_code == 200
    delivered = stack.platform.wait_for("/sendMessage", 1)
    bot_text = delivered[0].body["text"]
    conv = stack.app.state.store.find_by_channel_user("telegram", str(telegram.CHAT_ID))
    assert conv is not None
    first.close()  # the gateway stops

    # Stored while the gateway was going down (an agent's reply that never reached the dispatcher).
    store = ConversationStore(make_session_factory(make_engine(f"sqlite:///{tmp_path / 'kefu.db'}")))
    store.append(conv.id, OutgoingMessage(sender="agent", text="抱歉久等，您的宽带已恢复，请重启光猫试试。"))

    second = start_stack(tmp_path, monkeypatch)
    restarted = next(second)
    try:
        restarted.platform.wait_for("/sendMessage", 1)
        restarted.run(restarted.app.state.channels.dispatcher.drain())
        sent = restarted.platform.paths("/sendMessage")
        texts = [c.body["text"] for c in sent]
        assert texts.count("抱歉久等，您的宽带已恢复，请重启光猫试试。") == 1
        assert bot_text not in texts  # delivered before the restart: not sent twice
    finally:
        second.close()
