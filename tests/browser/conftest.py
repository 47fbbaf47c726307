"""Browser tests: Debian's Chromium driven by Playwright, against the real services and a stand-in office.

Chromium is required, not optional: without /usr/bin/chromium (installed by `make system-deps`) these tests
fail and say why. Never `playwright install`: it downloads a browser build of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from tests.browser.office_client import StandInOffice
from tests.frontend.servers import WopiHost

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
DEV_USER = "alice"
_taken: list[Path] = []


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for this package's tests. Package-scoped, not session-scoped: Playwright's sync API keeps an
    event loop running in this thread while it is open, and tests elsewhere call asyncio.run."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium (`make system-deps` installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the Python package playwright is missing: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def host_with_office(host: WopiHost) -> Iterator[tuple[WopiHost, StandInOffice]]:
    """`host` (not started yet) started with the stand-in office as its WOPI client; both stopped after."""
    office = StandInOffice(host.url).start()
    host.environment["WOPI_DISCOVERY_URL"] = office.discovery_url
    try:
        host.start()
        yield host, office
    finally:
        host.stop()
        office.stop()


@pytest.fixture(scope="package")
def office_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WopiHost, StandInOffice]]:
    """Storage and front-end, with the stand-in office as the WOPI client and `alice` as the development user."""
    with host_with_office(WopiHost(Path(tmp_path_factory.mktemp("browser-host")), WOPI_DEV_USER=DEV_USER)) as both:
        yield both


@dataclass
class Watched:
    """What a page did that a test must know about: dialogs (alert, confirm...) and uncaught script errors."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def watched() -> Watched:
    return Watched()


def _new_page(browser: Any, watched: Watched, **options: Any) -> Iterator[Any]:
    context = browser.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(10_000)

    def on_dialog(dialog: Any) -> None:
        watched.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    yield page
    context.close()
    assert watched.errors == [], f"uncaught script errors: {watched.errors}"


@pytest.fixture
def page(browser: Any, watched: Watched) -> Iterator[Any]:
    """A desktop-sized page in a fresh browser context (its own cookies)."""
    yield from _new_page(browser, watched, viewport={"width": 1280, "height": 800})


@pytest.fixture
def phone_page(browser: Any, watched: Watched) -> Iterator[Any]:
    """A phone-sized page (an iPhone 12's viewport), touch enabled."""
    yield from _new_page(
        browser,
        watched,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )


@pytest.fixture
def open_page(browser: Any, watched: Watched) -> Iterator[Callable[..., Any]]:
    """Makes pages, each in a browser context of its own, with that context's options: `open_page(viewport=...,
    extra_http_headers={"X-Forwarded-User": "bob"})` for a person of their own. Closed (and checked for uncaught
    script errors) after the test."""
    pages: list[Iterator[Any]] = []

    def open_one(**options: Any) -> Any:
        made = _new_page(browser, watched, **options)
        pages.append(made)
        return next(made)

    yield open_one
    for made in pages:
        next(made, None)


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    _taken.append(path)
    return path


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _taken:
        terminalreporter.section("browser screenshots")
        for path in dict.fromkeys(_taken):
            terminalreporter.write_line(str(path))


def folder_on_disk(host: WopiHost, name: str, files: dict[str, bytes] | None = None) -> Path:
    """A folder of documents made as another program would (storage notices it), for one test's own use."""
    folder = host.documents / name
    folder.mkdir()
    for file_name, data in (files or {}).items():
        (folder / file_name).write_bytes(data)
    return folder


def link_in_listing(host: WopiHost, html: str, name: str) -> str:
    """The absolute URL of the listing's link named `name` (the page shows the name escaped)."""
    import html as html_module

    match = re.search(r'<a class="name" href="([^"]+)">' + re.escape(html_module.escape(name)) + "</a>", html)
    assert match, f"{name!r} is not in the listing"
    return urljoin(host.url + "/", html_module.unescape(match.group(1)))


def folder_url(host: WopiHost, name: str) -> str:
    """The browser URL of a folder in the root, read from the root listing."""
    return link_in_listing(host, httpx.get(host.url + "/", timeout=10).text, name)
