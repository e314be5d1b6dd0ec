"""Logging configuration shared by the gateway and the action server."""

from __future__ import annotations

import logging
import sys

from kefu.privacy import install_masking_filter


def configure_logging(level: str = "INFO") -> None:
    """Log to stderr (the supervisor prefixes and collects it) with phone/ID masking."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level.upper())
    install_masking_filter(root)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        install_masking_filter(logging.getLogger(name))
