"""Who uses the pages (identity.py), the CSRF guard (csrf.py) and the page helpers (pages.py), in-process."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.requests import Request

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
    assert identify(_request([]), FrontendSettings(token_key=KEY, dev_user="dev")) == Principal("dev", "dev")
    with pytest.raises(IdentityMissing):
        identify(_request([("X-Forwarded-User", "alice")]), FrontendSettings(token_key=KEY))


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
        ([cookie, ("sec-fetch-site", "same-site")], token, user),
    ]:
        with pytest.raises(CsrfRejected):
            guard.check(_request(headers, "https://docs.example.org/x"), who, presented)


def test_page_helpers_escape() -> None:
    assert (
        render("crumb.html", url="/?a=1&b=2", label="<b>x</b>")
        == '<li><a href="/?a=1&amp;b=2">&lt;b&gt;x&lt;/b&gt;</a></li>\n'
    )
    text = json_for_script({"name": "</script><!--&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": "</script><!--&\u2028"}
    assert content_disposition('a"b\\c.docx') == "attachment; filename=\"a_b_c.docx\"; filename*=UTF-8''a%22b%5Cc.docx"
