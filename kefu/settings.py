"""Settings shared by every kefu process, read from ``KEFU_*`` environment variables.

Each subsystem keeps its own settings class next to its code (``retrieval.settings``,
``tickets.settings``, ``gateway.settings``); this one holds only what they all need:
where data lives, the database, and where the three services listen.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class CommonSettings(BaseSettings):
    """Paths and service addresses; every field can be overridden by ``KEFU_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="KEFU_", extra="ignore")

    var_dir: Path = Field(
        default=REPO_ROOT / "var",
        description="Runtime data: databases, index, logs (default: var/ in the repository).",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the kefu database; empty means sqlite under var_dir.",
    )
    rasa_url: str = Field(default="http://127.0.0.1:5005", description="Rasa server.")
    rasa_tracker_url: str = Field(
        default="",
        description="Database URL of Rasa's tracker store; empty means sqlite var_dir/rasa_tracker.db. "
        "PostgreSQL (postgresql://…) when several Rasa replicas share conversations.",
    )
    rasa_lock_store_url: str = Field(
        default="",
        description="Rasa's lock store: empty keeps locks in memory (one replica); redis://… for a cluster.",
    )
    rasa_threads: int = Field(
        default=1,
        ge=1,
        description="Threads per NLU/policy inference in Rasa (OpenMP, TensorFlow). With 1, idle OpenMP "
        "threads stop spin-waiting and the CPU per message halves; concurrent chats keep the cores busy.",
    )
    action_server_url: str = Field(default="http://127.0.0.1:5055", description="Rasa action server.")
    gateway_host: str = Field(default="127.0.0.1", description="Interface the gateway binds.")
    gateway_port: int = Field(default=8000, description="Port of the gateway (web chat, APIs).")
    log_level: str = Field(default="INFO", description="Log level of kefu's own loggers.")
    # Shared secrets of the internal services (kefu.service_secrets generates them when unset).
    action_server_token: SecretStr = Field(
        default=SecretStr(""), description="Token Rasa sends to the action server (?token=…)."
    )
    rasa_token: SecretStr = Field(
        default=SecretStr(""), description="Token of Rasa's HTTP API (rasa run --auth-token)."
    )
    rasa_channel_secret: SecretStr = Field(
        default=SecretStr(""), description="Header secret of the gateway's input channel into Rasa."
    )

    @model_validator(mode="after")
    def _default_database(self) -> CommonSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'kefu.db'}"
        if not self.rasa_tracker_url:
            self.rasa_tracker_url = f"sqlite:///{Path(self.var_dir).resolve() / 'rasa_tracker.db'}"
        return self

    @property
    def gateway_url(self) -> str:
        return f"http://{self.gateway_host}:{self.gateway_port}"


@lru_cache(maxsize=1)
def get_common_settings() -> CommonSettings:
    """The process-wide settings (tests build their own ``CommonSettings`` instead)."""
    return CommonSettings()
