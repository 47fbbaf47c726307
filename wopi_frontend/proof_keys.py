"""WOPI proof keys: checking that a request really comes from the WOPI client (Office for the web, Collabora
Online, ONLYOFFICE), which signs every request with the private half of the key its discovery XML publishes.

Pure functions only: importing the public keys from discovery, building the bytes that were signed, and the
verdict on a request's X-WOPI-Proof / X-WOPI-ProofOld / X-WOPI-TimeStamp headers. `proof_check.py` applies
them to requests.

The signed bytes (all integers big-endian):
    [int32 len(token)][token, UTF-8][int32 len(URL)][URL upper-cased, UTF-8][int32 8][int64 timestamp]
where the URL is the full request URL with its query string, and the timestamp is in .NET ticks.
"""

from __future__ import annotations

import base64
import binascii
import enum
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

TICKS_PER_SECOND = 10_000_000
TICKS_AT_UNIX_EPOCH = 621_355_968_000_000_000  # 1970-01-01T00:00:00Z in .NET ticks (100 ns since 0001-01-01)
MAX_AGE_SECONDS = 20 * 60  # WOPI: refuse a timestamp more than 20 minutes old
MIN_KEY_BITS = 1024  # the validator's dummy keys are 1024 bits; Office's and Collabora's are 2048

# A .NET CSP public key blob (the discovery's `value` / `oldvalue`): BLOBHEADER, then RSAPUBKEY, then the
# modulus, all little-endian.
_PUBLICKEYBLOB = 0x06
_RSA1 = b"RSA1"


class ProofKeyError(ValueError):
    """A proof key in the discovery XML that cannot be imported."""


@dataclass(frozen=True)
class ProofKeySet:
    """The WOPI client's current public key and, while it rotates keys, the previous one."""

    current: rsa.RSAPublicKey
    old: rsa.RSAPublicKey | None = None


class Verdict(enum.Enum):
    VALID = "valid"  # X-WOPI-Proof verifies with the current key
    VALID_ROTATED = "valid with a rotated key"  # accepted, but the keys are rotating: re-read discovery
    INVALID = "invalid"


def _b64_integer(text: str, what: str) -> int:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ProofKeyError(f"{what} is not base64") from None
    if not raw:
        raise ProofKeyError(f"{what} is empty")
    return int.from_bytes(raw, "big")


def _checked(numbers: rsa.RSAPublicNumbers) -> rsa.RSAPublicKey:
    try:
        key = numbers.public_key()
    except ValueError as error:
        raise ProofKeyError(f"not an RSA public key: {error}") from None
    if key.key_size < MIN_KEY_BITS:
        raise ProofKeyError(f"the RSA key has {key.key_size} bits, fewer than {MIN_KEY_BITS}")
    return key


def public_key(modulus: str, exponent: str) -> rsa.RSAPublicKey:
    """A key from the discovery's `modulus` and `exponent` (base64 of big-endian integers)."""
    return _checked(rsa.RSAPublicNumbers(_b64_integer(exponent, "exponent"), _b64_integer(modulus, "modulus")))


def public_key_from_csp_blob(value: str) -> rsa.RSAPublicKey:
    """A key from the discovery's `value` (a .NET CSP PUBLICKEYBLOB, base64), for discoveries without modulus."""
    try:
        blob = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ProofKeyError("value is not base64") from None
    if len(blob) < 20 or blob[0] != _PUBLICKEYBLOB or blob[8:12] != _RSA1:
        raise ProofKeyError("value is not a CSP RSA public key blob")
    bits, exponent = struct.unpack_from("<II", blob, 12)
    modulus = blob[20 : 20 + bits // 8]
    if bits % 8 or len(modulus) != bits // 8:
        raise ProofKeyError("the CSP blob's modulus is truncated")
    return _checked(rsa.RSAPublicNumbers(exponent, int.from_bytes(modulus, "little")))


def key_from_attributes(attributes: dict[str, str], prefix: str = "") -> rsa.RSAPublicKey | None:
    """The key of a `<proof-key>` element (`prefix` "old" for the previous key); None when it has none."""
    modulus, exponent = attributes.get(prefix + "modulus"), attributes.get(prefix + "exponent")
    if modulus and exponent:
        return public_key(modulus, exponent)
    blob = attributes.get(prefix + "value")
    return public_key_from_csp_blob(blob) if blob else None


def signed_bytes(access_token: str, url: str, timestamp: int) -> bytes:
    """What the client signed. The URL is upper-cased as .NET's ToUpperInvariant does; request URLs are ASCII on
    the wire (percent-encoded), where that equals Python's upper()."""
    token = access_token.encode("utf-8")
    address = url.upper().encode("utf-8")
    return b"".join(
        (
            struct.pack(">i", len(token)),
            token,
            struct.pack(">i", len(address)),
            address,
            struct.pack(">i", 8),
            struct.pack(">q", timestamp),
        )
    )


def signature_matches(key: rsa.RSAPublicKey, signature_b64: str | None, data: bytes) -> bool:
    """RSA PKCS#1 v1.5 with SHA-256, as every WOPI client signs."""
    if not signature_b64:
        return False
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
        key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def verify(
    keys: ProofKeySet,
    *,
    access_tokens: Iterable[str],
    url: str,
    timestamp: int,
    proof: str | None,
    proof_old: str | None,
) -> Verdict:
    """The verdict on a request's proofs, freshness aside. Accepted (WOPI proof keys, the three combinations):
    X-WOPI-Proof with the current key; X-WOPI-ProofOld with the current key (the client rotated its keys before
    this host re-read discovery); X-WOPI-Proof with the old key (this host has the new keys, the client's machine
    not yet). ProofOld with the old key alone is refused.

    `access_tokens`: the forms of the token to try. Clients disagree on whether the signed token is the value as
    it appears in the URL or its decoded form (see WOPI_DIGEST section 7); this host's tokens are [0-9A-Za-z],
    so both are the same for them."""
    for token in dict.fromkeys(access_tokens):
        data = signed_bytes(token, url, timestamp)
        if signature_matches(keys.current, proof, data):
            return Verdict.VALID
        if signature_matches(keys.current, proof_old, data):
            return Verdict.VALID_ROTATED
        if keys.old is not None and signature_matches(keys.old, proof, data):
            return Verdict.VALID_ROTATED
    return Verdict.INVALID


def parse_timestamp(value: str | None) -> int | None:
    """X-WOPI-TimeStamp as an int64 of .NET ticks; None when missing or malformed."""
    if value is None:
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    ticks = int(text)
    return ticks if ticks < 2**63 else None


def ticks_to_unix(ticks: int) -> float:
    return (ticks - TICKS_AT_UNIX_EPOCH) / TICKS_PER_SECOND


def unix_to_ticks(seconds: float) -> int:
    return TICKS_AT_UNIX_EPOCH + round(seconds * TICKS_PER_SECOND)


def is_fresh(ticks: int, now: float) -> bool:
    """Signed within the last 20 minutes. A timestamp as far in the future is accepted too (clock skew between
    the client and this host), but no further: a proof must not stay replayable for long."""
    return abs(now - ticks_to_unix(ticks)) <= MAX_AGE_SECONDS
