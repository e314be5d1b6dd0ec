"""Pure logic of the public surface: token buckets, client address, replay guard, WeChat AES."""

from __future__ import annotations

import base64

import pytest

from gateway.channels.wechat_crypto import CryptoError, ReplayGuard, WechatCrypto
from gateway.edge import client_host, parse_networks
from gateway.limits import TokenBuckets, retry_after

KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")


def test_bucket_allows_capacity_then_says_how_long_to_wait() -> None:
    now = [0.0]
    buckets = TokenBuckets(3, 60, clock=lambda: now[0])
    assert [buckets.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.hit("a") == pytest.approx(20.0)  # one token per 20 s
    assert buckets.hit("b") == 0.0  # keys are independent
    now[0] = 20.0
    assert buckets.hit("a") == 0.0
    assert retry_after(0.2) == "1" and retry_after(20.01) == "21"


def test_bucket_memory_is_bounded() -> None:
    buckets = TokenBuckets(1, 60, max_keys=10)
    for n in range(1000):
        buckets.hit(f"k{n}")
    assert len(buckets._buckets) == 10


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    proxies = parse_networks(["127.0.0.1", "10.0.0.0/8"])
    assert client_host("203.0.113.5", "1.2.3.4", proxies) == "203.0.113.5"
    assert client_host("127.0.0.1", "1.2.3.4", proxies) == "1.2.3.4"
    assert client_host("127.0.0.1", "6.6.6.6, 1.2.3.4, 10.1.1.1", proxies) == "1.2.3.4"
    assert client_host("127.0.0.1", "1.2.3.4", []) == "127.0.0.1"


def test_replay_guard_window_and_nonces() -> None:
    now = [1_000_000.0]
    guard = ReplayGuard(300, max_nonces=3, clock=lambda: now[0])
    assert guard.fresh("1000000", "n1")
    assert not guard.fresh("1000000", "n1")  # replay
    assert not guard.fresh("999000", "n2")  # too old
    assert not guard.fresh("1001000", "n3")  # too new
    assert not guard.fresh("abc", "n4") and not guard.fresh("-5", "n5")
    for n in range(10):
        assert guard.fresh("1000000", f"m{n}")
    assert len(guard._seen) <= 3


def test_wechat_aes_round_trip_and_appid_check() -> None:
    crypto = WechatCrypto(KEY, "wxappid")
    encrypted = crypto.encrypt("<xml>你好</xml>")
    assert crypto.decrypt(encrypted) == "<xml>你好</xml>"
    with pytest.raises(CryptoError):
        WechatCrypto(KEY, "another").decrypt(encrypted)
    for junk in (
        "",
        "not base64!",
        base64.b64encode(b"x" * 15).decode(),
        base64.b64encode(b"x" * 32).decode(),
    ):
        with pytest.raises(CryptoError):
            crypto.decrypt(junk)
    with pytest.raises(ValueError):
        WechatCrypto("short", "wxappid")
