"""Sending one-time codes by SMS, behind a small provider interface.

Production plugs in the operator's SMS gateway; development and tests use
:class:`LogSmsProvider`, which appends the message to a JSON-lines outbox (mode 0600, under
``var/``) that demos and integration tests read the code from: the outbox plays the phone.
Its log line names the masked phone only, never the text, which holds the code.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from kefu.privacy import mask_phone

log = logging.getLogger(__name__)


class SmsProvider(Protocol):
    """Anything that can deliver a text message to a mobile number."""

    def send(self, phone: str, text: str, *, code: str | None = None) -> None: ...


class LogSmsProvider:
    """Development provider: full entry in ``outbox`` (owner-only), a log line without the code."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox
        self._lock = threading.Lock()

    def send(self, phone: str, text: str, *, code: str | None = None) -> None:
        entry = {"phone": phone, "code": code, "text": text, "sent_at": datetime.now(UTC).isoformat()}
        with self._lock:
            self.outbox.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.outbox, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        log.info("SMS to %s written to the development outbox (%d characters)", mask_phone(phone), len(text))


def make_sms_provider(name: str, var_dir: Path, outbox: Path | None = None) -> SmsProvider:
    """The provider configured by ``KEFU_OTP_SMS_PROVIDER``; unknown names are a clear error."""
    if name == "log":
        return LogSmsProvider(outbox or var_dir / "sms_outbox.jsonl")
    raise ValueError(f'unknown SMS provider {name!r} (KEFU_OTP_SMS_PROVIDER); available: "log"')
