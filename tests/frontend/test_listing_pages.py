"""The file browser lists a folder one page at a time (issue 10, "Listing"), over real HTTP against a real
`wopi-storage` process: 100 items a page in storage's order (folders first, then documents, each by name), a
"More" link carrying storage's page token and a "First page" link back, and 400 for a page link that is not one."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from tests.frontend.servers import WopiHost
from wopi_frontend.routes.browser import BROWSER_PAGE_SIZE
from wopi_frontend.storage_client import StorageClient
from wopi_frontend.types import Principal


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    with WopiHost(Path(tmp_path_factory.mktemp("listing-pages")), WOPI_DEV_USER="alice") as started:
        yield started


def _names(page: str) -> list[str]:
    return [html.unescape(name) for name in re.findall(r'<a class="name" href="[^"]+">([^<]*)</a>', page)]


def _link(host: WopiHost, page: str, label: str) -> str | None:
    """The absolute URL of the page's link button labelled `label`, if there is one."""
    match = re.search(r'<a class="button[^"]*" href="([^"]+)"[^>]*>' + re.escape(label) + "</a>", page)
    return urljoin(host.url + "/", html.unescape(match.group(1))) if match else None


def _folder(host: WopiHost, name: str, files: int, folders: int = 0) -> str:
    """A folder made on disk as another program would, and its browser URL."""
    folder = host.documents / name
    folder.mkdir()
    for number in range(files):
        (folder / f"doc-{number:04}.docx").write_bytes(b"x")
    for number in range(folders):
        (folder / f"sub-{number}").mkdir()
    root = httpx.get(host.url + "/", timeout=10).text
    match = re.search(r'<a class="name" href="([^"]+)">' + re.escape(name) + "</a>", root)
    assert match, root
    return urljoin(host.url + "/", html.unescape(match.group(1)))


def test_a_large_folder_is_listed_in_pages_with_more_and_first_page_links(host: WopiHost) -> None:
    url = _folder(host, "Large", files=2 * BROWSER_PAGE_SIZE + 30, folders=3)
    expected = [f"sub-{number}" for number in range(3)] + [
        f"doc-{n:04}.docx" for n in range(2 * BROWSER_PAGE_SIZE + 30)
    ]
    seen: list[str] = []
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200
    assert _link(host, page.text, "First page") is None
    pages = 1
    while True:
        names = _names(page.text)
        assert len(names) <= BROWSER_PAGE_SIZE
        seen += names
        more = _link(host, page.text, "More")
        if more is None:
            break
        page = httpx.get(more, timeout=10)
        assert page.status_code == 200
        pages += 1
        first = _link(host, page.text, "First page")
        assert first is not None and _names(httpx.get(first, timeout=10).text) == expected[:BROWSER_PAGE_SIZE]
    assert seen == expected
    assert pages == 3


def test_a_small_folder_is_one_page_without_links(host: WopiHost) -> None:
    page = httpx.get(_folder(host, "Small", files=3), timeout=10).text
    assert _names(page) == ["doc-0000.docx", "doc-0001.docx", "doc-0002.docx"]
    assert _link(host, page, "More") is None and _link(host, page, "First page") is None


@pytest.mark.parametrize("token", ["not a token!", "<script>", "A" * 1025, "bm90IG91cnM"])
def test_a_page_link_that_is_not_one_is_400(host: WopiHost, token: str) -> None:
    """Refused before storage when it cannot be a token (not URL-safe, too long); refused by storage (and so 400,
    not 500) when it is well-formed but not a token storage handed out."""
    folder = host.documents / "Tokens"
    folder.mkdir(exist_ok=True)
    (folder / "a.docx").write_bytes(b"x")
    root = httpx.get(host.url + "/", timeout=10).text
    match = re.search(r'<a class="name" href="([^"]+)">Tokens</a>', root)
    assert match
    url = urljoin(host.url + "/", html.unescape(match.group(1)))
    response = httpx.get(url, params={"page": token}, timeout=10)
    assert response.status_code == 400
    assert "<script>" not in response.text


def test_from_an_adapter_that_cannot_page_the_client_reads_one_page_of_the_stream(host: WopiHost) -> None:
    """An adapter without `paged_listing` (one that predates ListChildrenPage): the client reads at most one page's
    worth of ListChildren, cancels the rest, and says that there was more."""
    _folder(host, "Old adapter", files=5)

    async def pages() -> tuple[int, bool, int, bool]:
        client = StorageClient(host.storage.target, host.storage.secret)
        try:
            alice = Principal("alice")
            real = await client.capabilities()
            old = type(real)()
            old.CopyFrom(real)
            old.paged_listing = False
            client._capabilities = old  # what GetCapabilities answers from an adapter without the field
            root = await client.root_container(alice)
            folder = (await client.lookup_child(root.container_id, "Old adapter", alice)).container
            short = await client.list_children_page(folder.container_id, alice, 3)
            whole = await client.list_children_page(folder.container_id, alice, 10)
            return len(short.items), short.truncated, len(whole.items), whole.truncated
        finally:
            await client.close()

    assert asyncio.run(pages()) == (3, True, 5, False)
