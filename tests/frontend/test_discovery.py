"""WOPI discovery: parsing the three clients' documents, building action URLs, refusing hostile or broken XML,
and the service that keeps a copy fresh (down at start-up, refreshed on a timer and on demand, rate-limited)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.contract.process import free_port
from tests.frontend import discovery_samples as samples
from tests.frontend.discovery_server import DiscoveryServer
from tests.frontend.servers import WopiHost
from tests.validator.proofs import proofkeys_dir
from wopi_frontend.discovery import (
    MAX_DISCOVERY_BYTES,
    Discovery,
    DiscoveryError,
    DiscoveryService,
    parse_discovery,
)

WOPI_SRC = "https://wopi.example.org/wopi/files/abc123"
ENCODED_SRC = "https%3A%2F%2Fwopi.example.org%2Fwopi%2Ffiles%2Fabc123"


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


# ---- parsing -----------------------------------------------------------------------------------------------


def test_the_validators_discovery() -> None:
    discovery = parse_discovery((proofkeys_dir() / "discovery.xml").read_bytes())  # starts with a UTF-8 BOM
    assert discovery.net_zone == "external-https"
    assert discovery.client_origin == "https://ffc-onenote.officeapps.live.com"
    assert discovery.proof_key is not None and discovery.proof_key.old is not None
    view = discovery.find_action(extension="wopitest", name="view")
    assert view is not None and view.app == "WopiTest" and view.mime == ""
    assert discovery.find_action(extension=".WOPITEST", name="getinfo") is not None  # dot and case ignored
    assert discovery.find_action(extension="docx", name="view") is None


def test_office_prefers_the_external_https_zone_and_fills_placeholders() -> None:
    discovery = parse_discovery(samples.office())
    assert discovery.net_zone == "external-https"
    assert discovery.client_origin == "https://word-edit.officeapps.live.com"
    edit = discovery.find_action(extension="docx", name="edit")
    assert edit is not None and edit.requires == {"locks", "update"} and edit.favicon_url.endswith("FavIcon_Word.ico")
    url = discovery.action_url(edit, WOPI_SRC, ui_language="de-DE", extra={"BUSINESS_USER": "1"})
    assert url.startswith("https://word-edit.officeapps.live.com/we/wordeditorframe.aspx?")
    # Known placeholders keep their parameter names, URL-encoded; unknown ones (DISABLE_CHAT, ...) are gone.
    assert urlsplit(url).query == f"ui=de-DE&rs=de-DE&wopisrc={ENCODED_SRC}&IsLicensedUser=1"
    assert "<" not in url and ">" not in url


def test_wopi_source_is_always_substituted_even_without_a_language() -> None:
    discovery = parse_discovery(samples.office())
    view = discovery.find_action(extension="docx", name="view")
    assert view is not None
    assert urlsplit(discovery.action_url(view, WOPI_SRC)).query == f"wopisrc={ENCODED_SRC}"
    # Extra query parameters (wd* passed through, sftc) go at the end, encoded.
    url = discovery.action_url(view, WOPI_SRC, query={"wdPreviousSession": "a b", "sftc": "1"})
    assert query_of(url) == {"wopisrc": [WOPI_SRC], "wdPreviousSession": ["a b"], "sftc": ["1"]}


def test_collabora_by_extension_or_mime_and_wopisrc_appended() -> None:
    discovery = parse_discovery(samples.collabora())
    assert discovery.net_zone == "external-http" and discovery.client_origin == "http://localhost:9980"
    odt = discovery.find_action(extension="odt", name="edit")
    assert odt is not None and odt.mime == "application/vnd.oasis.opendocument.text"
    assert discovery.find_action(extension="", name="view", mime="application/pdf") is not None
    assert discovery.find_action(extension="unknown", name="edit", mime="text/plain") is not None
    # Collabora's urlsrc ends in "?": the host appends WOPISrc.
    assert (
        discovery.action_url(odt, WOPI_SRC) == f"http://localhost:9980/browser/a1b2c3/cool.html?WOPISrc={ENCODED_SRC}"
    )
    assert query_of(discovery.action_url(odt, WOPI_SRC, query={"lang": "fr"})) == {
        "WOPISrc": [WOPI_SRC],
        "lang": ["fr"],
    }


def test_onlyoffice_templates_lose_their_stray_ampersands() -> None:
    discovery = parse_discovery(samples.onlyoffice())
    assert discovery.net_zone == "external-http"  # ONLYOFFICE's default zone, not external-https
    edit = discovery.find_action(extension="docx", name="edit")
    assert edit is not None and edit.default
    url = discovery.action_url(edit, WOPI_SRC, ui_language="en-US")
    assert url == f"http://docs.example.test/hosting/wopi/word/edit?rs=en-US&ui=en-US&wopisrc={ENCODED_SRC}"
    embed = discovery.find_action(extension="docx", name="embedview")
    assert embed is not None
    assert discovery.action_url(embed, WOPI_SRC).endswith(f"/word/view?embed=1&wopisrc={ENCODED_SRC}")
    # The MIME-named app (ext="") is found by MIME type.
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert discovery.find_action(extension="", name="edit", mime=mime) is not None


def test_an_action_of_the_files_mime_type_wins_among_several() -> None:
    document = (
        b'<wopi-discovery><net-zone name="external-http">'
        b'<app name="application/rtf"><action name="edit" ext="rtf" urlsrc="http://c/a?"/></app>'
        b'<app name="text/rtf"><action name="edit" ext="rtf" urlsrc="http://c/b?"/></app>'
        b"</net-zone></wopi-discovery>"
    )
    discovery = parse_discovery(document)
    chosen = discovery.find_action(extension="rtf", name="edit", mime="text/rtf")
    assert chosen is not None and chosen.app == "text/rtf"
    first = discovery.find_action(extension="rtf", name="edit")
    assert first is not None and first.app == "application/rtf"


def test_the_proof_key_from_csp_blobs_when_there_is_no_modulus() -> None:
    attributes = (proofkeys_dir() / "discovery.xml").read_text(encoding="utf-8-sig")
    full = parse_discovery(attributes.encode())
    # The same document with only value/oldvalue (the .NET CSP blobs) gives the same keys.
    import re

    blobs_only = re.sub(r'\s(old)?(modulus|exponent)="[^"]*"', "", attributes)
    assert "modulus" not in blobs_only
    from_blobs = parse_discovery(blobs_only.encode())
    assert full.proof_key is not None and from_blobs.proof_key is not None
    assert from_blobs.proof_key.current.public_numbers() == full.proof_key.current.public_numbers()
    assert from_blobs.proof_key.old is not None and full.proof_key.old is not None
    assert from_blobs.proof_key.old.public_numbers() == full.proof_key.old.public_numbers()


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"", "not well-formed"),
        (b"<wopi-discovery><net-zone>", "not well-formed"),
        (b"<html><body>Bad gateway</body></html>", "root element"),
        (b'<wopi-discovery><net-zone name="external-https"/></wopi-discovery>', "no actions and no proof key"),
        (
            b'<wopi-discovery><net-zone name="x"><app name="A"><action name="view" ext="a" urlsrc="javascript:x"/>'
            b"</app></net-zone></wopi-discovery>",
            "no actions and no proof key",
        ),
        (b'<wopi-discovery><proof-key modulus="!!" exponent="AQAB"/></wopi-discovery>', "bad proof-key"),
        (b'<wopi-discovery><proof-key modulus="AQAB" exponent="AQAB"/></wopi-discovery>', "bad proof-key"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<wopi-discovery><net-zone name="n"><app name="&x;"><action name="view" ext="a" urlsrc="http://c/?"/>'
            b"</app></net-zone></wopi-discovery>",
            "DOCTYPE|external entity",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
            b'<wopi-discovery><net-zone name="n"><app name="&d;"><action name="view" ext="a" urlsrc="http://c/?"/>'
            b"</app></net-zone></wopi-discovery>",
            "DOCTYPE",
        ),
    ],
)
def test_broken_or_hostile_documents_are_refused(document: bytes, reason: str) -> None:
    with pytest.raises(DiscoveryError, match=reason):
        parse_discovery(document)


def test_a_document_over_the_size_limit_is_refused() -> None:
    huge = samples.office().replace(
        b"</wopi-discovery>", b"<!--" + b"x" * MAX_DISCOVERY_BYTES + b"--></wopi-discovery>"
    )
    with pytest.raises(DiscoveryError, match="larger than"):
        parse_discovery(huge)


def test_entities_are_never_expanded(tmp_path: Path) -> None:
    """Even below the DOCTYPE check, the parser neither reads files nor expands entities."""
    from lxml import etree

    from wopi_frontend.discovery import _parser

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    document = f'<!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]><d>&x;</d>'.encode()
    assert b"TOP-SECRET" not in etree.tostring(etree.fromstring(document, _parser()))


# ---- the service -------------------------------------------------------------------------------------------


def run(coroutine_function: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coroutine_function(), 30))


async def eventually(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not become true in time")
        await asyncio.sleep(0.02)


def test_a_client_down_at_start_up_is_retried_in_the_background() -> None:
    server = DiscoveryServer(samples.collabora())  # not started yet: the port refuses connections

    async def scenario() -> None:
        service = DiscoveryService(server.url, refresh_interval=3600, retry_initial=0.05, retry_max=0.2)
        started = time.monotonic()
        await service.start()
        assert time.monotonic() - started < 5 and service.current is None
        server.start()
        try:
            await eventually(lambda: service.current is not None)
            assert isinstance(service.current, Discovery)
        finally:
            await service.close()
            server.stop()

    run(scenario)


def test_a_broken_refresh_keeps_the_copy_held() -> None:
    with DiscoveryServer(samples.onlyoffice()) as server:

        async def scenario() -> None:
            service = DiscoveryService(server.url, refresh_interval=3600, min_refresh_gap=0)
            await service.start()
            try:
                held = service.current
                assert held is not None
                for document, status in ((b"<wopi-discovery", 200), (samples.office(), 503), (b"<html/>", 200)):
                    server.document, server.status = document, status
                    await service.refresh_now()
                    assert service.current is held
                server.document, server.status = samples.office(), 200
                await service.refresh_now()
                assert service.current is not held and service.current.net_zone == "external-https"
            finally:
                await service.close()

        run(scenario)


def test_a_huge_response_is_cut_off_and_refused() -> None:
    with DiscoveryServer(samples.collabora()) as server:

        async def scenario() -> None:
            service = DiscoveryService(server.url, refresh_interval=3600, min_refresh_gap=0)
            await service.start()
            try:
                held = service.current
                server.document = b"<wopi-discovery>" + b" " * (MAX_DISCOVERY_BYTES + 10) + b"</wopi-discovery>"
                await service.refresh_now()
                assert service.current is held
            finally:
                await service.close()

        run(scenario)


def test_refresh_now_is_rate_limited() -> None:
    with DiscoveryServer(samples.collabora()) as server:

        async def scenario() -> None:
            service = DiscoveryService(server.url, refresh_interval=3600, min_refresh_gap=60)
            await service.start()
            try:
                assert server.fetches == 1
                await asyncio.gather(*(service.refresh_now() for _ in range(20)))
                service.refresh_soon()
                await asyncio.sleep(0.2)
                assert server.fetches == 1  # within a minute of the last fetch: nothing
            finally:
                await service.close()

        run(scenario)


def test_the_timer_refreshes() -> None:
    with DiscoveryServer(samples.collabora()) as server:

        async def scenario() -> None:
            service = DiscoveryService(server.url, refresh_interval=0.1)
            await service.start()
            try:
                await eventually(lambda: server.fetches >= 3)
            finally:
                await service.close()

        run(scenario)


# ---- the front-end with a discovery that is down -----------------------------------------------------------


def test_the_front_end_starts_without_its_discovery_and_picks_it_up_later(tmp_path: Path) -> None:
    """An unreachable client does not stop the front-end; WOPI requests are refused until its keys are known
    (proof checks are on), then the background retry finds it."""
    server = DiscoveryServer(samples.collabora(), port=free_port())
    with WopiHost(tmp_path, WOPI_DISCOVERY_URL=server.url) as host:
        assert httpx.get(f"{host.url}/healthz").status_code == 200
        session = host.token("later.wopitest")
        response = httpx.get(session["wopi_src"], params={"access_token": session["access_token"]})
        assert response.status_code == 500 and "not loaded" in response.headers["X-WOPI-ServerError"]
        with server:
            deadline = time.monotonic() + 20
            while True:  # the retry backs off 1, 2, 4... seconds; this discovery has no proof key: no checks
                response = httpx.get(session["wopi_src"], params={"access_token": session["access_token"]})
                if response.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            assert response.status_code == 200, host.log_tail()
    assert "discovery" in host.log_tail()
