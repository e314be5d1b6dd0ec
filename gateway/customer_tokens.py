"""The customer's secret for a web-chat conversation.

``POST /api/conversations`` returns it once; every customer call on that conversation must
carry it (``X-Customer-Token`` header; ``?token=`` on the WebSocket). It is an HMAC of the
conversation id under a server key, so nothing is stored, agents (who see conversation ids)
cannot derive it, and rotating the key ends every open web chat's access at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)
HEADER = "X-Customer-Token"
KEY_FILE = Path("secrets") / "customer_token.key"


class CustomerTokens:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("customer token key must have at least 16 bytes")
        self._key = key

    def issue(self, conversation_id: str) -> str:
        mac = hmac.new(self._key, b"kefu-customer:" + conversation_id.encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()

    def verify(self, conversation_id: str, token: str | None) -> bool:
        if not token or len(token) > 128:
            return False
        return hmac.compare_digest(self.issue(conversation_id).encode(), token.encode("utf-8", "replace"))


def load_key(secret: str, var_dir: Path) -> bytes:
    """The configured secret, else a random key kept in ``var/secrets`` (created on first start)."""
    if secret:
        return secret.encode()
    path = var_dir / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32).encode()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    try:
        os.link(tmp, path)  # atomic and exclusive: two workers starting at once keep one key
    except FileExistsError:
        key = path.read_bytes().strip()
    finally:
        tmp.unlink(missing_ok=True)
    log.info("created the customer token key %s", path)
    return key
