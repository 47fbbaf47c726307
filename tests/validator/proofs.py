"""Signing requests with proof keys, as wopi-validator-core does once it is given keys (pull request #145, which
loads the dummy private keys of `validator/proofkeys/proof-keys.xml`; the host under test reads the matching
public keys from `validator/proofkeys/discovery.xml`).

WopiRequest.CreateExecutionData signs every WOPI request (not GetFromFileUrl, which is no WopiRequest):
* the token is `accessTokenToUse`: the -t token (unescaped) for URLs built from the WopiSrc, the
  `access_token` query value (decoded) of an OverrideUrl, or the AccessToken mutator's value;
* the URL is the request's `Uri.AbsoluteUri`, i.e. what goes on the wire, with access_token and
  access_token_ttl in the query;
* the timestamp is `DateTime.UtcNow.Ticks`;
* X-WOPI-Proof is signed with the current ("new") key, X-WOPI-ProofOld with the old key (ProofKeysHelper:
  RSA PKCS#1 v1.5 over SHA-256 of the bytes described in wopi_frontend/proof_keys.py).
The ProofKey mutator (ProofKeyMutator.Mutate) then re-signs with its Timestamp, if it has one, and swaps in
"SU5WQUxJRA==" (base64 of "INVALID") as its MutateCurrent / MutateOld / KeyRelation attributes say.
"""

from __future__ import annotations

import base64
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.validator.cases import Spec, shared_dir
from wopi_frontend.proof_keys import signed_bytes, unix_to_ticks

INVALID = base64.b64encode(b"INVALID").decode("ascii")
PROOF, PROOF_OLD, TIMESTAMP = "X-WOPI-Proof", "X-WOPI-ProofOld", "X-WOPI-TimeStamp"


def proofkeys_dir() -> Path:
    return shared_dir() / "wopi" / "validator" / "proofkeys"


def private_key_from_csp_blob(blob: bytes) -> rsa.RSAPrivateKey:
    """A .NET CSP PRIVATEKEYBLOB (RSACryptoServiceProvider.ExportCspBlob(true)): BLOBHEADER, RSAPUBKEY ("RSA2",
    bit length, public exponent), then modulus, p, q, dp, dq, q^-1 mod p and d, little-endian."""
    if len(blob) < 20 or blob[0] != 0x07 or blob[8:12] != b"RSA2":
        raise ValueError("not a CSP RSA private key blob")
    bits, exponent = struct.unpack_from("<II", blob, 12)
    sizes = [bits // 8, bits // 16, bits // 16, bits // 16, bits // 16, bits // 16, bits // 8]
    fields, offset = [], 20
    for size in sizes:
        fields.append(int.from_bytes(blob[offset : offset + size], "little"))
        offset += size
    if offset > len(blob):
        raise ValueError("the CSP blob is truncated")
    modulus, p, q, dp, dq, qinv, d = fields
    public = rsa.RSAPublicNumbers(exponent, modulus)
    return rsa.RSAPrivateNumbers(p, q, d, dp, dq, qinv, public).private_key()


@dataclass(frozen=True)
class Signer:
    current: rsa.RSAPrivateKey
    old: rsa.RSAPrivateKey

    @classmethod
    def load(cls, path: Path | None = None) -> Signer:
        """The dummy keys of proof-keys.xml: `<keys><old>..</old><new>..</new></keys>`, base64 CSP blobs."""
        root = ET.parse(path or proofkeys_dir() / "proof-keys.xml").getroot()
        keys = {child.tag: private_key_from_csp_blob(base64.b64decode((child.text or "").strip())) for child in root}
        return cls(keys["new"], keys["old"])

    def headers(self, token: str, url: str, timestamp: int) -> dict[str, str]:
        """WopiRequest.GetProofKeyHeaders."""
        data = signed_bytes(token, url, timestamp)
        return {
            PROOF: _sign(self.current, data),
            PROOF_OLD: _sign(self.old, data),
            TIMESTAMP: str(timestamp),
        }

    def request_headers(
        self, token: str, url: str, mutators: tuple[Spec, ...], now: float | None = None
    ) -> dict[str, str]:
        """The proof headers of one request, after its ProofKey mutator (the first one, as the C# takes)."""
        ticks = unix_to_ticks(time.time() if now is None else now)
        mutator = next((m for m in mutators if m.tag == "ProofKey"), None)
        if mutator is None:
            return self.headers(token, url, ticks)
        mutated_ticks = _mutator_ticks(mutator.get("Timestamp"))
        headers = self.headers(token, url, ticks if mutated_ticks is None else mutated_ticks)
        relation = mutator.get("KeyRelation") or "Synced"
        if relation == "Synced":
            if mutator.flag("MutateCurrent", False):
                headers[PROOF] = INVALID
            if mutator.flag("MutateOld", False):
                headers[PROOF_OLD] = INVALID
        elif relation == "Behind":  # the client's machine still signs with what the host knows as the old key
            headers[PROOF], headers[PROOF_OLD] = headers[PROOF_OLD], INVALID
        elif relation == "Ahead":  # the client has new keys the host has not read yet
            headers[PROOF_OLD], headers[PROOF] = headers[PROOF], INVALID
        return headers


def _sign(key: rsa.RSAPrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def _mutator_ticks(value: str | None) -> int | None:
    """`DateTime.TryParse(value, InvariantCulture, DateTimeStyles.None)` then `.Ticks`. .NET converts a "Z" time
    to the machine's local time first; taken as UTC here (the suite's only value is from 2015: stale either
    way)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return unix_to_ticks(moment.timestamp())
