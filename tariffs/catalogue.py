"""The tariff catalogue (``knowledge_base/tariffs.yml``): load and validate once, then query.

Answers to "cheapest 5G plan", "plans with at least 30 GB" and "compare A and B" come
from this table, never from free text, so prices quoted in chat match the catalogue.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kefu.settings import REPO_ROOT

DEFAULT_PATH = REPO_ROOT / "knowledge_base" / "tariffs.yml"

Kind = Literal["mobile_5g", "mobile_4g", "broadband", "bundle", "addon_data", "addon_voice", "roaming", "iot"]
PLAN_KINDS: tuple[str, ...] = ("mobile_5g", "mobile_4g", "broadband", "bundle", "iot")
ADDON_KINDS: tuple[str, ...] = ("addon_data", "addon_voice", "roaming")


class CatalogueError(ValueError):
    """The catalogue file is missing or does not match the schema."""


class Offer(BaseModel):
    """One plan, add-on or pack, exactly as the catalogue describes it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    kind: Kind
    monthly_fee: float
    billing: Literal["monthly", "once", "daily"] = "monthly"
    data_gb: float | None = None
    minutes: int | None = None
    speed: str | None = None
    speed_mbps: int | None = None
    contract_months: int = 0
    eligibility: str = ""
    effective: Literal["next_cycle", "immediate"] = "next_cycle"
    overage: str = ""
    notes: str = ""

    @property
    def is_plan(self) -> bool:
        return self.kind in PLAN_KINDS

    @property
    def is_addon(self) -> bool:
        return self.kind in ADDON_KINDS


class _CatalogueFile(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: str | float
    offers: list[Offer]
    guide_section: str = ""
    guide_title: str = ""


def _key(text: str) -> str:
    return re.sub(r"[\s　·•\-_（）()【】]", "", text).lower()


@dataclass(frozen=True)
class Comparison:
    a: Offer
    b: Offer
    fee_difference: float  # b - a
    data_difference_gb: float | None
    minutes_difference: int | None


class Catalogue:
    """All offers, indexed by id, name and alias."""

    def __init__(
        self, offers: list[Offer], version: str = "", citation: dict[str, str] | None = None
    ) -> None:
        self.offers = list(offers)
        self.version = version
        self.citation = citation or {}  # {"section", "title"} of the guide, as a policy answer cites it
        self._by_key: dict[str, Offer] = {}
        ids = set()
        for offer in self.offers:
            if offer.id in ids:
                raise CatalogueError(f"duplicate offer id {offer.id!r}")
            ids.add(offer.id)
            for key in (offer.id, offer.name, *offer.aliases):
                self._by_key.setdefault(_key(key), offer)

    @classmethod
    def load(cls, path: Path | None = None) -> Catalogue:
        path = path or DEFAULT_PATH
        try:
            raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise CatalogueError(f"tariff catalogue not found: {path}") from exc
        except yaml.YAMLError as exc:
            raise CatalogueError(f"tariff catalogue {path} is not valid YAML: {exc}") from exc
        try:
            parsed = _CatalogueFile.model_validate(raw)
        except ValidationError as exc:
            raise CatalogueError(f"tariff catalogue {path} does not match the schema: {exc}") from exc
        section, title = parsed.guide_section, parsed.guide_title
        citation = {"section": section, "title": title} if section else None
        return cls(parsed.offers, str(parsed.version), citation)

    def get(self, offer_id: str) -> Offer | None:
        return next((o for o in self.offers if o.id == offer_id), None)

    def find(self, name_or_alias: str) -> Offer | None:
        """Exact id/name/alias first, then the longest name or alias contained in the text."""
        key = _key(name_or_alias)
        if not key:
            return None
        if key in self._by_key:
            return self._by_key[key]
        best: tuple[int, Offer] | None = None
        for candidate, offer in self._by_key.items():
            if len(candidate) >= 2 and candidate in key and (best is None or len(candidate) > best[0]):
                best = (len(candidate), offer)
        return best[1] if best else None

    def find_all(self, text: str) -> list[Offer]:
        """Every distinct offer mentioned in ``text``, in order of appearance."""
        key = _key(text)
        found: list[tuple[int, int, Offer]] = []
        for candidate, offer in self._by_key.items():
            pos = key.find(candidate)
            if len(candidate) >= 2 and pos >= 0:
                found.append((pos, -len(candidate), offer))
        result: list[Offer] = []
        covered: list[tuple[int, int]] = []
        for pos, neg_len, offer in sorted(found, key=lambda t: (t[0], t[1])):
            end = pos - neg_len
            if any(s <= pos < e for s, e in covered) or offer in result:
                continue
            covered.append((pos, end))
            result.append(offer)
        return result

    def filter(
        self,
        *,
        kind: str | tuple[str, ...] | None = None,
        min_data_gb: float | None = None,
        max_fee: float | None = None,
        min_minutes: int | None = None,
    ) -> list[Offer]:
        """Offers meeting every given condition, cheapest first."""
        kinds = (kind,) if isinstance(kind, str) else kind
        result = [
            o
            for o in self.offers
            if (kinds is None or o.kind in kinds)
            and (min_data_gb is None or (o.data_gb is not None and o.data_gb >= min_data_gb))
            and (max_fee is None or o.monthly_fee <= max_fee)
            and (min_minutes is None or (o.minutes is not None and o.minutes >= min_minutes))
        ]
        return sorted(result, key=lambda o: (o.monthly_fee, o.name))

    def cheapest(self, kind: str | tuple[str, ...]) -> Offer | None:
        offers = self.filter(kind=kind)
        return offers[0] if offers else None

    def compare(self, a: str | Offer, b: str | Offer) -> Comparison:
        """Side-by-side difference of two offers; unknown names raise KeyError."""
        first = a if isinstance(a, Offer) else self.find(a)
        second = b if isinstance(b, Offer) else self.find(b)
        if first is None or second is None:
            raise KeyError(a if first is None else b)
        data = (
            second.data_gb - first.data_gb
            if first.data_gb is not None and second.data_gb is not None
            else None
        )
        minutes = (
            second.minutes - first.minutes
            if first.minutes is not None and second.minutes is not None
            else None
        )
        return Comparison(first, second, second.monthly_fee - first.monthly_fee, data, minutes)

    def recommend(
        self,
        *,
        data_gb: float | None = None,
        minutes: int | None = None,
        budget: float | None = None,
        kind: tuple[str, ...] = ("mobile_5g", "mobile_4g"),
    ) -> list[Offer]:
        """Cheapest monthly plans covering the stated usage within the budget (at most three)."""
        return self.filter(kind=kind, min_data_gb=data_gb, min_minutes=minutes, max_fee=budget)[:3]


_lock = threading.Lock()
_cache: dict[Path, tuple[float, Catalogue]] = {}


def get_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue, loaded once per process and reloaded only when the file changes."""
    if path is None:
        from tariffs.settings import TariffSettings

        path = TariffSettings().path
    mtime = path.stat().st_mtime if path.exists() else -1.0
    with _lock:
        cached = _cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        catalogue = Catalogue.load(path)
        _cache[path] = (mtime, catalogue)
        return catalogue
