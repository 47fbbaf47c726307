"""The development user's login: a secret link printed at start-up, exchanged for a cookie.

With `dev_user` set, everyone who can reach the port would otherwise be that user: any other account on this
machine, and any web page that gets a browser to send it a request. So `wopi-host run` makes a secret per run
(`dev_login_secret`) and prints `<public URL>/login?token=<secret>` to its terminal, as Jupyter does. Opening it
sets an HttpOnly cookie and redirects to the file browser, so the secret leaves the address bar at once; it is
never in a Location header or a log line (the access log has no query strings).

The cookie holds HMAC(secret, "wopi-host dev login", user), not the secret: a cookie that leaks cannot be turned
back into the link, and it stops working when the next run makes a new secret. SameSite=Lax, not Strict: a
person coming back from the WOPI client's page (another site) must still be recognised; the pages' POSTs have
the CSRF guard besides.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from wopi_frontend import pages
from wopi_frontend.context import context_of
from wopi_frontend.settings import FrontendSettings

LOGIN_PATH = "/login"
_MAX_TOKEN_LENGTH = 512


def enabled(settings: FrontendSettings) -> bool:
    """Whether the development user needs the login link (an identity header, when set, is the only source)."""
    return bool(settings.dev_user and not settings.identity_header and settings.dev_login_secret)


def cookie_name(settings: FrontendSettings) -> str:
    # The __Host- prefix makes browsers refuse the cookie unless Secure, host-only and Path=/.
    return "__Host-wopi_dev_login" if settings.public_url.startswith("https:") else "wopi_dev_login"


def login_url(settings: FrontendSettings) -> str:
    """The link to print (it carries the secret: for the person at the terminal only)."""
    return f"{settings.base_url}{LOGIN_PATH}?token={settings.dev_login_secret}"


def _session_value(settings: FrontendSettings) -> str:
    assert settings.dev_login_secret and settings.dev_user
    message = b"wopi-host dev login\x00" + settings.dev_user.encode()
    mac = hmac.new(settings.dev_login_secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def has_session(request: Request, settings: FrontendSettings) -> bool:
    """Whether this browser opened this run's login link."""
    presented = request.cookies.get(cookie_name(settings), "")
    return presented.isascii() and hmac.compare_digest(presented, _session_value(settings))


def _token_matches(presented: str, settings: FrontendSettings) -> bool:
    assert settings.dev_login_secret
    if not presented.isascii() or len(presented) > _MAX_TOKEN_LENGTH:
        return False
    return hmac.compare_digest(presented.encode(), settings.dev_login_secret.encode())


async def login(request: Request) -> Response:
    """GET /login?token=...: the right token sets the session cookie and leads to the file browser."""
    context = context_of(request)
    settings = context.settings
    if not enabled(settings):
        return pages.message_page(settings, "Not found", "There is no login here.", status_code=404)
    tokens = request.query_params.getlist("token")
    if len(tokens) != 1 or not _token_matches(tokens[0], settings):
        return pages.message_page(
            settings,
            "This login link is not valid",
            "Open the login link printed in the terminal where `wopi-host run` is running. A link from an "
            "earlier run no longer works: each run prints a new one.",
            status_code=403,
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
        )
    response = RedirectResponse(pages.local(context.browser_url()), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.set_cookie(
        cookie_name(settings),
        _session_value(settings),
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.public_url.startswith("https:"),
    )
    return response
