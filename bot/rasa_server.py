"""Rasa's process entry point (composition root): log masking first, the API token from the env.

``python -m bot.rasa_server run …`` (run by the supervisor with ``.venv-rasa``) installs
:mod:`kefu.privacy`'s masking on every log record of the Rasa process, tracebacks included, before
Rasa configures its own handlers, then runs the ``rasa`` command line. The HTTP API token
(``KEFU_RASA_TOKEN``) is added here as ``--auth-token`` so it never shows in the process list.
"""

from __future__ import annotations

import os
import sys

from kefu.privacy import install_log_masking

TOKEN_ENV = "KEFU_RASA_TOKEN"


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
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
