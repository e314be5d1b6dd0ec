"""Names the gateway puts in the metadata of a customer message it sends to Rasa.

Shared by the gateway (which writes them) and the action server (which reads them from the tracker's
user event), so the two sides cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GATEWAY_MESSAGE_ID = "kefu_message_id"
"""The stored customer message's sequence number in its conversation: the same for every delivery of
that message to Rasa (first try, a backlog replay, a retry after a gateway crash), and different for any
other message, so the actions can key their effects on it."""


def with_message_id(metadata: Mapping[str, Any] | None, seq: int) -> dict[str, Any]:
    """The channel's metadata plus the stored message's id; the gateway's value wins, since a channel's
    metadata comes from the wire and must not choose the key an effect is deduplicated by."""
    return {**(metadata or {}), GATEWAY_MESSAGE_ID: seq}
