"""WeChat signatures and message encryption, checked against WeChat's published vectors and an
independent implementation of the published algorithm (written here from the documentation,
on `cryptography`'s primitives, sharing no code with web/wechat/crypto.py)."""

from __future__ import annotations

import base64
import hashlib
import os
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from lxml import etree

from web.wechat.crypto import (
    CryptoError,
    MessageCrypto,
    SignatureError,
    check_signature,
    sha1_signature,
)

# WeCom's documented URL-check sample (加解密方案说明): token, EncodingAESKey, corpid and the
# GET parameters; the echostr decrypts to "1616140317555161061".
WECOM_TOKEN = "QDG6eK"
WECOM_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
WECOM_CORPID = "wx5823bf96d3bd56c7"
WECOM_SIGNATURE = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
WECOM_TIMESTAMP = "1409659589"
WECOM_NONCE = "263014780"
WECOM_ECHOSTR = (
    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
)

APPID = "wx1234567890abcdef"
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
XML = (
    "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]>"
    "</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[企业开办要几天？🙂]]></Content><MsgId>42</MsgId></xml>"
)


# --- the independent implementation, straight from WeChat's description ---
def ref_key(encoding_aes_key: str) -> bytes:
    return base64.b64decode(encoding_aes_key + "=")


def ref_encrypt(encoding_aes_key: str, msg: str, receive_id: str, prefix: bytes) -> str:
    key = ref_key(encoding_aes_key)
    body = msg.encode()
    plain = prefix + len(body).to_bytes(4, "big") + body + receive_id.encode()
    n = 32 - (len(plain) % 32)
    plain = plain + bytes([n] * n)
    e = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(e.update(plain) + e.finalize()).decode()


def ref_decrypt(encoding_aes_key: str, b64: str) -> tuple[bytes, str, str]:
    key = ref_key(encoding_aes_key)
    d = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = d.update(base64.b64decode(b64)) + d.finalize()
    plain = plain[: -plain[-1]]
    size = int.from_bytes(plain[16:20], "big")
    return plain[:16], plain[20 : 20 + size].decode(), plain[20 + size :].decode()


def raw_encrypt(encoding_aes_key: str, plain: bytes) -> str:
    """Encrypt arbitrary bytes (already block-aligned) the WeChat way: for malformed inputs."""
    key = ref_key(encoding_aes_key)
    e = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(e.update(plain) + e.finalize()).decode()


# --- signatures ---
def test_signature_known_vectors():
    # the official account's plaintext-mode example (消息加解密说明, 接入指引)
    assert (
        sha1_signature("AAAAA", "1714037059", "486452656")
        == "899cf89e464efb63f54ddac96b0a0a235f53aa78"
    )
    assert (
        sha1_signature(WECOM_TOKEN, WECOM_TIMESTAMP, WECOM_NONCE, WECOM_ECHOSTR) == WECOM_SIGNATURE
    )
    # order of the arguments does not matter: they are sorted
    assert sha1_signature("b", "a", "c") == hashlib.sha1(b"abc").hexdigest()


def test_check_signature_accepts_and_refuses():
    sig = "899cf89e464efb63f54ddac96b0a0a235f53aa78"
    check_signature("AAAAA", sig, "1714037059", "486452656", now=1714037059 + 299)
    with pytest.raises(SignatureError) as e:
        check_signature("AAAAB", sig, "1714037059", "486452656", now=1714037059)
    assert e.value.reason == "bad_signature"
    with pytest.raises(SignatureError) as e:
        check_signature("AAAAA", sig[:-1] + "9", "1714037059", "486452656", now=1714037059)
    assert e.value.reason == "bad_signature"
    with pytest.raises(SignatureError) as e:  # non-ASCII signature text: refused, no TypeError
        check_signature("AAAAA", "签名", "1714037059", "486452656", now=1714037059)
    assert e.value.reason == "bad_signature"
    # msg_signature covers the ciphertext too
    check_signature(
        WECOM_TOKEN,
        WECOM_SIGNATURE,
        WECOM_TIMESTAMP,
        WECOM_NONCE,
        encrypted=WECOM_ECHOSTR,
        now=int(WECOM_TIMESTAMP),
    )
    with pytest.raises(SignatureError):
        check_signature(
            WECOM_TOKEN,
            WECOM_SIGNATURE,
            WECOM_TIMESTAMP,
            WECOM_NONCE,
            encrypted=WECOM_ECHOSTR[:-4] + "AAA=",
            now=int(WECOM_TIMESTAMP),
        )


