"""An issuer remembers the tokens it verified (tokens.VERIFIED_TOKENS_KEPT): a token seen before is exactly as
valid as when it was first checked, never more (unit tests of wopi_frontend.tokens)."""

from __future__ import annotations

import pytest

from wopi_frontend.tokens import TokenInvalid, TokenIssuer
from wopi_frontend.types import PERMISSION_SETS, FileId, Principal

NOW = 1_800_000_000_000
ISSUER = TokenIssuer("k" * 32, 3600)
TOKEN, CLAIMS = ISSUER.issue(
    Principal("user-1", "User One"), FileId("a3f0c9e2b7d14c55e0f1a2b3"), PERMISSION_SETS["edit"], now_ms=NOW
)


def test_a_token_verified_before_still_expires() -> None:
    issuer = TokenIssuer("k" * 32, 3600)
    assert issuer.verify(TOKEN, now_ms=NOW) == CLAIMS
    assert issuer.verify(TOKEN, now_ms=CLAIMS.expires_ms - 1) == CLAIMS
    with pytest.raises(TokenInvalid, match="expired"):
        issuer.verify(TOKEN, now_ms=CLAIMS.expires_ms)


def test_a_refused_token_stays_refused() -> None:
    """Neither a tampered copy of a token that verified, nor a token refused once, is ever accepted later."""
    issuer = TokenIssuer("k" * 32, 3600)
    tampered = TOKEN[:-1] + ("A" if TOKEN[-1] != "A" else "B")
    for _ in range(2):
        assert issuer.verify(TOKEN, now_ms=NOW) == CLAIMS
        with pytest.raises(TokenInvalid):
            issuer.verify(tampered, now_ms=NOW)


def test_another_issuer_remembers_nothing_of_this_one() -> None:
    """What one key verified is not valid under another key, whatever the first issuer has seen."""
    assert ISSUER.verify(TOKEN, now_ms=NOW) == CLAIMS
    with pytest.raises(TokenInvalid, match="signature"):
        TokenIssuer("other-key" * 4, 3600).verify(TOKEN, now_ms=NOW)
