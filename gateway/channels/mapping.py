"""One conversation per platform user (Telegram chat, WeChat openid)."""

from __future__ import annotations

from gateway.conversations import ConversationInfo, ConversationNotFound, ConversationStore


def conversation_for(store: ConversationStore, channel: str, channel_user_id: str) -> ConversationInfo:
    """The user's current conversation, or a new one when none exists or it expired."""
    found = store.find_by_channel_user(channel, channel_user_id)
    if found is not None:
        try:
            return store.get(found.id)
        except ConversationNotFound:
            pass
    return store.create(channel=channel, channel_user_id=channel_user_id)
