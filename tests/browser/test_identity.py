"""Who uses the pages (identity.py, dev_login.py), the CSRF guard (csrf.py) and the page helpers (pages.py):
in-process, and the development login in a real browser."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from starlette.requests import Request

from tests.frontend.servers import WopiHost
from wopi_frontend.app import create_app
from wopi_frontend.csrf import CsrfGuard, CsrfRejected
from wopi_frontend.identity import IdentityMissing, display_name_header, identify
from wopi_frontend.pages import json_for_script, render
from wopi_frontend.routes.downloads import content_disposition
from wopi_frontend.settings import FrontendSettings
from wopi_frontend.types import Principal

KEY = "k" * 32


def _request(headers: list[tuple[str, str | bytes]], url: str = "http://127.0.0.1:8080/") -> Request:
    encoded = [
        (name.lower().encode(), value if isinstance(value, bytes) else value.encode()) for name, value in headers
    ]
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    encoded.append((b"host", host.encode()))
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": scheme,
            "path": "/" + path,
            "headers": encoded,
            "query_string": b"",
            "server": None,
        }
    )


def test_the_header_names_the_user_and_its_companion_the_display_name() -> None:
    settings = FrontendSettings(token_key=KEY, identity_header="X-Forwarded-User", dev_user="ignored")
    assert identify(_request([("X-Forwarded-User", "alice")]), settings) == Principal("alice", "alice")
    request = _request([("X-Forwarded-User", "alice"), ("X-Forwarded-Name", "Ælice Ö\x07".encode())])
    assert identify(request, settings) == Principal("alice", "Ælice Ö")
    for headers in (
        [],
        [("X-Forwarded-User", "")],
        [("X-Forwarded-User", "has space")],
        [("X-Forwarded-User", "a"), ("X-Forwarded-User", "b")],
    ):
        with pytest.raises(IdentityMissing) as missing:
            identify(_request(headers), settings)  # type: ignore[arg-type]
        assert "X-Forwarded-User" in missing.value.explanation


def test_display_name_header_names() -> None:
    assert display_name_header("X-Forwarded-User") == "X-Forwarded-Name"
    assert display_name_header("Remote-User") == "Remote-Name"
    assert display_name_header("X-Auth-Request-Email") == "X-Auth-Request-Email-Name"


def test_the_development_user_and_nobody() -> None:
    open_to_all = FrontendSettings(token_key=KEY, dev_user="dev", dev_login_required=False)
    assert identify(_request([]), open_to_all) == Principal("dev", "dev")
    with pytest.raises(IdentityMissing):
        identify(_request([("X-Forwarded-User", "alice")]), FrontendSettings(token_key=KEY))


def test_the_development_user_needs_the_login_cookie() -> None:
    secret = "s" * 32
    settings = FrontendSettings(token_key=KEY, dev_user="dev", dev_login_secret=secret)
    with pytest.raises(IdentityMissing) as missing:
        identify(_request([]), settings)  # no cookie: once, every loopback caller was `dev`
    assert missing.value.status_code == 401 and "wopi-host run" in missing.value.explanation

    async def log_in(client: httpx.AsyncClient) -> list[httpx.Response]:
        return [await client.get("/login", params={"token": token}) for token in (secret, "s" * 31, "", "é" * 32)]

    login, *refused = _in_process(settings, log_in)
    assert login.status_code == 303 and login.headers["location"] == "/"
    cookie = login.headers["set-cookie"]
    name, _, value = cookie.partition(";")[0].partition("=")
    assert name == "wopi_dev_login" and secret not in cookie  # an HMAC of the secret, never the secret
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert identify(_request([("cookie", f"{name}={value}")]), settings) == Principal("dev", "dev")
    for response in refused:
        assert response.status_code == 403 and "set-cookie" not in response.headers
    next_run = FrontendSettings(token_key=KEY, dev_user="dev", dev_login_secret="t" * 32)
    for headers, who in [
        ([("cookie", f"{name}={value}")], next_run),  # a new run's secret: the last run's cookie is no good
        ([("cookie", f"{name}={secret}")], settings),  # the secret itself is not the cookie
        ([("cookie", f"{name}={value[:-1]}x")], settings),
    ]:
        with pytest.raises(IdentityMissing):
            identify(_request(headers), who)  # type: ignore[arg-type]
    # A development user without a login secret (and the login not switched off): nobody is let in.
    with pytest.raises(IdentityMissing) as unconfigured:
        identify(_request([]), FrontendSettings(token_key=KEY, dev_user="dev"))
    assert "WOPI_DEV_LOGIN_SECRET" in unconfigured.value.explanation


def test_the_login_cookie_on_https_is_secure_and_host_only() -> None:
    settings = FrontendSettings(
        token_key=KEY, dev_user="dev", dev_login_secret="s" * 32, public_url="https://docs.example.org"
    )

    async def log_in(client: httpx.AsyncClient) -> list[httpx.Response]:
        return [await client.get("https://docs.example.org/login", params={"token": "s" * 32})]

    (login,) = _in_process(settings, log_in)
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("__Host-wopi_dev_login=") and "secure" in cookie.lower() and "path=/" in cookie.lower()


def test_a_browser_logs_in_through_the_printed_link(tmp_path: Path, page: Any) -> None:
    """`wopi-host frontend` with a development user: it makes a login secret, prints the link, and only the
    browser that opened it gets in; its forms then work (the cookie and the CSRF guard together)."""
    with WopiHost(tmp_path, WOPI_DEV_USER="bob", WOPI_DEV_LOGIN_REQUIRED="true") as host:
        match = re.search(r"open (http://\S+/login\?token=(\S+))", host.log_tail())
        assert match, host.log_tail()
        login_url, secret = match.groups()
        refused = page.goto(host.url + "/")
        assert refused is not None and refused.status == 401
        expect(page.locator("main")).to_contain_text("login link")
        page.goto(login_url)
        assert page.url == host.url + "/"  # the secret is gone from the address bar
        expect(page.locator(".user")).to_contain_text("bob")
        page.locator("#new-menu summary").click()
        # Opening the menu focuses its first field (browser.js, on "toggle"): wait for that, or the focus could
        # move there in the middle of typing into the second form.
        expect(page.locator("#new-menu form").first.get_by_label("Name")).to_be_focused()
        page.locator("#new-menu form").nth(1).get_by_label("Name").fill("Logged in")
        page.get_by_role("button", name="Create folder").click()
        expect(page.locator(".notice-ok")).to_have_text("Created the folder “Logged in”.")
        assert (host.documents / "Logged in").is_dir()
        cookies = page.context.cookies()
        assert [cookie["name"] for cookie in cookies if cookie["name"].startswith("wopi_dev")] == ["wopi_dev_login"]
        assert all(secret not in cookie["value"] for cookie in cookies)
        assert host.log_tail().count(secret) == 1  # printed once; the access log has no query strings


def _in_process(
    settings: FrontendSettings, calls: Callable[[httpx.AsyncClient], Awaitable[list[httpx.Response]]]
) -> list[httpx.Response]:
    """The app in-process, without storage, at its public URL."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            return await calls(client)

    # In a thread of its own: Playwright's sync API may hold this thread's event loop open (tests/browser).
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, run()).result()


