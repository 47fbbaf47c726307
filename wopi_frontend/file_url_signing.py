"""Signing FileUrls (routes/file_url.py serves them): one file, read only, as the access token's user, for a few
minutes, with a key of its own so that a FileUrl's signature and an access token are never taken for each other.

CheckFileInfo names a FileUrl every time, and a signature costs as much as the rest of the front-end's own work
on a CheckFileInfo (base62 of a signed JSON payload), so one is made per token and per REUSE_SECONDS, and reused
within them: a FileUrl handed out still has at least FILE_URL_TTL_SECONDS - REUSE_SECONDS to live.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from wopi_frontend.tokens import AccessToken, TokenIssuer
from wopi_frontend.types import Permission

FILE_URLS = b"wopi-host file url"
FILE_URL_TTL_SECONDS = 5 * 60  # a client fetches it right after CheckFileInfo
REUSE_SECONDS = 60
SIGNATURES_KEPT = 4096
_READ_ONLY = frozenset({Permission.VIEW})


class FileUrlSigner:
    def __init__(self, key: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._issuer = TokenIssuer(key, FILE_URL_TTL_SECONDS, purpose=FILE_URLS)
        self._clock = clock
        self._signature = functools.lru_cache(maxsize=SIGNATURES_KEPT)(self._sign)

    def signature(self, token: AccessToken) -> str:
        """The signature of a FileUrl for the access token's file and user: it never outlives the token."""
        return self._signature(token, int(self._clock() // REUSE_SECONDS))

    def _sign(self, token: AccessToken, _period: int) -> str:
        text, _ = self._issuer.issue(token.user, token.file_id, _READ_ONLY, not_after_ms=token.expires_ms)
        return text

    def verify(self, text: str) -> AccessToken:
        """The signed claims (a file token granting VIEW), or TokenInvalid: forged, expired, or not a FileUrl's."""
        return self._issuer.verify(text)
