"""HTML for the pages people see: templates from `templates/`, filled with escaped values.

Every value put into a template is HTML-escaped unless it is `Markup`, which only this module's helpers and
templates rendered by `render` produce. JSON for a page's scripts goes into a `<script type="application/json">`
block through `json_for_script`, which escapes `<`, `>` and `&` so no value can end the block.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Iterable, Mapping
from datetime import UTC
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from string import Template
from urllib.parse import urlsplit, urlunsplit

from google.protobuf.timestamp_pb2 import Timestamp
from starlette.responses import HTMLResponse

from wopi_frontend.settings import FrontendSettings
from wopi_frontend.types import Principal

STATIC_DIR = Path(__file__).parent / "static"
# The pages' own resources come from our origin only; nothing is inlined except what a nonce allows.
BROWSER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class Markup(str):
    """Text that is already HTML (escaped where it needed to be)."""


def escape(value: object) -> Markup:
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=True))


def join(parts: Iterable[object]) -> Markup:
    return Markup("".join(escape(part) for part in parts))


@cache
def _template(name: str) -> Template:
    return Template(resources.files("wopi_frontend").joinpath("templates", name).read_text("utf-8"))


def render(template: str, /, **values: object) -> Markup:
    """The template `templates/<template>` with `$placeholders` replaced by escaped values."""
    return Markup(_template(template).substitute({key: escape(value) for key, value in values.items()}))


def json_for_script(value: object) -> Markup:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for character, replacement in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(character, replacement)
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


@lru_cache(maxsize=1)
def static_version() -> str:
    """A digest of the shipped static files: it changes their URLs when they change, so caches never go stale."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.iterdir()):
        digest.update(path.name.encode() + b"\x00" + path.read_bytes())
    return digest.hexdigest()[:12]


def local(url: str) -> str:
    """The path and query of one of our absolute URLs. Links between the file browser's pages use these, so the
    pages work whatever host name the person reached them by; links that leave the page's context (the host
    page, share links, WOPI URLs) stay absolute, on the public URL."""
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))


def static_url(settings: FrontendSettings, name: str) -> str:
    return local(f"{settings.base_url}/static/{name}?v={static_version()}")


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def format_time(moment: Timestamp) -> Markup:
    """A `<time>` element in UTC, which the page's script shows in the reader's local time."""
    if not moment.seconds and not moment.nanos:
        return Markup('<span class="muted">-</span>')
    when = moment.ToDatetime(tzinfo=UTC)
    return Markup(f'<time datetime="{when.isoformat()}">{escape(when.strftime("%Y-%m-%d %H:%M UTC"))}</time>')


def iso_time(moment: Timestamp) -> str:
    if not moment.seconds and not moment.nanos:
        return ""
    return moment.ToDatetime(tzinfo=UTC).isoformat()


def _initial(user: Principal) -> str:
    name = (user.display_name or user.user_id).strip()
    return name[:1].upper() or "?"


def page(
    settings: FrontendSettings,
    title: str,
    body: Markup,
    *,
    user: Principal | None = None,
    status_code: int = 200,
    scripts: Iterable[str] = (),
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A whole page of the file browser's look: the top bar, then `body`."""
    user_html = Markup("")
    if user is not None:
        name = user.display_name or user.user_id
        user_html = render("user.html", name=name, user_id=user.user_id, initial=_initial(user))
    document = render(
        "page.html",
        title=f"{title} - {settings.brand_name}",
        brand=settings.brand_name,
        home_url=local(f"{settings.base_url}/"),
        favicon=static_url(settings, "favicon.svg"),
        stylesheet=static_url(settings, "app.css"),
        user=user_html,
        body=body,
        scripts=join(Markup(f'<script src="{escape(static_url(settings, name))}"></script>') for name in scripts),
    )
    all_headers = {**SECURITY_HEADERS, "Content-Security-Policy": BROWSER_CSP, **(headers or {})}
    return HTMLResponse("<!DOCTYPE html>\n" + document, status_code=status_code, headers=all_headers)


def message_page(
    settings: FrontendSettings,
    title: str,
    explanation: str,
    *,
    status_code: int,
    user: Principal | None = None,
    actions: Markup | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page that says one thing: an error, or why something is not available."""
    body = render("message.html", title=title, explanation=explanation, actions=actions or Markup(""))
    return page(settings, title, body, user=user, status_code=status_code, headers=headers)


def link_button(href: str, label: str, *, primary: bool = False) -> Markup:
    kind = "button primary" if primary else "button"
    return Markup(f'<a class="{kind}" href="{escape(href)}">{escape(label)}</a>')