@pytest.mark.parametrize("offset", [301, -301, 86400])
def test_stale_and_future_timestamps(offset):
    ts = "1700000000"
    sig = sha1_signature("tok", ts, "n1")
    check_signature("tok", sig, ts, "n1", now=1700000000 + 300)
    with pytest.raises(SignatureError) as e:
        check_signature("tok", sig, ts, "n1", now=1700000000 + offset)
    assert e.value.reason == "stale_timestamp"


@pytest.mark.parametrize("ts", ["", "abc", "1.7e9", "-1700000000", "１７００", " 1700000000"])
def test_garbage_timestamps(ts):
    sig = sha1_signature("tok", ts, "n1")  # a correct signature over a garbage timestamp
    with pytest.raises(SignatureError) as e:
        check_signature("tok", sig, ts, "n1", now=1700000000)
    assert e.value.reason == "stale_timestamp"


def test_signature_error_is_a_403_in_the_error_tree():
    from bot.errors import ForbiddenError, InvalidInputError

    assert issubclass(SignatureError, ForbiddenError)
    assert issubclass(CryptoError, InvalidInputError)


# --- AES ---
def test_wecom_sample_vector_decrypts():
    crypto = MessageCrypto(WECOM_TOKEN, WECOM_KEY, WECOM_CORPID)
    assert crypto.decrypt(WECOM_ECHOSTR) == "1616140317555161061"
    assert (
        crypto.check_and_decrypt(
            WECOM_SIGNATURE, WECOM_TIMESTAMP, WECOM_NONCE, WECOM_ECHOSTR, now=1409659600
        )
        == "1616140317555161061"
    )
    with pytest.raises(SignatureError):  # the sample is from 2014: stale today
        crypto.check_and_decrypt(WECOM_SIGNATURE, WECOM_TIMESTAMP, WECOM_NONCE, WECOM_ECHOSTR)
    # the same ciphertext for another corp is refused
    with pytest.raises(CryptoError, match="another appid"):
        MessageCrypto(WECOM_TOKEN, WECOM_KEY, "wwother").decrypt(WECOM_ECHOSTR)


def test_reference_encrypts_module_decrypts():
    crypto = MessageCrypto("tok", KEY, APPID)
    for msg in (XML, "", "x" * 11, "y" * 12, "长" * 1000):  # incl. plaintexts ending aligned
        enc = ref_encrypt(KEY, msg, APPID, os.urandom(16))
        assert crypto.decrypt(enc) == msg


def test_module_encrypts_reference_decrypts():
    crypto = MessageCrypto("tok", KEY, APPID)
    prefixes = set()
    for msg in (XML, "", "z" * 12, "字" * 500):
        enc = crypto.encrypt(msg)
        raw = base64.b64decode(enc)
        assert len(raw) % 32 == 0  # WeChat's 32-byte padding, not AES's 16
        prefix, plain, receive_id = ref_decrypt(KEY, enc)
        assert (plain, receive_id) == (msg, APPID)
        prefixes.add(prefix)
    assert len(prefixes) == 4  # a fresh random prefix each time


def test_full_block_of_padding_when_aligned():
    crypto = MessageCrypto("tok", KEY, APPID)
    # 16 + 4 + len(msg) + 18 (appid) == 64: aligned, so a whole block of 32 bytes is added
    msg = "m" * 26
    key = ref_key(KEY)
    d = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = d.update(base64.b64decode(crypto.encrypt(msg))) + d.finalize()
    assert len(plain) == 96 and plain[-32:] == bytes([32]) * 32


def test_reply_is_signed_and_decrypts():
    crypto = MessageCrypto("tok", KEY, APPID)
    out = crypto.reply(XML, timestamp="1700000000", nonce="abc123")
    root = etree.fromstring(out.encode())
    assert [c.tag for c in root] == ["Encrypt", "MsgSignature", "TimeStamp", "Nonce"]
    enc, sig = root.findtext("Encrypt"), root.findtext("MsgSignature")
    assert root.findtext("TimeStamp") == "1700000000" and root.findtext("Nonce") == "abc123"
    assert (
        sig
        == hashlib.sha1("".join(sorted(["tok", "1700000000", "abc123", enc])).encode()).hexdigest()
    )
    assert ref_decrypt(KEY, enc)[1:] == (XML, APPID)
    fresh = etree.fromstring(crypto.reply("<xml/>").encode())
    check_signature(
        "tok",
        fresh.findtext("MsgSignature"),
        fresh.findtext("TimeStamp"),
        fresh.findtext("Nonce"),
        encrypted=fresh.findtext("Encrypt"),
    )
    with pytest.raises(ValueError):
        crypto.reply(XML, nonce="]]><evil/>")


