"""Unit tests of wopi_frontend.tokens: signed, scoped, URL-safe access tokens with an absolute expiry."""

from __future__ import annotations

import json
import random
import re
import string
import time
from urllib.parse import quote

import pytest

from wopi_frontend import tokens
from wopi_frontend.tokens import MAX_TOKEN_LENGTH, AccessToken, TokenInvalid, TokenIssuer
from wopi_frontend.types import PERMISSION_SETS, ContainerId, FileId, Permission, Principal

KEY = "k" * 32
TTL = 10 * 3600
NOW = 1_800_000_000_000
USER = Principal("user-1", 'Zoë O\'Brien "<&>"')
FILE = FileId("a3f0c9e2b7d14c55e0f1a2b3")


def issue(issuer: TokenIssuer | None = None, **kw: object) -> tuple[str, AccessToken]:
    return (issuer or TokenIssuer(KEY, TTL)).issue(USER, FILE, PERMISSION_SETS["edit"], now_ms=NOW, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "user",
    [Principal("u"), USER, Principal("x" * 256, "名前 " * 40), Principal("a/b?c=d&e#f", "\x00\n")],
)
@pytest.mark.parametrize("permissions", ["view", "edit"])
def test_token_is_alphanumeric(user: Principal, permissions: str) -> None:
    """A token is made only of [A-Za-z0-9], so it needs no escaping in a URL (and reads the same escaped)."""
    token, _ = TokenIssuer(KEY, TTL).issue(user, FILE, PERMISSION_SETS[permissions])
    assert re.fullmatch(r"[A-Za-z0-9]+", token)
    assert quote(token, safe="") == token
    assert len(token) <= MAX_TOKEN_LENGTH


def test_round_trip() -> None:
    """verify() gives back exactly the claims issue() made: user, file, permissions and expiry."""
    issuer = TokenIssuer(KEY, TTL)
    for name, permissions in PERMISSION_SETS.items():
        token, claims = issuer.issue(USER, FILE, permissions, now_ms=NOW)
        verified = issuer.verify(token, now_ms=NOW)
        assert verified == claims, name
        assert verified.user == USER and verified.file_id == FILE and verified.permissions == permissions
        assert verified.expires_ms == NOW + TTL * 1000


def test_permissions_are_scoped() -> None:
    """A view token allows only VIEW; an edit token allows every permission."""
    issuer = TokenIssuer(KEY, TTL)
    view = issuer.verify(issuer.issue(USER, FILE, PERMISSION_SETS["view"])[0])
    assert view.allows(Permission.VIEW)
    assert not any(view.allows(permission) for permission in Permission if permission != Permission.VIEW)
    edit = issuer.verify(issuer.issue(USER, FILE, PERMISSION_SETS["edit"])[0])
    assert all(edit.allows(permission) for permission in Permission)


def test_expiry_is_absolute() -> None:
    """A token is valid until its absolute expiry (ms since the epoch), and invalid from then on."""
    issuer = TokenIssuer(KEY, TTL)
    token, claims = issue(issuer)
    assert issuer.verify(token, now_ms=claims.expires_ms - 1) == claims
    for later in (claims.expires_ms, claims.expires_ms + 1, claims.expires_ms + 10**9):
        with pytest.raises(TokenInvalid):
            issuer.verify(token, now_ms=later)


def test_default_expiry_is_now_plus_ttl() -> None:
    """Without now_ms, the expiry is the wall clock plus the TTL (access_token_ttl, hours ahead)."""
    _, claims = TokenIssuer(KEY, TTL).issue(USER, FILE, PERMISSION_SETS["view"])
    assert abs(claims.expires_ms - (time.time() * 1000 + TTL * 1000)) < 60_000


def test_not_after_caps_the_expiry() -> None:
    """not_after_ms caps the expiry (a token minted from another must not outlive it), but never extends it."""
    issuer = TokenIssuer(KEY, TTL)
    assert issue(issuer, not_after_ms=NOW + 1000)[1].expires_ms == NOW + 1000
    assert issue(issuer, not_after_ms=NOW + TTL * 1000 * 2)[1].expires_ms == NOW + TTL * 1000
    token, _ = issue(issuer, not_after_ms=NOW + 1000)
    with pytest.raises(TokenInvalid):
        issuer.verify(token, now_ms=NOW + 1000)


def test_tampering_is_detected() -> None:
    """Changing, dropping or adding any one character makes the token invalid."""
    issuer = TokenIssuer(KEY, TTL)
    token, _ = issue(issuer)
    rng = random.Random(7)
    alphabet = string.digits + string.ascii_letters
    positions = sorted({0, 1, len(token) - 1, *rng.sample(range(len(token)), 60)})
    for index in positions:
        for replacement in rng.sample([c for c in alphabet if c != token[index]], 3):
            with pytest.raises(TokenInvalid):
                issuer.verify(token[:index] + replacement + token[index + 1 :], now_ms=NOW)
        with pytest.raises(TokenInvalid):
            issuer.verify(token[:index] + token[index + 1 :], now_ms=NOW)
    for extra in ("0", "A", "z"):
        with pytest.raises(TokenInvalid):
            issuer.verify(token + extra, now_ms=NOW)


