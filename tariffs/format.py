"""Chinese phrasing of offers and comparisons for chat replies."""

from __future__ import annotations

from tariffs.catalogue import Comparison, Offer

_BILLING = {"monthly": "元/月", "once": "元/次", "daily": "元/天"}


def money(value: float) -> str:
    """``129.0`` → ``129``, ``9.9`` → ``9.9``."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def gb(value: float) -> str:
    return f"{money(value)}GB"


def price(offer: Offer) -> str:
    return f"{money(offer.monthly_fee)}{_BILLING.get(offer.billing, '元')}"


def offer_line(offer: Offer) -> str:
    """One line: name, price and the main allowances."""
    parts = [price(offer)]
    if offer.data_gb is not None:
        parts.append(f"国内流量{gb(offer.data_gb)}")
    if offer.minutes is not None:
        parts.append(f"通话{offer.minutes}分钟")
    if offer.speed_mbps:
        parts.append(f"{offer.speed_mbps}Mbps")
    if offer.contract_months:
        parts.append(f"合约{offer.contract_months}个月")
    return f"{offer.name}：" + "，".join(parts)


def offer_detail(offer: Offer) -> str:
    lines = [offer_line(offer)]
    if offer.speed and not offer.speed_mbps:
        lines.append(f"网络：{offer.speed}")
    if offer.overage:
        lines.append(f"超出后：{offer.overage}")
    if offer.eligibility:
        lines.append(f"办理条件：{offer.eligibility}")
    lines.append("生效方式：" + ("办理后立即生效" if offer.effective == "immediate" else "次月1日起生效"))
    return "\n".join(lines)


def _diff(value: float, unit: str) -> str:
    if value == 0:
        return "相同"
    return f"{'多' if value > 0 else '少'}{money(abs(value))}{unit}"


def comparison(c: Comparison) -> str:
    """Both offers and what the second gives more or less than the first."""
    lines = [offer_line(c.a), offer_line(c.b), f"对比：{c.b.name}比{c.a.name}"]
    facts = [f"月费{_diff(c.fee_difference, '元')}"]
    if c.data_difference_gb is not None:
        facts.append(f"流量{_diff(c.data_difference_gb, 'GB')}")
    if c.minutes_difference is not None:
        facts.append(f"通话{_diff(c.minutes_difference, '分钟')}")
    lines[-1] += "，".join(facts) + "。"
    return "\n".join(lines)
