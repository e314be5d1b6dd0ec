"""Logging configuration shared by the gateway and the action server (Rasa uses bot.rasa_server)."""

from __future__ import annotations

import logging
import sys

from kefu.privacy import install_log_masking, install_masking_filter


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr (the supervisor prefixes and collects it) with phone/ID/code masking.

    Masking is installed on record creation (see :func:`kefu.privacy.install_log_masking`), so
    handlers that uvicorn, Sanic or other libraries add later are covered, tracebacks included.
    """
    install_log_masking()
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level.upper())
    install_masking_filter(root)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "sanic.root", "sanic.error", "sanic.access"):
        install_masking_filter(logging.getLogger(name))
