"""What the bot says about an account: the summary of plan, balance, usage and pending changes."""

from __future__ import annotations

from accounts.service import AccountSummary
from kefu.privacy import mask_phone
from tariffs import format as fmt


def summary_text(s: AccountSummary) -> str:
    lines = [
        f"{mask_phone(s.phone)}的账户信息：",
        f"· 当前套餐：{s.plan_name}（{fmt.money(s.monthly_fee)}元/月）",
        f"· 账户余额：{s.balance_yuan:.2f}元" + ("（已欠费，请及时充值）" if s.balance_yuan < 0 else ""),
        f"· 本月流量：已用{fmt.gb(s.data_used_gb)}，剩余{fmt.gb(s.data_left_gb)}",
        f"· 本月通话：已用{s.minutes_used}分钟，剩余{s.minutes_left}分钟",
    ]
    if s.contract_end:
        lines.append(f"· 合约到期：{s.contract_end:%Y年%m月%d日}")
    if s.status != "active":
        lines.append(
            "· 号码状态：停机（欠费停机，充值后自动恢复）"
            if s.status == "suspended"
            else f"· 号码状态：{s.status}"
        )
    lines += [f"· 待生效：{p.offer_name}，{p.effective_date:%Y年%m月%d日}起生效" for p in s.pending]
    return "\n".join(lines)
