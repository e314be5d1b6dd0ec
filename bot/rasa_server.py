"""Rasa's process entry point (composition root): log masking first, the API token from the env.

``python -m bot.rasa_server run …`` (run by the supervisor with ``.venv-rasa``) installs
:mod:`kefu.privacy`'s masking on every log record of the Rasa process, tracebacks included, before
Rasa configures its own handlers, then runs the ``rasa`` command line. The HTTP API token
(``KEFU_RASA_TOKEN``) is added here as ``--auth-token`` so it never shows in the process list.

Rasa 3.6 also waits a hard-coded 300 s for a custom action (``DEFAULT_REQUEST_TIMEOUT``; the
``action_endpoint`` section of endpoints.yml has no timeout key). The gateway gives up on Rasa much
sooner, so a slow action could still finish (a ticket opened) after the customer was told it failed.
The wait is set here to ``KEFU_ACTION_TIMEOUT_SECONDS`` (default 6, below the gateway's
``KEFU_RASA_TIMEOUT_SECONDS``, default 10): Rasa gives up on the action first and answers with
nothing, which the gateway turns into an apology.

Rasa checks every action-server answer with ``jsonschema.validate``, which first validates the
(constant) response schema against its meta-schema: measured with py-spy, that was 30 % of Rasa's CPU
per chat message. The schema is checked once here and one validator is kept for the process.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from kefu.privacy import install_log_masking

TOKEN_ENV = "KEFU_RASA_TOKEN"
ACTION_TIMEOUT_ENV = "KEFU_ACTION_TIMEOUT_SECONDS"
DEFAULT_ACTION_TIMEOUT_SECONDS = 6.0


def action_timeout(environ: dict[str, str] | None = None) -> float:
    env = dict(os.environ) if environ is None else environ
    return float(env.get(ACTION_TIMEOUT_ENV, DEFAULT_ACTION_TIMEOUT_SECONDS))


def patch_action_timeout(seconds: float) -> None:
    # Both modules bind the constant at import: the action call and the HTTP session read it.
    for module in ("rasa.core.actions.action", "rasa.utils.endpoints"):
        vars(importlib.import_module(module))["DEFAULT_REQUEST_TIMEOUT"] = seconds


def patch_action_result_validation() -> None:
    """Validate action-server answers with one prebuilt validator (same errors as Rasa's own check)."""
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)  # once, instead of on every answer
    validator = validator_class(schema)
    original = RemoteAction._validate_action_result

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if best_match(validator.iter_errors(result)) is None:
            return True
        return original(self, result)  # invalid: Rasa's own path builds and raises its error

    RemoteAction._validate_action_result = validate_action_result


def rasa_argv(argv: list[str], environ: dict[str, str] | None = None) -> list[str]:
    """The ``rasa`` command line: ``run`` gets ``--auth-token`` (required) when it enables the API."""
    env = dict(os.environ) if environ is None else environ
    args = list(argv)
    if args[:1] == ["run"] and "--auth-token" not in args:
        token = env.get(TOKEN_ENV, "").strip()
        if "--enable-api" in args and not token:
            raise SystemExit(f"{TOKEN_ENV} is not set: refusing to open Rasa's HTTP API without a token")
        if token:
            args += ["--auth-token", token]
    return ["rasa", *args]


def main() -> None:
    install_log_masking()
    sys.argv = rasa_argv(sys.argv[1:])
    patch_action_timeout(action_timeout())
    patch_action_result_validation()
    from bot.channels.gateway_channel import remember_parses  # imports Rasa: after the masking

    remember_parses()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
