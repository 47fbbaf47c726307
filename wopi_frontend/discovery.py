"""WOPI discovery: what the WOPI client (Office for the web, Collabora Online, ONLYOFFICE) can open, the URLs
of its editors, and its proof keys, read from its discovery XML.

`parse_discovery` turns the XML into a `Discovery` (pure, safe against hostile XML). `DiscoveryService` keeps
the current copy: fetched at start-up, refreshed on a timer, and at once (rate-limited) when a proof check
says the keys rotated. A fetch that fails never loses the copy already held; a client that is down at start-up
is retried in the background with backoff, and until then `current` is None (the pages say the editor is
unavailable).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import quote, urlencode, urlsplit

import httpx
from lxml import etree

from wopi_frontend.proof_keys import ProofKeyError, ProofKeySet, key_from_attributes

logger = logging.getLogger("wopi_frontend.discovery")

MAX_DISCOVERY_BYTES = 5 * 1024 * 1024  # Office's discovery is about 200 kB, Collabora's and ONLYOFFICE's less
FETCH_TIMEOUT = 10.0  # seconds
MIN_REFRESH_GAP = 60.0  # seconds: refreshes asked for by proof checks, at most once a minute
RETRY_INITIAL = 1.0  # seconds: the first retry after a failed fetch, doubled after each failure
RETRY_MAX = 300.0
FIRST_FETCH_TIMEOUT = 5.0  # seconds `start` waits for the first copy before going on without it

# Net-zones in order of preference. Office publishes several; Collabora names its one zone after its own
# scheme, and ONLYOFFICE uses external-http by default: never assume a single name.
ZONE_PREFERENCE = ("external-https", "external-http", "internal-https", "internal-http")

# `<name=PLACEHOLDER&>` in a urlsrc (WOPI discovery, "Action URLs").
_PLACEHOLDER = re.compile(r"<(?P<param>[^<>=]*)=(?P<placeholder>[A-Za-z0-9_]+)(?P<amp>&?)>")
_EMPTY: Mapping[str, str] = MappingProxyType({})


class DiscoveryError(ValueError):
    """A discovery document that is refused (malformed, hostile, too large, or without anything usable)."""


@dataclass(frozen=True)
class Action:
    """One `<action>` of the discovery: open files of `ext` (or of MIME type `mime`) for `name` at `urlsrc`."""

    app: str  # the <app> name: Word, Excel..., or a MIME type (Collabora, and ONLYOFFICE's Collabora section)
    name: str  # view, edit, editnew, embedview, getinfo...
    ext: str  # lower case, without the dot; "" for MIME-only actions
    mime: str  # the app name when it is a MIME type, else ""
    urlsrc: str  # the template, placeholders included (see Discovery.action_url)
    requires: frozenset[str]  # e.g. {"locks", "update"}
    default: bool
    favicon_url: str  # the app's favIconUrl, "" if none


@dataclass(frozen=True)
class Discovery:
    actions: tuple[Action, ...]
    proof_key: ProofKeySet | None
    client_origin: str  # scheme://host[:port] of the actions' urlsrc: where the editor frames come from
    net_zone: str = ""

    def find_action(self, *, extension: str, name: str, mime: str | None = None) -> Action | None:
        """The action `name` for files with this extension (with or without the dot, any case); failing that,
        for this MIME type (how Collabora-style discoveries list most formats). Among several, the one whose app
        is `mime` wins."""
        ext = extension.lower().lstrip(".")
        by_extension = [action for action in self.actions if action.name == name and ext and action.ext == ext]
        if by_extension:
            return next((action for action in by_extension if mime and action.mime == mime), by_extension[0])
        if mime:
            return next((action for action in self.actions if action.name == name and action.mime == mime), None)
        return None

    def action_url(
        self,
        action: Action,
        wopi_src: str,
        *,
        ui_language: str = "",
        extra: Mapping[str, str] = _EMPTY,
        query: Mapping[str, str] = _EMPTY,
    ) -> str:
        """The editor URL for one file (without its access token, which the host page POSTs).

        Placeholders: WOPI_SOURCE is always replaced by the URL-encoded `wopi_src`; UI_LLCC and DC_LLCC by
        `ui_language` (e.g. "en-US") when given; any other placeholder by `extra[PLACEHOLDER]` (e.g.
        {"BUSINESS_USER": "1", "SESSION_CONTEXT": ...}). A placeholder without a value is removed whole, as WOPI
        requires for unknown ones. A urlsrc without a WOPI_SOURCE placeholder (Collabora's ends in "?") gets
        `WOPISrc=...` appended. `query` adds plain parameters at the end, e.g. Office's `wd*` parameters passed
        through, `sftc=1`, or Collabora's `lang`."""
        values = {"WOPI_SOURCE": wopi_src}
        if ui_language:
            values["UI_LLCC"] = values["DC_LLCC"] = ui_language
        values.update({key: value for key, value in extra.items() if key != "WOPI_SOURCE"})
        has_source = False

        def substitute(match: re.Match[str]) -> str:
            nonlocal has_source
            placeholder = match["placeholder"].upper()
            value = values.get(placeholder, "")
            if not value:
                return ""
            has_source = has_source or placeholder == "WOPI_SOURCE"
            return f"{match['param']}={quote(value, safe='')}{match['amp']}"

        url = _PLACEHOLDER.sub(substitute, action.urlsrc)
        parameters = ([] if has_source else [("WOPISrc", wopi_src)]) + list(query.items())
        if parameters:
            url += ("&" if "?" in url else "?") + urlencode(parameters, quote_via=quote)
        return _tidy_query(url)


def _tidy_query(url: str) -> str:
    """Removed placeholders leave "?&", "&&" and a trailing "&" behind (ONLYOFFICE's templates end in "&")."""
    base, mark, query = url.partition("?")
    if not mark:
        return url
    query = "&".join(part for part in query.split("&") if part)
    return f"{base}?{query}" if query else base


# ---- parsing ------------------------------------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    # No entity expansion, no DTD loading, no network: a hostile document can neither reach files or URLs nor
    # blow up in memory (billion laughs); huge_tree stays off, so lxml's own size limits apply too.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _choose_zone(root: etree._Element) -> etree._Element | None:
    zones = [zone for zone in root.iter("net-zone") if zone.findall("app")]
    for wanted in ZONE_PREFERENCE:
        for zone in zones:
            if (zone.get("name") or "").lower() == wanted:
                return zone
    return zones[0] if zones else None


def _is_web_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _actions(zone: etree._Element) -> tuple[Action, ...]:
    actions = []
    for app in zone.findall("app"):
        app_name = (app.get("name") or "").strip()
        favicon = (app.get("favIconUrl") or "").strip()
        for element in app.findall("action"):
            name = (element.get("name") or "").strip()
            urlsrc = (element.get("urlsrc") or "").strip()
            if not name or not _is_web_url(urlsrc):
                continue  # nothing a host page could open
            requires = frozenset(
                part.strip().lower() for part in (element.get("requires") or "").split(",") if part.strip()
            )
            actions.append(
                Action(
                    app=app_name,
                    name=name,
                    ext=(element.get("ext") or "").strip().lower().lstrip("."),
                    mime=app_name if "/" in app_name else "",
                    urlsrc=urlsrc,
                    requires=requires,
                    default=(element.get("default") or "").strip().lower() == "true",
                    favicon_url=favicon if _is_web_url(favicon) else "",
                )
            )
    return tuple(actions)


def _proof_key(root: etree._Element) -> ProofKeySet | None:
    element = next(root.iter("proof-key"), None)
    if element is None:
        return None
    attributes = {key: value for key, value in element.attrib.items() if isinstance(key, str)}
    try:
        current = key_from_attributes(attributes)
        old = key_from_attributes(attributes, "old")
    except ProofKeyError as error:
        raise DiscoveryError(f"bad proof-key: {error}") from None
    if current is None:
        raise DiscoveryError("the proof-key element has no key")
    return ProofKeySet(current, old)


def parse_discovery(data: bytes) -> Discovery:
    """The discovery in `data`, or DiscoveryError. Documents with a DOCTYPE are refused outright: discovery never
    has one, and entities are the way XML attacks come in."""
    if len(data) > MAX_DISCOVERY_BYTES:
        raise DiscoveryError(f"larger than {MAX_DISCOVERY_BYTES} bytes")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        raise DiscoveryError(f"not well-formed XML: {error}") from None
    if root is None:
        raise DiscoveryError("empty document")
    if root.getroottree().docinfo.doctype:
        raise DiscoveryError("a DOCTYPE is not allowed")
    if root.tag != "wopi-discovery":
        raise DiscoveryError(f"the root element is <{root.tag}>, not <wopi-discovery>")
    zone = _choose_zone(root)
    actions = _actions(zone) if zone is not None else ()
    proof_key = _proof_key(root)
    if not actions and proof_key is None:
        raise DiscoveryError("no actions and no proof key")
    origins = [_origin(action.urlsrc) for action in actions]
    # The editors' origin: the most common one (all actions share it in every known client).
    client_origin = max(dict.fromkeys(origins), key=origins.count) if origins else ""
    return Discovery(actions, proof_key, client_origin, (zone.get("name") or "") if zone is not None else "")


# ---- fetching and refreshing -------------------------------------------------------------------------------


class DiscoveryService:
    """The current discovery of the configured WOPI client, kept fresh in the background."""

    def __init__(
        self,
        url: str,
        *,
        refresh_interval: float,
        min_refresh_gap: float = MIN_REFRESH_GAP,
        retry_initial: float = RETRY_INITIAL,
        retry_max: float = RETRY_MAX,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.current: Discovery | None = None
        self._refresh_interval = refresh_interval
        self._min_refresh_gap = min_refresh_gap
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._client_factory = client_factory or (
            lambda: httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=True)
        )
        self._clock = clock
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self._last_attempt: float | None = None
        self._last_success: float | None = None  # the clock when a fetch last gave a usable document
        self._failures = 0

    async def start(self) -> None:
        """Fetch the first copy (waiting a few seconds at most), then keep refreshing in the background. Never
        raises for an unreachable or broken client: the front-end must start regardless."""
        self._client = self._client_factory()
        try:
            async with asyncio.timeout(FIRST_FETCH_TIMEOUT):
                await self._attempt()
        except TimeoutError:
            self._failures += 1
            logger.warning(
                "discovery %s did not answer within %.0f s; retrying in the background", self.url, FIRST_FETCH_TIMEOUT
            )
        self._task = asyncio.create_task(self._run(), name="wopi-discovery-refresh")

    async def close(self) -> None:
        tasks = [task for task in (self._task, *self._background) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def refresh_now(self) -> None:
        """Fetch again now, unless a fetch started less than a minute ago: proof failures can be provoked by
        anyone, and must not turn this host into a tool for flooding the WOPI client."""
        last = self._last_attempt
        if last is not None and self._clock() - last < self._min_refresh_gap:
            return
        await self._attempt()

    def seconds_since_success(self) -> float | None:
        """How long ago a fetch last gave a usable document (None: none has yet), for the metrics' discovery age.
        Safe to call from another thread: it reads one float."""
        last = self._last_success
        return None if last is None else self._clock() - last

    def refresh_soon(self) -> None:
        """`refresh_now` in the background, for callers that must not wait for it."""
        task = asyncio.get_running_loop().create_task(self.refresh_now())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _next_delay(self) -> float:
        if self._failures == 0 and self.current is not None:
            return self._refresh_interval
        # Nothing yet (a first fetch cut short counts as a failure), or the last fetch failed: back off.
        return min(self._retry_max, self._retry_initial * 2 ** max(0, self._failures - 1))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._next_delay())
            await self._attempt()

    async def _attempt(self) -> None:
        if self._lock.locked():  # a fetch is under way: its result will do
            async with self._lock:
                return
        async with self._lock:
            self._last_attempt = self._clock()
            try:
                discovery = parse_discovery(await self._fetch())
            except (httpx.HTTPError, DiscoveryError) as error:
                self._failures += 1
                kept = "keeping the copy fetched before" if self.current is not None else "no editor until it works"
                logger.warning(
                    "discovery %s failed (%s: %s); %s; retrying in %.0f s",
                    self.url,
                    type(error).__name__,
                    error,
                    kept,
                    self._next_delay(),
                )
                return
            changed = self.current is None or self.current.proof_key != discovery.proof_key
            self.current = discovery
            self._last_success = self._clock()
            self._failures = 0
            log = logger.info if changed else logger.debug
            log(
                "discovery %s: %d actions from %s (net-zone %s), %s",
                self.url,
                len(discovery.actions),
                discovery.client_origin or "-",
                discovery.net_zone or "-",
                "with proof keys" if discovery.proof_key else "without proof keys",
            )

    async def _fetch(self) -> bytes:
        """The document, streamed and cut off past MAX_DISCOVERY_BYTES (a hostile or broken client could send
        anything)."""
        if self._client is None:
            raise httpx.RequestError("the discovery service is not started")
        async with self._client.stream("GET", self.url, headers={"Accept": "application/xml, text/xml"}) as response:
            response.raise_for_status()
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_DISCOVERY_BYTES:
                raise DiscoveryError(f"larger than {MAX_DISCOVERY_BYTES} bytes")
            received = bytearray()
            async for chunk in response.aiter_bytes():
                received += chunk
                if len(received) > MAX_DISCOVERY_BYTES:
                    raise DiscoveryError(f"larger than {MAX_DISCOVERY_BYTES} bytes")
            return bytes(received)
