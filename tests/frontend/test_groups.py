"""Group memberships: read from the identity proxy's header, carried in access tokens, bounded so that a token
always fits in a URL."""

from __future__ import annotations

import logging

import pytest

from wopi_frontend.identity import MAX_GROUPS_TEXT, TooManyGroups, parse_groups
from wopi_frontend.tokens import MAX_TOKEN_LENGTH, TokenIssuer, TokenTooLarge
from wopi_frontend.types import FileId, Permission, Principal

KEY = "k" * 32


def test_groups_are_comma_separated_trimmed_and_deduplicated() -> None:
    assert parse_groups(["staff, team ,staff", "ops"]) == ("staff", "team", "ops")
    assert parse_groups([]) == () and parse_groups([""]) == () and parse_groups([" , "]) == ()


def test_a_group_storage_cannot_take_is_left_out_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """Leaving a group out can only take access away; the operator sees which one."""
    with caplog.at_level(logging.WARNING, logger="wopi_frontend.identity"):
        assert parse_groups(["team,Domain Users," + "g" * 257]) == ("team",)
    assert "Domain Users" in caplog.text and len(caplog.records) == 2


def test_groups_that_would_not_fit_in_a_token_are_refused() -> None:
    fits = [f"g{number:03}" + "x" * 45 for number in range(20)]  # 20 * 49 + 19 commas = 999 characters
    assert len(",".join(fits)) <= MAX_GROUPS_TEXT
    assert parse_groups(fits) == tuple(fits)
    with pytest.raises(TooManyGroups):
        parse_groups([*fits, "y" * 30])


def test_a_token_carries_the_groups() -> None:
    """And a user with as many groups as identity lets through, with ids of a usual length, still gets a token
    under the URL limit."""
    issuer = TokenIssuer(KEY, 3600)
    groups = tuple(f"g{number:03}" + "x" * 45 for number in range(20))
    user = Principal("u" * 64, "Ünïcödé Nàmé " * 4, groups)
    text, claims = issuer.issue(user, FileId("f" * 64), frozenset(Permission))
    assert len(text) <= MAX_TOKEN_LENGTH
    assert issuer.verify(text).user == user == claims.user
    plain, _ = issuer.issue(Principal("alice", "Alice"), FileId("file"), frozenset({Permission.VIEW}))
    assert issuer.verify(plain).user.groups == ()


def test_a_token_too_long_for_a_url_is_not_issued() -> None:
    issuer = TokenIssuer(KEY, 3600)
    user = Principal("alice", "Alice", tuple(f"group-{number}" for number in range(300)))
    with pytest.raises(TokenTooLarge):
        issuer.issue(user, FileId("file"), frozenset({Permission.VIEW}))
