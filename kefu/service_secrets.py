"""Shared secrets between kefu's internal services, generated once and kept under ``var/secrets/``.

The action server, Rasa's HTTP API and the gateway's input channel each take a secret. An operator
can set them (``KEFU_ACTION_SERVER_TOKEN``, ``KEFU_RASA_TOKEN``, ``KEFU_RASA_CHANNEL_SECRET``);
otherwise the supervisor generates each one on first start into a file only the owner can read
(mode 0600), so a fresh clone is secure without anyone choosing a password. Deleting a file (or
changing the variable) and restarting rotates that secret.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

# Environment variable -> file name under var/secrets/.
SERVICE_SECRETS: dict[str, str] = {
    "KEFU_ACTION_SERVER_TOKEN": "action_server_token",
    "KEFU_RASA_TOKEN": "rasa_token",
    "KEFU_RASA_CHANNEL_SECRET": "rasa_channel_secret",
}
MIN_SECRET_CHARS = 16


def secrets_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "secrets"


def ensure_secret(env_name: str, var_dir: Path, environ: dict[str, str] | None = None) -> str:
    """The secret named ``env_name``: from the environment, else from its file, else newly generated."""
    env = os.environ if environ is None else environ
    given = env.get(env_name, "").strip()
    if given:
        if len(given) < MIN_SECRET_CHARS:
            raise ValueError(f"{env_name} must be at least {MIN_SECRET_CHARS} characters long")
        return given
    folder = secrets_dir(var_dir)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    path = folder / SERVICE_SECRETS[env_name]
    if path.exists():
        stored = path.read_text(encoding="utf-8").strip()
        if len(stored) >= MIN_SECRET_CHARS:
            os.chmod(path, 0o600)
            return stored
        path.unlink()  # empty or truncated: replace it
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def ensure_service_secrets(var_dir: Path, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Every internal secret, as environment variables for the services."""
    return {name: ensure_secret(name, var_dir, environ) for name in SERVICE_SECRETS}


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty expected secret never matches (fail closed)."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
