"""Cross-site request forgery protection for the file browser's POST actions.

Two independent checks, both required:

1. Same origin: browsers say where a request comes from. `Sec-Fetch-Site`, when sent, must be `same-origin`;
   `Origin`, when sent, must be the public URL's origin. Never the origin the request was addressed to: that is
   read from `Host`, which a DNS-rebinding page controls (`http://rebind.example:8080` resolving to us).
2. A signed double-submit token: a random nonce lives in an HttpOnly, SameSite=Strict cookie, and every form
   (and the upload request, in a header) carries HMAC(key, nonce, user). Another site can neither read the
   cookie nor compute the token, and a token is good only for the user it was made for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from wopi_frontend.settings import FrontendSettings
from wopi_frontend.types import Principal

FORM_FIELD = "csrf"
HEADER = "X-CSRF-Token"
_NONCE_LENGTH = 43  # secrets.token_urlsafe(32)


class CsrfRejected(Exception):
    """A POST that is not provably from our own pages."""


def _origin(url: str) -> str:
    """scheme://host[:port] as browsers write it in `Origin`: lower case, without the scheme's default port."""
    parts = urlsplit(url)
    scheme, netloc = parts.scheme.lower(), parts.netloc.rpartition("@")[2].lower()
    default_port = {"http": ":80", "https": ":443"}.get(scheme)
    if default_port and netloc.endswith(default_port):
        netloc = netloc.removesuffix(default_port)
    return f"{scheme}://{netloc}"


class CsrfGuard:
    def __init__(self, settings: FrontendSettings) -> None:
        self._key = hashlib.sha256(b"wopi-host csrf\x00" + settings.token_key.encode()).digest()
        self._public_origin = _origin(settings.public_url)
        self._secure = settings.public_url.startswith("https:")
        # The __Host- prefix makes browsers refuse the cookie unless Secure, host-only and Path=/.
        self.cookie_name = "__Host-wopi_csrf" if self._secure else "wopi_csrf"

    def _nonce(self, request: Request) -> str | None:
        value = request.cookies.get(self.cookie_name, "")
        return value if len(value) == _NONCE_LENGTH and value.isascii() else None

    def _token(self, nonce: str, user: Principal) -> str:
        mac = hmac.new(self._key, f"{nonce}\x00{user.user_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    def issue(self, request: Request, user: Principal) -> tuple[str, str | None]:
        """The token for this page's forms, and a new nonce to set as the cookie (None: the cookie is good)."""
        nonce = self._nonce(request)
        if nonce is not None:
            return self._token(nonce, user), None
        nonce = secrets.token_urlsafe(32)
        return self._token(nonce, user), nonce

    def set_cookie(self, response: Response, nonce: str | None) -> None:
        if nonce is not None:
            response.set_cookie(
                self.cookie_name, nonce, path="/", httponly=True, samesite="strict", secure=self._secure
            )

    def check(self, request: Request, user: Principal, presented: str | None) -> None:
        """Raises CsrfRejected unless the request is same-origin and carries this user's token."""
        site = request.headers.get("sec-fetch-site")
        if site is not None and site != "same-origin":
            raise CsrfRejected(f"Sec-Fetch-Site is {site}")
        origin = request.headers.get("origin")
        if origin is not None and origin.lower() != self._public_origin:
            raise CsrfRejected("the Origin is another site")
        nonce = self._nonce(request)
        if nonce is None or not presented or not presented.isascii():
            raise CsrfRejected("the form token is missing")
        if not hmac.compare_digest(presented, self._token(nonce, user)):
            raise CsrfRejected("the form token is wrong")


@lru_cache(maxsize=8)
def guard_for(settings: FrontendSettings) -> CsrfGuard:
    """One guard per settings object (the app's settings never change while it runs)."""
    return CsrfGuard(settings)
