"""The action server process (composition root): rasa-sdk's app behind a shared-secret check.

``python -m actions.server`` is what the supervisor runs. rasa-sdk itself accepts any caller, and
every account action acts for a subscriber, so this launcher binds loopback by default and refuses
every request (401) that does not carry the token Rasa sends from ``bot/endpoints.yml``
(``?token=…``, ``KEFU_ACTION_SERVER_TOKEN``). ``/health`` stays open for the supervisor and says
nothing but "ok".
"""

from __future__ import annotations

import argparse
import logging
from urllib.parse import urlparse

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.metrics import ActionMetrics
from kefu.logging_setup import configure_logging
from kefu.service_secrets import secret_matches
from kefu.settings import get_common_settings

log = logging.getLogger(__name__)

TOKEN_NAME = "token"  # rasa.utils.endpoints.EndpointConfig's default token_name
OPEN_PATHS = frozenset({"/health"})


def build_app(token: str, actions_package: str = "actions") -> Sanic:
    """rasa-sdk's Sanic app with every action of ``actions_package``, guarded by ``token``."""
    if not token:
        raise ValueError("the action server needs a token (KEFU_ACTION_SERVER_TOKEN)")
    executor = ActionExecutor()
    executor.register_package(actions_package)
    app: Sanic = create_app(executor, cors_origins=[])

    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if secret_matches(request.args.get(TOKEN_NAME), token):
            return None
        return response.json({"error": "unauthorized"}, status=401)

    app.register_middleware(require_token, "request")
    ActionMetrics().install(app)  # /metrics, behind the same token
    return app


def main(argv: list[str] | None = None) -> None:
    settings = get_common_settings()
    url = urlparse(settings.action_server_url)
    parser = argparse.ArgumentParser(prog="python -m actions.server", description=__doc__)
    parser.add_argument("--host", default=url.hostname or "127.0.0.1", help="interface (default: loopback)")
    parser.add_argument("--port", type=int, default=url.port or 5055)
    args = parser.parse_args(argv)
    configure_logging(settings.log_level)
    token = settings.action_server_token.get_secret_value()
    app = build_app(token)
    log.info("action server on http://%s:%s (token required)", args.host, args.port)
    app.run(host=args.host, port=args.port, access_log=False, single_process=True, motd=False)


if __name__ == "__main__":
    main()
