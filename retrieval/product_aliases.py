"""Offers named by their aliases: customers say 老人卡, 千兆, 59的那个; the guide and the FAQ say 银龄关爱卡,
千兆宽带, 5G畅享59元套餐. The one alias table is the tariff catalogue (knowledge_base/tariffs.yml, read
through tariffs.catalogue), loaded once per process on first use, so an alias added there reaches the
answers without a second list to keep in step.
"""

from __future__ import annotations

from functools import lru_cache

from tariffs.catalogue import Catalogue


@lru_cache(maxsize=1)
def _catalogue() -> Catalogue:
    return Catalogue.load()


def official_names(text: str) -> list[str]:
    """The official names of the offers `text` names only by an alias (老人卡 -> 银龄关爱卡), in order
    of appearance; an offer already named in full adds nothing."""
    lowered = text.lower()
    return [o.name for o in _catalogue().find_all(text) if o.name.lower() not in lowered]
