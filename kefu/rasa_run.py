"""``rasa`` with a bounded wait for the action server (runs in .venv-rasa, Python 3.10: stdlib only).

Rasa 3.6 waits a hard-coded 300 s for a custom action (``DEFAULT_REQUEST_TIMEOUT``; the
``action_endpoint`` section of endpoints.yml has no timeout key). The gateway gives up on
Rasa much sooner, so a slow action could still finish (a ticket opened) after the customer
was told it failed. This launcher sets the wait to ``KEFU_ACTION_TIMEOUT_SECONDS`` (default
6, below the gateway's ``KEFU_RASA_TIMEOUT_SECONDS``, default 10): Rasa then gives up on
the action first and answers with nothing, which the gateway turns into an apology.

Usage: ``python -m kefu.rasa_run run --enable-api …`` (the same arguments as ``rasa``).
"""

import importlib
import os
import sys

DEFAULT_ACTION_TIMEOUT_SECONDS = 6.0


def action_timeout() -> float:
    return float(os.environ.get("KEFU_ACTION_TIMEOUT_SECONDS", DEFAULT_ACTION_TIMEOUT_SECONDS))


def patch_action_timeout(seconds: float) -> None:
    # Both modules bind the constant at import: the action call and the HTTP session read it.
    for module in ("rasa.core.actions.action", "rasa.utils.endpoints"):
        vars(importlib.import_module(module))["DEFAULT_REQUEST_TIMEOUT"] = seconds


def main() -> None:
    patch_action_timeout(action_timeout())
    sys.argv = ["rasa", *sys.argv[1:]]
    importlib.import_module("rasa.__main__").main()


if __name__ == "__main__":
    main()
