"""WeChat's callback signatures and message encryption (official account and WeCom alike).

The algorithm, as WeChat publishes it (消息加解密 / WXBizMsgCrypt):
- signature = sha1 of the lexically sorted, concatenated strings: token, timestamp, nonce
  for the official account's handshake, plus the `Encrypt` text for `msg_signature`;
- AESKey = base64(EncodingAESKey + "="), 32 bytes; IV = AESKey[:16]; AES-256-CBC;
- plaintext = 16 random bytes + msg length (4 bytes, big-endian) + msg (UTF-8) + receive_id
  (the appid, or the corpid / suite id for WeCom), PKCS#7-padded to 32-byte blocks (1–32).
There is no MAC inside: check `msg_signature` (which covers the ciphertext) BEFORE decrypting,
and answer every failure the same way, so a caller can not use the padding check as an oracle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.errors import ForbiddenError, InvalidInputError

_BLOCK = 32  # WeChat pads to 32 bytes, not to AES's 16
_KEY_TEXT = re.compile(r"[A-Za-z0-9]{43}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


class SignatureError(ForbiddenError):
    """A callback whose signature or timestamp does not hold (HTTP 403)."""

    code = "wechat_signature"
    message_zh = "微信签名校验失败"

    def __init__(self, reason: str) -> None:
        super().__init__(f"WeChat signature check failed: {reason}")
        self.reason = reason  # "bad_signature" or "stale_timestamp"


class CryptoError(InvalidInputError):
    """An encrypted message that does not decrypt to a well-formed WeChat plaintext."""

    code = "wechat_crypto"
    message_zh = "微信消息解密失败"


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: the sha1 hex digest of the sorted, concatenated parts."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check_signature(
    token: str,
    signature: str,
    timestamp: str,
    nonce: str,
    *,
    encrypted: str | None = None,
    now: float | None = None,
    max_age_s: int = 300,
) -> None:
    """Raise SignatureError unless `signature` signs (token, timestamp, nonce[, encrypted])
    and the timestamp is within `max_age_s` of now (either way: a replay or a forged clock)."""
    parts = (token, timestamp, nonce) if encrypted is None else (token, timestamp, nonce, encrypted)
    expected = sha1_signature(*parts).encode("ascii")
    if not hmac.compare_digest(expected, (signature or "").encode("utf-8")):
        raise SignatureError("bad_signature")
    if not _TIMESTAMP.fullmatch(timestamp or ""):
        raise SignatureError("stale_timestamp")
    clock = time.time() if now is None else now
    if abs(clock - int(timestamp)) > max_age_s:
        raise SignatureError("stale_timestamp")


class MessageCrypto:
    """Encrypts and decrypts one account's callback messages (WXBizMsgCrypt)."""

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        if not token:
            raise ValueError("the WeChat token is empty")
        if not _KEY_TEXT.fullmatch(encoding_aes_key or ""):
            raise ValueError("an EncodingAESKey is 43 letters and digits")
        key = base64.b64decode(encoding_aes_key + "=")
        if len(key) != 32:  # cannot happen for 43 base64 characters; kept as a guard
            raise ValueError("the EncodingAESKey does not decode to 32 bytes")
        self.token = token
        self.receive_id = receive_id
        self._key = key
        self._receive_id = receive_id.encode("utf-8")

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, xml: str) -> str:
        """The base64 ciphertext of `xml` (a fresh random prefix every call)."""
        msg = xml.encode("utf-8")
        plain = secrets.token_bytes(16) + struct.pack(">I", len(msg)) + msg + self._receive_id
        pad = _BLOCK - len(plain) % _BLOCK  # 1..32: a full block when already aligned
        plain += bytes([pad]) * pad
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(plain) + enc.finalize()).decode("ascii")

    def decrypt(self, encrypted_b64: str) -> str:
        """The message inside `encrypted_b64`; CryptoError when it is not one of ours."""
        text = (encrypted_b64 or "").strip()
        if not _B64.fullmatch(text):
            raise CryptoError("the encrypted message is not base64")
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError("the encrypted message is not base64") from exc
        if len(data) < _BLOCK or len(data) % 16:
            raise CryptoError("the encrypted message has a bad length")
        dec = self._cipher().decryptor()
        plain = dec.update(data) + dec.finalize()
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("the decrypted message has bad padding")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise CryptoError("the decrypted message is too short")
        (size,) = struct.unpack(">I", plain[16:20])
        if 20 + size > len(plain):
            raise CryptoError("the message length field points beyond the data")
        msg, receive_id = plain[20 : 20 + size], plain[20 + size :]
        if not hmac.compare_digest(receive_id, self._receive_id):
            raise CryptoError("the message is addressed to another appid / corpid")
        try:
            return msg.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CryptoError("the decrypted message is not UTF-8") from exc

    def check_and_decrypt(
        self,
        msg_signature: str,
        timestamp: str,
        nonce: str,
        encrypted_b64: str,
        *,
        now: float | None = None,
        max_age_s: int = 300,
    ) -> str:
        """Check `msg_signature` over the ciphertext, then decrypt it (a POSTed `Encrypt`,
        or WeCom's `echostr` on the URL check)."""
        check_signature(
            self.token,
            msg_signature,
            timestamp,
            nonce,
            encrypted=encrypted_b64,
            now=now,
            max_age_s=max_age_s,
        )
        return self.decrypt(encrypted_b64)

    def reply(self, xml: str, *, timestamp: str | None = None, nonce: str | None = None) -> str:
        """The encrypted passive reply carrying `xml`, signed with a fresh or given nonce."""
        timestamp = str(int(time.time())) if timestamp is None else timestamp
        nonce = str(secrets.randbelow(10**10)) if nonce is None else nonce
        if not _TIMESTAMP.fullmatch(timestamp):
            raise ValueError("a reply timestamp is digits")
        if not _NONCE.fullmatch(nonce):
            raise ValueError("a reply nonce is letters, digits, '-' or '_'")
        encrypted = self.encrypt(xml)
        signature = sha1_signature(self.token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp>"
            f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )
