"""The host page and the file browser over plain HTTP: headers, markup, tokens, CSRF, downloads, identity, and the
pages shown when there is no editor. (The browser tests show the same pages working; these pin the details.)"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
import re
from collections.abc import Iterator
from http.cookies import Morsel, SimpleCookie
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from starlette.responses import Response

from tests.browser.conftest import DEV_USER, folder_on_disk, folder_url, link_in_listing
from tests.browser.office_client import StandInOffice
from tests.contract.process import free_port
from tests.frontend.servers import WopiHost
from tests.frontend.wopi import issuer_of, settings_of
from wopi_frontend.flash import FlashCookie
from wopi_frontend.types import PERMISSION_SETS, FileId, Principal

Host = tuple[WopiHost, StandInOffice]
SANDBOX = "allow-scripts allow-same-origin allow-forms allow-popups allow-top-navigation allow-popups-to-escape-sandbox"
VIEWPORT = (
    '<meta name="viewport" content="width=device-width, initial-scale=1, maximum-scale=1, minimum-scale=1, '
    'user-scalable=no">'
)


@pytest.fixture(scope="module")
def proxied_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """Identity from a reverse proxy's header (the development user must then be ignored); no editor."""
    base = Path(tmp_path_factory.mktemp("proxied"))
    with WopiHost(base, WOPI_IDENTITY_HEADER="X-Forwarded-User", WOPI_DEV_USER="nobody") as host:
        yield host


@pytest.fixture(scope="module")
def editor_down_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """A discovery URL where nothing answers: the editor is configured but unavailable."""
    base = Path(tmp_path_factory.mktemp("editor-down"))
    url = f"http://127.0.0.1:{free_port()}/hosting/discovery"
    with WopiHost(base, WOPI_DEV_USER=DEV_USER, WOPI_DISCOVERY_URL=url) as host:
        yield host


def _file_id(host: WopiHost, folder: str, name: str) -> str:
    href = link_in_listing(host, httpx.get(folder_url(host, folder)).text, name)
    match = re.search(r"/host/([A-Za-z0-9_-]+)\?action=", href)
    assert match, href
    return match.group(1)


def _config(page: str) -> dict[str, object]:
    match = re.search(r'<script type="application/json" id="host-config">(.*?)</script>', page, re.S)
    assert match
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def _form_field(page: str, name: str) -> str:
    match = re.search(rf'<input name="{name}" value="([^"]*)" type="hidden">', page)
    assert match, name
    return html.unescape(match.group(1))


# ---- the host page ----


