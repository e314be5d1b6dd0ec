"""WeChat's message security: replay protection and the AES "safe mode" (WXBizMsgCrypt).

Safe mode, as the Official Account platform specifies it: the EncodingAESKey (43 characters)
is base64 of a 32-byte AES-256 key; the IV is its first 16 bytes. A message is
``random(16) + len(msg) (4 bytes, big-endian) + msg + appid``, PKCS#7-padded to 32 bytes,
AES-256-CBC encrypted and base64-encoded; ``msg_signature`` is sha1 of the sorted token,
timestamp, nonce and ciphertext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class CryptoError(ValueError):
    """A ciphertext that is not ours (bad key, padding, length or AppID)."""


def msg_signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


class WechatCrypto:
    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise ValueError("EncodingAESKey must be 43 characters of base64 (a 32-byte key)")
        self._key = key
        self.app_id = app_id

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, text: str, *, random16: bytes | None = None) -> str:
        body = text.encode()
        plain = (random16 or secrets.token_bytes(16)) + struct.pack(">I", len(body)) + body
        plain += self.app_id.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise CryptoError("not base64") from None
        if not raw or len(raw) % 16:
            raise CryptoError("bad ciphertext length")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad padding")
        content = plain[16:-pad]
        if len(content) < 4:
            raise CryptoError("too short")
        (length,) = struct.unpack(">I", content[:4])
        if length > len(content) - 4:
            raise CryptoError("bad length")
        message, app_id = content[4 : 4 + length], content[4 + length :]
        if not hmac.compare_digest(app_id, self.app_id.encode()):
            raise CryptoError("message is for another AppID")
        try:
            return message.decode()
        except UnicodeDecodeError:
            raise CryptoError("not UTF-8") from None

    def reply_xml(self, reply: str, token: str, *, timestamp: int | None = None) -> str:
        """The encrypted passive reply envelope WeChat expects in safe mode."""
        encrypted = self.encrypt(reply)
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = str(secrets.randbelow(10**10))
        signature = msg_signature(token, stamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{stamp}</TimeStamp><Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )


class ReplayGuard:
    """A signed request is good once, and only within ``window`` seconds of its timestamp.

    Nonces are remembered for twice the window (a timestamp at the window's edge cannot be
    replayed after its nonce is forgotten); at most ``max_nonces`` are kept.
    """

    def __init__(
        self, window: int = 300, max_nonces: int = 100_000, clock: Callable[[], float] = time.time
    ) -> None:
        self.window = window
        self.max_nonces = max_nonces
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def fresh(self, timestamp: str, nonce: str) -> bool:
        """True once for a timestamp within the window and a nonce not seen with it."""
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12 or len(nonce) > 64:
            return False
        now = self._clock()
        if abs(now - int(timestamp)) > self.window:
            return False
        key = f"{timestamp}:{nonce}"
        with self._lock:
            while self._seen:
                oldest, at = next(iter(self._seen.items()))
                if now - at <= 2 * self.window and len(self._seen) < self.max_nonces:
                    break
                del self._seen[oldest]
            if key in self._seen:
                return False
            self._seen[key] = now
            return True
