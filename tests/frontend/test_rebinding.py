"""DNS rebinding: a page whose name resolves to our address is refused by `Host` (host_check.py), and its
`Origin` is refused by the CSRF guard (csrf.py). Real services over loopback HTTP; the attacker's requests
carry the `Host` and `Origin` a browser would send for `http://rebind.example:8080/`."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.frontend.servers import WopiHost
from tests.frontend.wopi import http, open_file, raw_http, status_lines
from wopi_frontend.app import create_app
from wopi_frontend.settings import FrontendSettings

REBIND = "rebind.example:8080"


def _csrf_of(listing: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', listing)
    assert match, "the listing has no form token"
    return html.unescape(match.group(1))


def test_a_rebinding_host_is_refused_on_every_route(wopi_host: WopiHost, file_name: str) -> None:
    file = open_file(wopi_host, file_name, b"secret contents")
    file_id = file.file_id
    token = {"access_token": file.access_token}
    requests = [
        ("GET", "/", {}, None),
        ("GET", f"/wopi/files/{file_id}", token, None),
        ("GET", f"/wopi/files/{file_id}/contents", token, None),
        ("POST", "/api/v1/sessions", {}, b"{}"),
        ("POST", f"/browse/files/{file_id}/delete", {}, b"csrf=x"),
        ("POST", f"/browse/files/{file_id}/rename", {}, b"csrf=x&name=stolen.wopitest"),
        ("GET", f"/browse/download/{file_id}", {}, None),
        ("GET", f"/host/{file_id}", {"action": "view"}, None),
        ("GET", "/static/browser.js", {}, None),
    ]
    for method, path, params, body in requests:
        headers = {"Host": REBIND, "Origin": f"http://{REBIND}"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = http.request(method, wopi_host.url + path, params=params, content=body, headers=headers)
        assert response.status_code == 421, (method, path, response.status_code)
        assert "answers only to its own address" in response.text
        assert b"secret contents" not in response.content and file.access_token not in str(response.headers)
    # Nothing changed, and addressed by its own name the same server serves the same routes.
    assert (wopi_host.documents / file_name).read_bytes() == b"secret contents"
    assert http.get(wopi_host.url + "/").status_code == 200
    assert http.get(f"{wopi_host.url}/wopi/files/{file_id}/contents", params=token).content == b"secret contents"


def test_the_names_a_loopback_server_answers_to(wopi_host: WopiHost) -> None:
    port = wopi_host.port
    for name in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LocalHost:{port}"):
        assert http.get(wopi_host.url + "/", headers={"Host": name}).status_code == 200, name
    for name in ("127.0.0.1", f"127.0.0.1:{port + 1}", f"127.0.0.2:{port}", f"localhost.:{port}", REBIND):
        assert http.get(wopi_host.url + "/", headers={"Host": name}).status_code == 421, name
    for name in (f"127.0.0.1:{port}.evil", f"user@127.0.0.1:{port}", f"127.0.0.1:{port}/x", "127.0.0.1:99999", ""):
        assert http.get(wopi_host.url + "/", headers={"Host": name}).status_code == 400, name


def test_a_missing_repeated_or_non_ascii_host_is_a_bad_request(wopi_host: WopiHost) -> None:
    own = f"127.0.0.1:{wopi_host.port}".encode()
    for request in (
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: " + own + b"\r\nHost: " + own + b"\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: " + own + b"\r\nHost: rebind.example:8080\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: \xc3\xa9.example:8080\r\nConnection: close\r\n\r\n",
    ):
        answer = raw_http(wopi_host, request)  # httpx always sends exactly one well-formed Host
        assert status_lines(answer) == [400], request
        assert b"Host header" in answer
    assert status_lines(raw_http(wopi_host, b"GET / HTTP/1.1\r\nHost: " + own + b"\r\nConnection: close\r\n\r\n")) == [
        200
    ]


def test_healthz_answers_whatever_the_host(wopi_host: WopiHost) -> None:
    """Exempt on purpose: it tells only whether the service is up, and container health checks and orchestrator
    probes call it by an address that is none of the public names."""
    response = http.get(wopi_host.url + "/healthz", headers={"Host": REBIND})
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.fixture(scope="module")
def proxied_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """Behind a proxy that rewrites Host: the names it sends are allowed by WOPI_ALLOWED_HOSTS. One of them is
    `rebind.example:8080` itself, to show that the CSRF guard refuses its Origin even when the Host passes."""
    base = Path(tmp_path_factory.mktemp("wopi-proxied"))
    allowed = f"proxy.internal:8080, Other.Internal, {REBIND}"
    with WopiHost(base, WOPI_DEV_USER="test-user", WOPI_ALLOWED_HOSTS=allowed) as host:
        yield host


def test_allowed_hosts_adds_names_and_nothing_else(proxied_host: WopiHost) -> None:
    url = proxied_host.url + "/"
    for name in ("proxy.internal:8080", "other.internal", "other.internal:80", f"127.0.0.1:{proxied_host.port}"):
        assert http.get(url, headers={"Host": name}).status_code == 200, name
    for name in ("proxy.internal", "proxy.internal:8081", "other.internal:8080", "evil.internal:8080"):
        assert http.get(url, headers={"Host": name}).status_code == 421, name


def test_an_unusable_allowed_hosts_entry_stops_the_start() -> None:
    for entry in ("a b", "https://proxy.internal", "proxy.internal:0", "proxy.internal/x"):
        with pytest.raises(ValueError, match="allowed_hosts"):
            create_app(FrontendSettings(token_key="k" * 32, allowed_hosts=entry))


def test_the_csrf_guard_refuses_a_rebinding_origin_even_when_its_host_is_allowed(
    proxied_host: WopiHost, file_name: str
) -> None:
    """Once, the guard accepted an Origin equal to the origin the request was addressed to, read from Host."""
    file = open_file(proxied_host, file_name, b"keep me")
    with httpx.Client(base_url=proxied_host.url, headers={"Host": REBIND}, timeout=30) as attacker:
        listing = attacker.get("/")  # with this Host allowed, the page (and its form token) can be read
        assert listing.status_code == 200
        form = {"csrf": _csrf_of(listing.text)}
        refused = attacker.post(
            f"/browse/files/{file.file_id}/delete", data=form, headers={"Origin": f"http://{REBIND}"}
        )
        assert refused.status_code == 403 and "Nothing was changed" in refused.text
        assert (proxied_host.documents / file_name).read_bytes() == b"keep me"
        # The same form with the public origin goes through: the Origin alone made the difference.
        accepted = attacker.post(
            f"/browse/files/{file.file_id}/delete", data=form, headers={"Origin": proxied_host.url}
        )
        assert accepted.status_code == 303
    assert not (proxied_host.documents / file_name).exists()