def test_tampered_ciphertext_is_refused():
    crypto = MessageCrypto("tok", KEY, APPID)
    raw = bytearray(base64.b64decode(crypto.encrypt(XML)))
    raw[-1] ^= 0x01  # the last block decrypts to garbage: padding breaks
    with pytest.raises(CryptoError):
        crypto.decrypt(base64.b64encode(bytes(raw)).decode())
    raw = bytearray(base64.b64decode(crypto.encrypt(XML)))
    raw[2] ^= 0x01  # flips bits of the length field's block too: length or appid wrong
    with pytest.raises(CryptoError):
        crypto.decrypt(base64.b64encode(bytes(raw)).decode())


def test_wrong_appid_and_wrong_key_are_refused():
    enc = ref_encrypt(KEY, XML, "wxsomeoneelse00000", os.urandom(16))
    with pytest.raises(CryptoError, match="another appid"):
        MessageCrypto("tok", KEY, APPID).decrypt(enc)
    other = MessageCrypto("tok", "B" * 43, APPID)
    with pytest.raises(CryptoError):
        other.decrypt(ref_encrypt(KEY, XML, APPID, os.urandom(16)))


def test_malformed_plaintexts_are_refused():
    crypto = MessageCrypto("tok", KEY, APPID)
    body = os.urandom(16) + struct.pack(">I", 3) + b"abc" + APPID.encode()  # 41 bytes
    with pytest.raises(CryptoError, match="padding"):  # pad byte 0
        crypto.decrypt(raw_encrypt(KEY, body + b"\x00" * 23))
    with pytest.raises(CryptoError, match="padding"):  # pad byte 33 > 32
        crypto.decrypt(raw_encrypt(KEY, body + bytes([33]) * 23))
    with pytest.raises(CryptoError, match="padding"):  # inconsistent padding bytes
        crypto.decrypt(raw_encrypt(KEY, body + b"\x01" * 22 + bytes([23])))
    long = os.urandom(16) + struct.pack(">I", 10_000) + b"abc" + APPID.encode()
    with pytest.raises(CryptoError, match="length"):
        crypto.decrypt(raw_encrypt(KEY, long + bytes([23]) * 23))
    bad_utf8 = os.urandom(16) + struct.pack(">I", 2) + b"\xff\xfe" + APPID.encode()
    with pytest.raises(CryptoError, match="UTF-8"):
        crypto.decrypt(raw_encrypt(KEY, bad_utf8 + bytes([24]) * 24))
    assert crypto.decrypt(raw_encrypt(KEY, body + bytes([23]) * 23)) == "abc"


@pytest.mark.parametrize(
    "text",
    ["", "not base64!", "QUJD", "QUJDRA==" * 3, base64.b64encode(b"x" * 40).decode(), "%%%%"],
)
def test_bad_base64_or_length_is_refused(text):
    with pytest.raises(CryptoError) as e:
        MessageCrypto("tok", KEY, APPID).decrypt(text)
    assert "Traceback" not in str(e.value) and e.value.message


@pytest.mark.parametrize("key", ["", "short", "a" * 42, "a" * 44, "a" * 42 + "!", "a" * 42 + "="])
def test_bad_key_is_a_value_error(key):
    with pytest.raises(ValueError):
        MessageCrypto("tok", key, APPID)


def test_any_tampering_is_caught_by_the_signature_before_decryption():
    # CBC has no integrity of its own: a flipped bit inside the message may still decrypt.
    # msg_signature covers the ciphertext, so check_and_decrypt refuses it unread.
    crypto = MessageCrypto("tok", KEY, APPID)
    out = etree.fromstring(crypto.reply("<xml>" + "abcd" * 40 + "</xml>", nonce="n1").encode())
    enc, ts, sig = out.findtext("Encrypt"), out.findtext("TimeStamp"), out.findtext("MsgSignature")
    raw = bytearray(base64.b64decode(enc))
    raw[10] ^= 0x01  # garbles the random prefix, flips one bit of the message's 7th byte
    tampered = base64.b64encode(bytes(raw)).decode()
    assert crypto.decrypt(tampered) != crypto.decrypt(enc)  # decrypts (garbled) ...
    with pytest.raises(SignatureError):  # ... but never gets that far through the check
        crypto.check_and_decrypt(sig, ts, "n1", tampered)
    assert crypto.check_and_decrypt(sig, ts, "n1", enc).startswith("<xml>abcd")