def test_host_page_markup_and_headers(office_host: Host) -> None:
    host, office = office_host
    folder_on_disk(host, "Host page", {"Plan.docx": b"plan"})
    file_id = _file_id(host, "Host page", "Plan.docx")
    response = httpx.get(f"{host.url}/host/{file_id}?action=view", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache, no-store"
    assert response.headers["expires"] == "-1"
    assert response.headers["pragma"] == "no-cache"
    policy = response.headers["content-security-policy"]
    assert f"frame-src {office.origin};" in policy
    assert f"form-action {office.origin};" in policy
    assert "frame-ancestors 'self'" in policy
    page = response.text
    assert VIEWPORT in page
    assert f'<link rel="shortcut icon" href="{office.origin}/favicon/word.svg">' in page
    for rule in ("overflow: hidden;", "-ms-content-zooming: none;", "position: absolute;", "border: none;"):
        assert rule in page

    # The form POSTs the token into the frame; the action URL is the discovery's, placeholders filled.
    form = re.search(
        r'<form id="office_form" name="office_form" target="office_frame" action="([^"]+)" method="post">', page
    )
    assert form
    action = html.unescape(form.group(1))
    wopi_src = f"{host.url}/wopi/files/{file_id}"
    assert action == f"{office.origin}/frame/view?ui=de-DE&rs=de-DE&wopisrc={quote(wopi_src, safe='')}"
    token = issuer_of(host).verify(_form_field(page, "access_token"))
    assert (token.user.user_id, token.file_id, token.permissions) == (DEV_USER, file_id, PERMISSION_SETS["view"])
    assert int(_form_field(page, "access_token_ttl")) == token.expires_ms

    config = _config(page)
    assert config["sandbox"] == SANDBOX
    assert config["frameOrigin"] == office.origin
    assert config["trustedOrigins"] == [office.origin]
    assert str(config["closeUrl"]).startswith(f"{host.url}/?container=")

    # Edit mints an edit token; wd* parameters pass through exactly as they came.
    edit = httpx.get(f"{host.url}/host/{file_id}?action=edit&wdOrigin=a%20b&wdNewAndOpenCt=1&x=wd").text
    edit_action = html.unescape(re.search(r'target="office_frame" action="([^"]+)"', edit).group(1))  # type: ignore[union-attr]
    assert edit_action.startswith(f"{office.origin}/frame/edit?")
    assert edit_action.endswith("&wdOrigin=a%20b&wdNewAndOpenCt=1")
    assert issuer_of(host).verify(_form_field(edit, "access_token")).permissions == PERMISSION_SETS["edit"]


def test_host_page_refusals(office_host: Host) -> None:
    host, _ = office_host
    folder_on_disk(host, "Refusals", {"Plan.docx": b"plan", "archive.zip": b"zip"})
    file_id = _file_id(host, "Refusals", "Plan.docx")
    unknown = httpx.get(f"{host.url}/host/{file_id}?action=delete")
    assert unknown.status_code == 400
    assert "Unknown action" in unknown.text
    assert httpx.get(f"{host.url}/host/not..an..id").status_code == 404
    assert httpx.get(f"{host.url}/host/0123456789abcdef01234567").status_code == 404
    # A type the editor does not open: said plainly, with the download (listed as a download, too).
    zip_link = link_in_listing(host, httpx.get(folder_url(host, "Refusals")).text, "archive.zip")
    assert "/browse/download/" in zip_link
    zip_id = zip_link.rsplit("/", 1)[1]
    page = httpx.get(f"{host.url}/host/{zip_id}?action=view")
    assert page.status_code == 200
    assert "cannot be opened here" in page.text
    assert f"/browse/download/{zip_id}" in page.text


def test_json_in_the_host_page_cannot_end_its_script(office_host: Host) -> None:
    host, _ = office_host
    name = "<script>alert(1)<!--.docx"
    folder_on_disk(host, "Script names", {name: b"x"})
    page = httpx.get(f"{host.url}/host/{_file_id(host, 'Script names', name)}?action=view").text
    assert "<script>alert" not in page
    assert _config(page)["name"] == name
    assert "\\u003cscript\\u003ealert(1)\\u003c!--.docx" in page


def test_a_token_posted_by_an_embedding_application(office_host: Host) -> None:
    host, office = office_host
    folder_on_disk(host, "Embedded", {"Shared.docx": b"shared", "Other.docx": b"other"})
    file_id = _file_id(host, "Embedded", "Shared.docx")
    other_id = _file_id(host, "Embedded", "Other.docx")
    issuer = issuer_of(host)
    token, claims = issuer.issue(Principal("bob", "Bob"), FileId(file_id), PERMISSION_SETS["edit"])
    form = {"access_token": token, "access_token_ttl": str(claims.expires_ms)}
    response = httpx.post(f"{host.url}/host/{file_id}?action=edit", data=form)
    assert response.status_code == 200
    assert _form_field(response.text, "access_token") == token
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-cache, no-store"
    config = _config(response.text)
    assert config["editUrl"] is None and config["versionsUrl"] is None  # nothing that needs a signed-in user
    assert f"{office.origin}/frame/edit?" in response.text

    view_token, _ = issuer.issue(Principal("bob"), FileId(file_id), PERMISSION_SETS["view"])
    as_view = httpx.post(f"{host.url}/host/{file_id}?action=edit", data={"access_token": view_token})
    assert f"{office.origin}/frame/view?" in as_view.text  # a view token cannot open the editor

    assert httpx.post(f"{host.url}/host/{other_id}", data=form).status_code == 401  # another file's token
    assert httpx.post(f"{host.url}/host/{file_id}", data={"access_token": token[:-2]}).status_code == 401
    assert httpx.post(f"{host.url}/host/{file_id}", content=token).status_code == 401


# ---- the file browser: CSRF, upload, download, versions ----


def _csrf(client: httpx.Client, url: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(url).text)
    assert match
    return match.group(1)


def test_post_actions_need_same_origin_and_the_token(office_host: Host) -> None:
    host, _ = office_host
    folder = folder_on_disk(host, "CSRF", {"Target.docx": b"t"})
    file_id = _file_id(host, "CSRF", "Target.docx")
    rename = f"{host.url}/browse/files/{file_id}/rename"
    with httpx.Client() as client, httpx.Client() as stranger:
        token = _csrf(client, folder_url(host, "CSRF"))
        _csrf(stranger, host.url + "/")  # a cookie of its own: the token above is not valid with it
        refused = [
            client.post(rename, data={"name": "A.docx"}),
            client.post(rename, data={"name": "B.docx", "csrf": "wrong"}),
            client.post(rename, data={"name": "C.docx", "csrf": token}, headers={"Origin": "http://evil.example"}),
            client.post(rename, data={"name": "D.docx", "csrf": token}, headers={"Sec-Fetch-Site": "cross-site"}),
            client.post(rename, data={"name": "E.docx", "csrf": token}, headers={"Sec-Fetch-Site": "same-site"}),
            stranger.post(rename, data={"name": "F.docx", "csrf": token}),
            client.post(rename, json={"name": "G.docx", "csrf": token}),
        ]
        assert [response.status_code for response in refused] == [403, 403, 403, 403, 403, 403, 400]
        assert "Nothing was changed" in refused[0].text
        assert (folder / "Target.docx").exists()
        same_origin = {"Origin": host.url, "Sec-Fetch-Site": "same-origin"}
        done = client.post(rename, data={"name": "Renamed.docx", "csrf": token}, headers=same_origin)
        assert done.status_code == 303
        assert done.headers["location"].startswith("/?container=")
        assert (folder / "Renamed.docx").read_bytes() == b"t"
        # The message shows once, on the next page.
        back = host.url + done.headers["location"]
        assert "Renamed “Target.docx” to “Renamed.docx”." in client.get(back).text
        assert "Renamed “Target.docx”" not in client.get(back).text


def test_upload_download_and_versions(office_host: Host) -> None:
    host, office = office_host
    folder = folder_on_disk(host, "Transfers")
    listing = folder_url(host, "Transfers")
    with httpx.Client() as client:
        token = _csrf(client, listing)
        upload = host.url + re.search(r'data-upload-url="([^"]+)"', client.get(listing).text).group(1)  # type: ignore[union-attr]
        name = "Ünïcode report.docx"
        refused = client.post(upload, params={"name": name}, content=b"data")
        assert refused.status_code == 403 and "error" in refused.json()
        bad_name = client.post(upload, params={"name": "a|b.docx"}, content=b"data", headers={"X-CSRF-Token": token})
        assert bad_name.status_code == 400 and "cannot be used" in bad_name.json()["error"]
        created = client.post(upload, params={"name": name}, content=b"version one", headers={"X-CSRF-Token": token})
        assert created.status_code == 201, created.text
        file_id = created.json()["file_id"]
        assert (folder / name).read_bytes() == b"version one"

        download = client.get(f"{host.url}/browse/download/{file_id}")
        assert download.status_code == 200
        assert download.content == b"version one"
        assert download.headers["content-disposition"] == (
            "attachment; filename=\"_n_code report.docx\"; filename*=UTF-8''%C3%9Cn%C3%AFcode%20report.docx"
        )
        assert download.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
        assert download.headers["x-content-type-options"] == "nosniff"

        # A second version, saved by the stand-in office with signed WOPI calls.
        wopi_token, _ = issuer_of(host).issue(Principal(DEV_USER), FileId(file_id), PERMISSION_SETS["edit"])
        session = office.open_document("edit", f"{host.url}/wopi/files/{file_id}", wopi_token)
        office.save_and_unlock(session, b"version two")
        versions = client.get(f"{host.url}/browse/versions/{file_id}").json()
        assert versions["history"] is True
        assert [version["current"] for version in versions["versions"]] == [True, False]
        earlier = client.get(versions["versions"][1]["download_url"])  # absolute: the host page shows it
        assert earlier.content == b"version one"
        assert client.get(f"{host.url}/browse/download/{file_id}").content == b"version two"
        assert client.get(f"{host.url}/browse/download/0123456789abcdef01234567").status_code == 404


def test_deceptive_names_are_refused_by_every_browser_action(office_host: Host) -> None:
    """A name with a right-to-left override (`invoice` RLO `xcod.exe` displays as `invoiceexe.docx`) or another
    invisible character is refused by the upload, the new document, new folder and rename forms, with the
    character named by its code point; nothing is made or renamed."""
    host, _ = office_host
    folder = folder_on_disk(host, "Deceptive", {"Kept.docx": b"kept"})
    listing_url = folder_url(host, "Deceptive")
    file_id = _file_id(host, "Deceptive", "Kept.docx")
    with httpx.Client() as client:
        token = _csrf(client, listing_url)
        listing = client.get(listing_url).text
        upload = host.url + re.search(r'data-upload-url="([^"]+)"', listing).group(1)  # type: ignore[union-attr]
        refused = client.post(
            upload, params={"name": "invoice\u202excod.exe"}, content=b"MZ", headers={"X-CSRF-Token": token}
        )
        assert refused.status_code == 400 and "U+202E" in refused.json()["error"]
        forms = {
            "new-document": ("invoice\u202excod", {"type": ".docx"}),
            "new-folder": ("Folder\u200b", {}),
        }
        posts = [
            (host.url + re.search(rf'action="([^"]+/{action})"', listing).group(1), name, extra)  # type: ignore[union-attr]
            for action, (name, extra) in forms.items()
        ]
        posts.append((f"{host.url}/browse/files/{file_id}/rename", "Kept\u2066.docx", {}))
        for url, name, extra in posts:
            done = client.post(url, data={"name": name, "csrf": token, **extra})
            assert done.status_code == 303, (url, done.text)
            shown = client.get(host.url + done.headers["location"]).text
            invisible = next(character for character in name if not character.isascii())
            assert "That name cannot be used" in shown and f"U+{ord(invisible):04X}" in shown, url
    assert sorted(path.name for path in folder.iterdir()) == ["Kept.docx"]
    assert (folder / "Kept.docx").read_bytes() == b"kept"


# ---- the one-time message after a form (flash) ----


def _set_cookies(response: httpx.Response) -> dict[str, Morsel[str]]:
    jar: SimpleCookie = SimpleCookie()
    for line in response.headers.get_list("set-cookie"):
        jar.load(line)
    return dict(jar)


def _flash_value(host: WopiHost, user: str, text: str, *, token_key: str | None = None) -> str:
    """A flash cookie's value as the host would set it for `user` (or signed with another key)."""
    settings = settings_of(host)
    if token_key is not None:
        settings = dataclasses.replace(settings, token_key=token_key)
    response = Response()
    FlashCookie(settings).set(response, Principal(user), "error", text)
    return _set_cookies(httpx.Response(200, headers=response.headers.items()))["wopi_flash"].value


def test_a_flash_message_not_made_for_this_user_shows_nothing(office_host: Host) -> None:
    """A sibling host can set cookies for ours: a flash cookie that we did not sign, or signed for another user,
    shows nothing (and is deleted); one we signed for this user shows once."""
    host, _ = office_host
    text = "Your session expired: sign in again at evil.example"
    unsigned = base64.urlsafe_b64encode(json.dumps(["error", text]).encode()).decode()
    signed = _flash_value(host, DEV_USER, text)
    refused = {
        "unsigned": unsigned,
        "bad signature": signed.split(".")[0] + "." + unsigned[:43],
        "another key": _flash_value(host, DEV_USER, text, token_key="another-key-" + "k" * 32),
        "another user": _flash_value(host, "mallory", text),
        "garbage": "%%%.a.b",
    }
    for case, value in refused.items():
        page = httpx.get(host.url + "/", headers={"Cookie": f"wopi_flash={value}"})
        assert page.status_code == 200, case
        assert "evil.example" not in page.text, case
        assert _set_cookies(page)["wopi_flash"]["max-age"] == "0", case
    page = httpx.get(host.url + "/", headers={"Cookie": f"wopi_flash={signed}"})
    assert "evil.example" in page.text  # the control: signed for this user, it shows


@pytest.fixture(scope="module")
def https_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """Behind a TLS-terminating proxy: the public URL is https, the proxy talks plain HTTP to the port."""
    base = Path(tmp_path_factory.mktemp("https"))
    with WopiHost(base, WOPI_DEV_USER=DEV_USER, WOPI_PUBLIC_URL="https://docs.example.org") as host:
        yield host


def test_flash_cookie_on_an_https_public_url(https_host: WopiHost) -> None:
    """On an https public URL the flash cookie is Secure and `__Host-` (host-only, Path=/), like the CSRF cookie."""
    host = https_host
    proxied = {"Host": "docs.example.org", "X-Forwarded-Proto": "https"}
    listing = httpx.get(host.url + "/", headers=proxied)
    nonce = _set_cookies(listing)["__Host-wopi_csrf"].value
    token = re.search(r'name="csrf" value="([^"]+)"', listing.text).group(1)  # type: ignore[union-attr]
    action = re.search(r'action="([^"]+/new-folder)"', listing.text).group(1)  # type: ignore[union-attr]
    done = httpx.post(
        host.url + action,
        data={"name": "Made over https", "csrf": token},
        headers={**proxied, "Cookie": f"__Host-wopi_csrf={nonce}"},
    )
    assert done.status_code == 303, done.text
    cookies = _set_cookies(done)
    assert "wopi_flash" not in cookies
    flash = cookies["__Host-wopi_flash"]
    assert flash["secure"] and flash["httponly"] and flash["path"] == "/" and not flash["domain"]
    back = httpx.get(
        host.url + done.headers["location"],
        headers={**proxied, "Cookie": f"__Host-wopi_csrf={nonce}; __Host-wopi_flash={flash.value}"},
    )
    assert "Created the folder “Made over https”." in back.text
    deleted = _set_cookies(back)["__Host-wopi_flash"]
    assert deleted["max-age"] == "0" and deleted["secure"]


# ---- identity ----


def test_identity_from_a_reverse_proxy_header(proxied_host: WopiHost) -> None:
    host = proxied_host
    (host.documents / "Memo.docx").write_bytes(b"memo")
    anonymous = httpx.get(host.url + "/")
    assert anonymous.status_code == 403
    assert "X-Forwarded-User" in anonymous.text
    assert "not signed in" in anonymous.text
    assert httpx.get(host.url + "/", headers=[("X-Forwarded-User", "a"), ("X-Forwarded-User", "b")]).status_code == 403
    headers = {"X-Forwarded-User": "bob", "X-Forwarded-Name": "Bøb Ünger".encode()}
    page = httpx.get(host.url + "/", headers=headers)
    assert page.status_code == 200
    assert '<span class="user-name">Bøb Ünger</span>' in page.text
    assert 'title="Signed in as bob"' in page.text

    # No editor configured: the host page says so (200), and still offers the download.
    href = link_in_listing(host, page.text, "Memo.docx")
    host_page = httpx.get(href, headers=headers)
    assert host_page.status_code == 200
    assert "The editor is unavailable" in host_page.text
    assert "No office editor is configured" in host_page.text
    download = host.url + re.search(r'href="(/browse/download/[^"]+)"', host_page.text).group(1)  # type: ignore[union-attr]
    assert httpx.get(download, headers=headers).content == b"memo"
    assert httpx.get(download).status_code == 403
    assert "No office editor is configured" in page.text


def test_display_name_from_the_proxy_is_cleaned(proxied_host: WopiHost) -> None:
    """Bidi controls, zero-width and control characters are dropped from the proxy's display name, as from the
    sessions API's (text.py): they could make one person's name pose as another's."""
    headers = {"X-Forwarded-User": "eve", "X-Forwarded-Name": "\u202eB\u200bø\u2066b\x85 \ufeff".encode()}
    page = httpx.get(proxied_host.url + "/", headers=headers)
    assert '<span class="user-name">Bøb</span>' in page.text


def test_editor_configured_but_unreachable(editor_down_host: WopiHost) -> None:
    host = editor_down_host
    (host.documents / "Memo.docx").write_bytes(b"memo")
    listing = httpx.get(host.url + "/")
    assert "The office editor is unavailable right now" in listing.text
    page = httpx.get(link_in_listing(host, listing.text, "Memo.docx"))
    assert page.status_code == 503
    assert page.headers["retry-after"] == "30"
    assert page.headers["cache-control"] == "no-cache, no-store"
    assert "The editor is unavailable" in page.text
    assert "/browse/download/" in page.text