def _get_all(paths: list[str]) -> list[httpx.Response]:
    """The app in-process, without storage: identity is checked before anything is read."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(FrontendSettings(token_key=KEY)))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            return [await client.get(path) for path in paths]

    # In a thread of its own: Playwright's sync API may hold this thread's event loop open (tests/browser).
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, run()).result()


def test_without_identity_the_pages_explain_how_to_configure_it() -> None:
    *pages, versions = _get_all(["/", "/host/abc?action=view", "/browse/download/abc", "/browse/versions/abc"])
    for response in pages:
        assert response.status_code == 403
        assert "Sign-in is not configured" in response.text
        assert "WOPI_IDENTITY_HEADER" in response.text and "WOPI_DEV_USER" in response.text
    assert versions.status_code == 403
    assert versions.json()["error"].startswith("This server does not know who you are")


def test_csrf_guard() -> None:
    guard = CsrfGuard(FrontendSettings(token_key=KEY, public_url="https://docs.example.org"))
    assert guard.cookie_name == "__Host-wopi_csrf"
    user = Principal("alice")
    token, nonce = guard.issue(_request([]), user)
    assert nonce is not None
    cookie = ("cookie", f"{guard.cookie_name}={nonce}")
    guard.check(_request([cookie], "https://docs.example.org/x"), user, token)
    guard.check(_request([cookie, ("origin", "https://docs.example.org")], "http://10.0.0.5:8080/x"), user, token)
    again, none = guard.issue(_request([cookie]), user)
    assert (again, none) == (token, None)
    for headers, presented, who in [
        ([cookie], token, Principal("mallory")),
        ([cookie], "é" + token, user),
        ([], token, user),
        ([cookie, ("origin", "https://evil.example")], token, user),
        ([cookie, ("origin", "https://rebind.example:8443")], token, user),  # as the request's own origin, below
        ([cookie, ("sec-fetch-site", "same-site")], token, user),
    ]:
        with pytest.raises(CsrfRejected):
            guard.check(_request(headers, "https://docs.example.org/x"), who, presented)
    # A DNS-rebinding page: its Origin matches the Host it sent, but is not the public origin.
    rebinding = [cookie, ("origin", "https://rebind.example:8443")]
    with pytest.raises(CsrfRejected):
        guard.check(_request(rebinding, "https://rebind.example:8443/x"), user, token)
    # Browsers omit the default port in Origin; the public URL may spell it out.
    spelled_out = CsrfGuard(FrontendSettings(token_key=KEY, public_url="https://docs.example.org:443/prefix"))
    token, nonce = spelled_out.issue(_request([]), user)
    headers = [("cookie", f"{spelled_out.cookie_name}={nonce}"), ("origin", "https://docs.example.org")]
    spelled_out.check(_request(headers, "https://docs.example.org/x"), user, token)


def test_page_helpers_escape() -> None:
    assert (
        render("crumb.html", url="/?a=1&b=2", label="<b>x</b>")
        == '<li><a href="/?a=1&amp;b=2">&lt;b&gt;x&lt;/b&gt;</a></li>\n'
    )
    text = json_for_script({"name": "</script><!--&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": "</script><!--&\u2028"}
    assert content_disposition('a"b\\c.docx') == "attachment; filename=\"a_b_c.docx\"; filename*=UTF-8''a%22b%5Cc.docx"
