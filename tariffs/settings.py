"""Where the tariff catalogue lives (``KEFU_TARIFFS_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from kefu.settings import REPO_ROOT


class TariffSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEFU_TARIFFS_", extra="ignore")

    path: Path = Field(
        default=REPO_ROOT / "knowledge_base" / "tariffs.yml",
        description="The tariff catalogue (YAML) that prices, comparisons and plan changes come from.",
    )
