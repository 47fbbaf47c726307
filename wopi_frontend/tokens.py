"""WOPI access tokens: signed, scoped to one user, one file or one container (or the user's ecosystem), and one
permission set, with an absolute expiry.

A token names its one resource in its claims: `f` a file, `c` a container, `eco` the user's ecosystem (exactly
one of them). So a token for a file is refused for a container whose id happens to read the same, and the other
way round. An ecosystem token reaches no file or container by itself: it answers CheckEcosystem and trades for
the root container's token (GetRootContainer) or a file's (GetFileWopiSrc), and storage decides which the user
may see.

A token is `1` (the format version) followed by the base62 encoding of `payload || HMAC-SHA256(key, payload)`,
where the payload is compact JSON. It is made only of [0-9A-Za-z], so it needs no escaping in a URL, reads the
same raw and decoded, and proof-key checks never have to guess which form was signed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from wopi_frontend.types import ContainerId, FileId, Permission, Principal

FORMAT = "1"
MAC_BYTES = 32
MAX_TOKEN_LENGTH = 2048  # URLs are limited to about 2000 characters by WOPI clients; refuse anything longer
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {character: value for value, character in enumerate(_ALPHABET)}
# Tokens whose signature and claims were checked, remembered by their exact text: an editor sends the same token
# on every request of its session, and checking it (base62, HMAC, JSON) was the front-end's largest own cost per
# CheckFileInfo. Only tokens that verified are kept, so nobody can fill it without this host's key; the expiry is
# still checked on every use.
VERIFIED_TOKENS_KEPT = 4096


class TokenInvalid(Exception):
    """The token is malformed, forged, or expired. The reason is for logs, never for the response."""


class TokenTooLarge(ValueError):
    """The claims do not fit in MAX_TOKEN_LENGTH characters (a user in very many groups: identity.py bounds
    them so that this does not happen)."""


def _b62encode(data: bytes) -> str:
    number = int.from_bytes(b"\x01" + data, "big")  # the leading 1 keeps leading zero bytes
    digits = []
    while number:
        number, remainder = divmod(number, 62)
        digits.append(_ALPHABET[remainder])
    return "".join(reversed(digits))


def _b62decode(text: str) -> bytes:
    number = 0
    for character in text:
        value = _INDEX.get(character)
        if value is None:
            raise TokenInvalid("not base62")
        number = number * 62 + value
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    if not raw or raw[0] != 1:
        raise TokenInvalid("bad framing")
    return raw[1:]


@dataclass(frozen=True)
class AccessToken:
    user: Principal
    file_id: FileId  # "" for a container's token
    permissions: frozenset[Permission]
    expires_ms: int  # absolute, milliseconds since the Unix epoch: WOPI's access_token_ttl
    container_id: ContainerId | None = None  # a container's token (then file_id is "")
    ecosystem: bool = False  # the user's ecosystem token (then file_id is "" and container_id None)

    def allows(self, permission: Permission) -> bool:
        return permission in self.permissions

    def is_for_file(self, file_id: FileId) -> bool:
        return self.container_id is None and bool(self.file_id) and self.file_id == file_id

    def is_for_container(self, container_id: ContainerId) -> bool:
        return self.container_id is not None and bool(container_id) and self.container_id == container_id

    def is_for_ecosystem(self) -> bool:
        return self.ecosystem


ACCESS_TOKENS = b"wopi-host access token"


class TokenIssuer:
    def __init__(self, key: str, ttl_seconds: int, *, purpose: bytes = ACCESS_TOKENS) -> None:
        """`purpose` names what the tokens are for: each purpose signs with its own key derived from `key`, so
        that a token made for one (a FileUrl's, file_urls.py) is never accepted for another (an access token)."""
        self._key = hashlib.sha256(purpose + b"\x00" + key.encode()).digest()
        self._ttl_ms = ttl_seconds * 1000
        self._verified = functools.lru_cache(maxsize=VERIFIED_TOKENS_KEPT)(self._claims_of)

    def issue(
        self,
        user: Principal,
        file_id: FileId,
        permissions: frozenset[Permission],
        *,
        not_after_ms: int | None = None,
        now_ms: int | None = None,
    ) -> tuple[str, AccessToken]:
        """A new token for a file; `not_after_ms` caps its expiry (a token minted from another must not outlive
        it)."""
        return self._issue(user, "f", file_id, permissions, not_after_ms, now_ms)

    def issue_for_container(
        self,
        user: Principal,
        container_id: ContainerId,
        permissions: frozenset[Permission],
        *,
        not_after_ms: int | None = None,
        now_ms: int | None = None,
    ) -> tuple[str, AccessToken]:
        """A new token for a container, as `issue` makes one for a file."""
        return self._issue(user, "c", container_id, permissions, not_after_ms, now_ms)

    def issue_for_ecosystem(
        self,
        user: Principal,
        permissions: frozenset[Permission],
        *,
        not_after_ms: int | None = None,
        now_ms: int | None = None,
    ) -> tuple[str, AccessToken]:
        """A new token for the user's ecosystem, as `issue` makes one for a file."""
        return self._issue(user, "eco", "", permissions, not_after_ms, now_ms)

    def trade(
        self,
        token: AccessToken,
        *,
        file_id: FileId | None = None,
        container_id: ContainerId | None = None,
        ecosystem: bool = False,
    ) -> str:
        """A token for another file or container (one of them), traded from `token` where an answer points at it
        (EnumerateAncestors, EnumerateChildren, a create): the same user, the same permissions as its bound, and
        no longer. It is not narrowed to what storage allows on the new resource: storage checks every call, each
        answer reports the bound AND storage's permissions, and a bound narrowed on the way would lose, a hop
        later, what the user may do with the next resource (a child folder's delete, refused by the root's)."""
        if (file_id is not None) + (container_id is not None) + ecosystem != 1:
            raise ValueError("a token is traded for one file, one container or the ecosystem")
        if file_id is not None:
            text, _ = self.issue(token.user, file_id, token.permissions, not_after_ms=token.expires_ms)
        elif container_id is not None:
            text, _ = self.issue_for_container(
                token.user, container_id, token.permissions, not_after_ms=token.expires_ms
            )
        else:
            text, _ = self.issue_for_ecosystem(token.user, token.permissions, not_after_ms=token.expires_ms)
        return text

    def _issue(
        self,
        user: Principal,
        kind: str,
        resource_id: str,
        permissions: frozenset[Permission],
        not_after_ms: int | None,
        now_ms: int | None,
    ) -> tuple[str, AccessToken]:
        if not resource_id and kind != "eco":
            raise ValueError("a token is for one file or container: its id is empty")
        now = int(time.time() * 1000) if now_ms is None else now_ms
        expires = now + self._ttl_ms if not_after_ms is None else min(now + self._ttl_ms, not_after_ms)
        if kind == "f":
            token = AccessToken(user, FileId(resource_id), frozenset(permissions), expires)
        elif kind == "c":
            token = AccessToken(user, FileId(""), frozenset(permissions), expires, ContainerId(resource_id))
        else:
            token = AccessToken(user, FileId(""), frozenset(permissions), expires, ecosystem=True)
        claims: dict[str, object] = {
            "u": user.user_id,
            "n": user.display_name,
            kind: resource_id if kind != "eco" else 1,
            "p": sorted(permission.value for permission in permissions),
            "e": expires,
        }
        if user.groups:
            claims["g"] = list(user.groups)  # absent without groups: shorter tokens, and older tokens still read
        payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
        text = FORMAT + _b62encode(payload + self._mac(payload))
        if len(text) > MAX_TOKEN_LENGTH:
            raise TokenTooLarge(f"the token would be {len(text)} characters, more than {MAX_TOKEN_LENGTH}")
        return text, token

    def verify(self, text: str, *, now_ms: int | None = None) -> AccessToken:
        """The token's claims, or TokenInvalid. Checks the MAC in constant time before reading anything (once per
        token text: VERIFIED_TOKENS_KEPT)."""
        if not text or len(text) > MAX_TOKEN_LENGTH or not text.startswith(FORMAT):
            raise TokenInvalid("malformed")
        token = self._verified(text)  # raises (and then remembers nothing) unless signed with our key
        now = int(time.time() * 1000) if now_ms is None else now_ms
        if now >= token.expires_ms:
            raise TokenInvalid("expired")
        return token

    def _claims_of(self, text: str) -> AccessToken:
        """The claims of a well-formed token signed with this issuer's key, whatever its expiry; TokenInvalid
        otherwise."""
        raw = _b62decode(text[len(FORMAT) :])
        payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if len(raw) <= MAC_BYTES or not hmac.compare_digest(mac, self._mac(payload)):
            raise TokenInvalid("bad signature")
        try:
            claims = json.loads(payload)
            if not isinstance(claims, dict):
                raise TypeError("the claims are not an object")
            groups = claims.get("g", [])
            if not isinstance(groups, list):
                raise TypeError("groups are not a list")
            if ("f" in claims) + ("c" in claims) + ("eco" in claims) != 1:
                raise TypeError("a token names one file, one container or the ecosystem")
            if "eco" in claims and claims["eco"] != 1:
                raise TypeError("a bad ecosystem claim")
            container_id = ContainerId(str(claims["c"])) if "c" in claims else None
            token = AccessToken(
                Principal(str(claims["u"]), str(claims["n"]), tuple(str(group) for group in groups)),
                FileId(str(claims.get("f", ""))),
                frozenset(Permission(value) for value in claims["p"]),
                int(claims["e"]),
                container_id,
                "eco" in claims,
            )
        except (ValueError, KeyError, TypeError) as error:
            raise TokenInvalid(f"bad claims: {error}") from None
        return token

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()
