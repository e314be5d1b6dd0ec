"""Demo subscriber accounts (``python -m accounts.seed``); running it again changes nothing.

The README lists these numbers so that demos can verify with the code from
``var/sms_outbox.jsonl``.
"""

from __future__ import annotations

import argparse
from datetime import date

from accounts.models import Subscriber
from kefu.db import make_engine, make_session_factory, session_scope
from kefu.settings import get_common_settings
from tariffs.catalogue import CatalogueError, get_catalogue

# phone, name, id_last4, plan name, balance (yuan), data used GB, minutes used, contract end, status, district
DEMO_ACCOUNTS: tuple[tuple[str, str, str, str, float, float, int, date | None, str, str], ...] = (
    (
        "13800138000",
        "张伟",
        "1234",
        "5G畅享129元套餐",
        86.50,
        23.4,
        312,
        date(2027, 6, 30),
        "active",
        "海淀区",
    ),
    ("13900139000", "李娜", "5678", "5G畅享59元套餐", 12.30, 28.9, 150, None, "active", "朝阳区"),
    ("13700137000", "王芳", "2468", "4G轻享39元套餐", -5.20, 4.1, 98, None, "suspended", "丰台区"),
    (
        "13600136000",
        "刘洋",
        "1357",
        "5G尊享199元套餐",
        320.00,
        61.0,
        820,
        date(2027, 12, 31),
        "active",
        "西城区",
    ),
    ("15000150000", "陈静", "9753", "银龄关爱卡", 45.00, 1.2, 260, None, "active", "东城区"),
    ("18600186000", "赵磊", "8642", "青春校园卡", 20.00, 35.5, 60, None, "active", "昌平区"),
)


def seed_demo_accounts(database_url: str | None = None) -> int:
    """Insert the demo accounts that are missing; returns how many were added."""
    url = database_url or get_common_settings().database_url
    engine = make_engine(url)
    try:
        catalogue = get_catalogue()
    except CatalogueError:
        catalogue = None
    added = 0
    try:
        with session_scope(make_session_factory(engine)) as session:
            for (
                phone,
                name,
                last4,
                plan,
                balance,
                used_gb,
                minutes,
                contract_end,
                status,
                district,
            ) in DEMO_ACCOUNTS:
                if session.get(Subscriber, phone) is not None:
                    continue
                offer = catalogue.find(plan) if catalogue else None
                session.add(
                    Subscriber(
                        phone=phone,
                        name=name,
                        id_last4=last4,
                        plan_id=offer.id if offer else plan,
                        balance_fen=round(balance * 100),
                        data_used_mb=round(used_gb * 1024),
                        data_quota_mb=round((offer.data_gb or 0) * 1024) if offer else 0,
                        minutes_used=minutes,
                        minutes_quota=(offer.minutes or 0) if offer else 0,
                        contract_end=contract_end,
                        status=status,
                        district=district,
                    )
                )
                added += 1
    finally:
        engine.dispose()
    return added


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m accounts.seed", description=__doc__)
    parser.add_argument("--url", default=None, help="database URL (default: KEFU_DATABASE_URL)")
    args = parser.parse_args(argv)
    added = seed_demo_accounts(args.url)
    print(f"demo accounts added: {added} (of {len(DEMO_ACCOUNTS)})")


if __name__ == "__main__":
    main()
