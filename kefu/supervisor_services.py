"""The three services ``make run`` starts: their command lines, environment, ports and readiness.

:func:`build_services` turns the settings into :class:`Service` specs (argv, address, health
path); :func:`service_env` is the environment they run in; :func:`service_ready` is the real
readiness check the supervisor waits for.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from kefu.health_probes import actions_ready, http_status, rasa_ready
from kefu.service_secrets import ensure_service_secrets
from kefu.settings import REPO_ROOT, CommonSettings


@dataclass
class Service:
    name: str
    argv: list[str]
    host: str
    port: int
    health_path: str
    # Health answers that count as "up" (the gateway's /healthz is 503 until the others are up).
    healthy_codes: tuple[int, ...] = (200,)
    startup_timeout: float = 600.0  # Rasa loads its model in ~1 min, several on a busy 2-core machine
    env: dict[str, str] = field(default_factory=dict)  # on top of the shared one (a cluster's replicas)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def health_url(self) -> str:
        return f"http://{self.host}:{self.port}{self.health_path}"


def _host_port(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 80


def inference_thread_env(threads: int) -> dict[str, str]:
    """Rasa's thread pools: OpenMP (oneDNN, numpy) and TensorFlow's own.

    Measured in-process on 2 cores: the default pools spin while idle and cost twice the CPU of
    the parse itself (28.7 ms CPU for 14.5 ms wall); one thread each parses in 15 ms CPU and wall.
    """
    n = str(threads)
    return {"OMP_NUM_THREADS": n, "TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": n}


def build_services(settings: CommonSettings, root: Path = REPO_ROOT) -> list[Service]:
    rasa_host, rasa_port = _host_port(settings.rasa_url)
    act_host, act_port = _host_port(settings.action_server_url)
    rasa_python = root / ".venv-rasa" / "bin" / "python"
    python = root / ".venv" / "bin" / "python"
    return [
        Service(
            "actions",
            # actions.server: rasa-sdk behind the shared token, on the configured (loopback) interface.
            [str(python), "-m", "actions.server", "--host", act_host, "--port", str(act_port)],
            act_host,
            act_port,
            "/health",
        ),
        Service(
            "rasa",
            [
                # bot.rasa_server: log masking, then `rasa run` with --auth-token from KEFU_RASA_TOKEN.
                str(rasa_python),
                "-m",
                "bot.rasa_server",
                "run",
                "--enable-api",
                "--model",
                str(root / "models"),
                "--endpoints",
                str(root / "bot" / "endpoints.yml"),
                "--credentials",
                str(root / "bot" / "credentials.yml"),
                "--interface",
                rasa_host,
                "--port",
                str(rasa_port),
            ],
            rasa_host,
            rasa_port,
            # "/" needs no token and answers only once the model is loaded (before_server_start).
            "/",
            startup_timeout=600.0,  # loading the model takes minutes on a busy machine
            env=inference_thread_env(settings.rasa_threads),
        ),
        Service(
            "gateway",
            [
                str(python),
                "-m",
                "uvicorn",
                "gateway.main:create_app",
                "--factory",
                "--host",
                settings.gateway_host,
                "--port",
                str(settings.gateway_port),
                "--no-access-log",
                *("--no-proxy-headers", "--ws-max-size", "1048576"),  # XFF: see gateway.edge
            ],
            settings.gateway_host,
            settings.gateway_port,
            "/healthz",
            healthy_codes=(200, 503),
        ),
    ]


def service_env(settings: CommonSettings) -> dict[str, str]:
    """Environment of the services: offline model loading, shared paths, URLs and secrets.

    Each internal secret is the one configured (``settings``/environment) or, when unset, the one
    generated once under ``var/secrets/`` (see :mod:`kefu.service_secrets`).
    """
    env = dict(os.environ)
    configured = {
        "KEFU_ACTION_SERVER_TOKEN": settings.action_server_token.get_secret_value(),
        "KEFU_RASA_TOKEN": settings.rasa_token.get_secret_value(),
        "KEFU_RASA_CHANNEL_SECRET": settings.rasa_channel_secret.get_secret_value(),
    }
    env.update({k: v for k, v in configured.items() if v})
    env.update(ensure_service_secrets(Path(settings.var_dir), env))
    env.update(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "KEFU_VAR_DIR": str(settings.var_dir),
            "KEFU_DATABASE_URL": settings.database_url,
            "KEFU_RASA_URL": settings.rasa_url,
            "KEFU_ACTION_SERVER_URL": settings.action_server_url,
            "KEFU_GATEWAY_HOST": settings.gateway_host,
            "KEFU_GATEWAY_PORT": str(settings.gateway_port),
            "KEFU_RASA_TRACKER_URL": settings.rasa_tracker_url,
            "KEFU_RASA_LOCK_STORE_URL": settings.rasa_lock_store_url,
        }
    )
    return env


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def service_ready(service: Service, env: Mapping[str, str]) -> tuple[bool, str]:
    """Whether ``service`` is really ready (warm), with a short reason for the log and /healthz.

    ``env`` is the services' environment: the probes authenticate like Rasa and the gateway do.
    """
    base = f"http://{service.host}:{service.port}"
    if service.name == "rasa":
        return rasa_ready(base, env.get("KEFU_RASA_TOKEN", ""))
    if service.name == "actions":
        return actions_ready(base, env.get("KEFU_ACTION_SERVER_TOKEN", ""))
    status = http_status(service.health_url)
    return status in service.healthy_codes, "not answering" if status is None else f"HTTP {status}"