def test_another_key_is_refused() -> None:
    """A token signed with another key is invalid, whatever it claims."""
    token, _ = issue(TokenIssuer("j" * 32, TTL))
    with pytest.raises(TokenInvalid):
        TokenIssuer(KEY, TTL).verify(token, now_ms=NOW)
    token, _ = issue(TokenIssuer(KEY + "x", TTL))
    with pytest.raises(TokenInvalid):
        TokenIssuer(KEY, TTL).verify(token, now_ms=NOW)


@pytest.mark.parametrize(
    "text",
    ["", "1", "0", "2abc", "1!!", "1abc def", "1" + "A" * MAX_TOKEN_LENGTH, "1\u0661\u0662", "INVALID", "1" + "z" * 80],
)
def test_malformed_tokens(text: str) -> None:
    """Empty, foreign-format, non-base62, over-long or unsigned input is TokenInvalid, never another error."""
    with pytest.raises(TokenInvalid):
        TokenIssuer(KEY, TTL).verify(text, now_ms=NOW)


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[]", b'{"u":"a"}', b'{"u":"a","n":"","f":"x","p":["root"],"e":1}', b'{"u":1,"n":2,"f":3,"p":5}'],
)
def test_signed_but_bad_claims(payload: bytes) -> None:
    """A correctly signed payload whose claims are not a token's is TokenInvalid (not a crash)."""
    issuer = TokenIssuer(KEY, TTL)
    text = tokens.FORMAT + tokens._b62encode(payload + issuer._mac(payload))
    with pytest.raises(TokenInvalid):
        issuer.verify(text, now_ms=0)


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x00\x00abc", b"\xff" * 40, bytes(range(256))])
def test_base62_keeps_every_byte(data: bytes) -> None:
    """The base62 framing keeps leading zero bytes and every byte value."""
    assert tokens._b62decode(tokens._b62encode(data)) == data


def test_each_token_names_one_kind_of_resource() -> None:
    """A file's, a container's and an ecosystem token: none passes for another kind, even with the same id."""
    issuer = TokenIssuer(KEY, TTL)
    edit = PERMISSION_SETS["edit"]
    for_file = issuer.verify(issuer.issue(USER, FILE, edit, now_ms=NOW)[0], now_ms=NOW)
    for_container = issuer.verify(issuer.issue_for_container(USER, ContainerId(FILE), edit, now_ms=NOW)[0], now_ms=NOW)
    for_ecosystem = issuer.verify(issuer.issue_for_ecosystem(USER, edit, now_ms=NOW)[0], now_ms=NOW)
    assert for_file.is_for_file(FILE) and not for_file.is_for_container(ContainerId(FILE))
    assert not for_file.is_for_ecosystem()
    assert for_container.is_for_container(ContainerId(FILE)) and not for_container.is_for_file(FILE)
    assert not for_container.is_for_ecosystem()
    assert for_ecosystem.is_for_ecosystem()
    assert not for_ecosystem.is_for_file(FileId("")) and not for_ecosystem.is_for_container(ContainerId(""))


def test_a_traded_token_keeps_the_user_and_bound_and_never_outlives_its_source() -> None:
    issuer = TokenIssuer(KEY, TTL)
    soon = int(time.time() * 1000) + 60_000
    _, source = issuer.issue(USER, FILE, PERMISSION_SETS["view"], not_after_ms=soon)
    other = FileId("b" * 24)
    for traded_text in (
        issuer.trade(source, file_id=other),
        issuer.trade(source, container_id=ContainerId("c" * 24)),
        issuer.trade(source, ecosystem=True),
    ):
        traded = issuer.verify(traded_text)
        assert traded.user == USER and traded.permissions == source.permissions
        assert traded.expires_ms == soon  # capped by the source, not now + ttl
    with pytest.raises(ValueError):
        issuer.trade(source)
    with pytest.raises(ValueError):
        issuer.trade(source, file_id=other, ecosystem=True)


@pytest.mark.parametrize(
    "claims",
    [
        {"f": "x", "c": "x"},
        {"f": "x", "eco": 1},
        {"c": "x", "eco": 1},
        {"eco": 0},
        {"eco": "yes"},
        {},
    ],
)
def test_a_token_naming_no_or_several_resources_is_refused(claims: dict[str, object]) -> None:
    issuer = TokenIssuer(KEY, TTL)
    payload = json.dumps({"u": "u", "n": "n", "p": ["view"], "e": NOW + 1000, **claims}).encode()
    text = tokens.FORMAT + tokens._b62encode(payload + issuer._mac(payload))
    with pytest.raises(TokenInvalid):
        issuer.verify(text, now_ms=NOW)
