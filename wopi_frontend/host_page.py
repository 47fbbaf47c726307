"""The host page at /host/{file_id}?action=view|edit|...: where HostViewUrl, HostEditUrl and share links lead.

It frames the WOPI client's action URL (from discovery) the way WOPI requires (WOPI_DIGEST.md section 9): the
iframe `office_frame` is made by script, then a hidden form POSTs `access_token` and `access_token_ttl` into it,
so the token never appears in a URL. `static/host.js` then speaks PostMessage with the frame (section 10).

GET  /host/{id}?action=A   for the identified user (identity.py): a token is minted for them, this file, and
                           view or edit as the action needs.
POST /host/{id}?action=A   with a form field `access_token` (and `access_token_ttl`) from the sessions API: how
                           an embedding application opens a document for its own user (docs/integration.md).

Without an editor (no discovery configured, or the discovery could not be read) the page says so, and still
offers the download.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from wopi_frontend import pages, storage_permissions
from wopi_frontend.context import WopiContext, context_of
from wopi_frontend.discovery import Action, Discovery
from wopi_frontend.errors import WopiError
from wopi_frontend.names import split_extension
from wopi_frontend.requests import small_body
from wopi_frontend.routes import downloads
from wopi_frontend.routes.page_support import (
    EditorState,
    discovery_of,
    find_action,
    for_people,
    storage_problem,
    valid_id,
)
from wopi_frontend.storage_client import StorageCallError
from wopi_frontend.tokens import AccessToken, TokenInvalid, TokenTooLarge
from wopi_frontend.types import PERMISSION_SETS, FileId, Permission, Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

NO_CACHE = {"Cache-Control": "no-cache, no-store", "Expires": "-1", "Pragma": "no-cache"}
SANDBOX = "allow-scripts allow-same-origin allow-forms allow-popups allow-top-navigation allow-popups-to-escape-sandbox"
# Host page actions (lower case, as people type them) -> (the discovery's action name, the permission it needs).
ACTIONS: dict[str, tuple[str, str]] = {
    "view": ("view", "view"),
    "embedview": ("embedview", "view"),
    "mobileview": ("mobileView", "view"),
    "present": ("present", "view"),
    "interactivepreview": ("interactivepreview", "view"),
    "edit": ("edit", "edit"),
    "editnew": ("editnew", "edit"),
    "mobileedit": ("mobileEdit", "edit"),
}
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}")
_WD_PREFIX = "wd"


@dataclass(frozen=True)
class Session:
    """Whose page this is: an identified user (a fresh token), or a token an embedding application posted."""

    user: Principal | None  # None for a posted token: the page then offers nothing that needs identity
    token: str
    token_ttl: int
    permissions: frozenset[Permission]
    # The user may edit the document (whatever this page's action): the page then offers edit links
    may_edit: bool = False
    # Where the editor's Close leads: the document's folder, or Shared with me when the user may not read it
    close_url: str | None = None


def _origin(url: str) -> str:
    """As browsers write an origin (event.origin): lower case."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def wd_parameters(request: Request) -> list[str]:
    """The `wd*` query parameters exactly as received (still percent-encoded), to pass on unchanged."""
    raw = request.scope.get("query_string", b"").decode("latin-1")
    return [part for part in raw.split("&") if part.startswith(_WD_PREFIX)]


def with_parameters(url: str, parameters: list[str]) -> str:
    if not parameters:
        return url
    separator = "" if url.endswith(("?", "&")) else ("&" if "?" in url else "?")
    return url + separator + "&".join(parameters)


def ui_language(request: Request) -> str:
    first = request.headers.get("accept-language", "").split(",")[0].split(";")[0].strip()
    return first if len(first) <= 35 and _LANGUAGE.fullmatch(first) else ""


def _unavailable(
    context: WopiContext, info: pb.FileInfo, session: Session, title: str, text: str, status_code: int, framing: str
) -> HTMLResponse:
    folder = pages.local(context.browser_url(info.parent_container_id))
    actions = [pages.link_button(folder, "Back to the folder")]
    if session.user is not None:
        download = pages.local(downloads.download_url(context, info.file_id))
        actions.insert(0, pages.link_button(download, "Download", primary=True))
    policy = pages.BROWSER_CSP.replace("frame-ancestors 'self'", f"frame-ancestors {framing}")
    headers = {**NO_CACHE, "Content-Security-Policy": policy, **({"Retry-After": "30"} if status_code == 503 else {})}
    return pages.message_page(
        context.settings,
        title,
        text,
        status_code=status_code,
        user=session.user,
        actions=pages.join(actions),
        headers=headers,
    )


def _resolve_action(
    discovery: Discovery, info: pb.FileInfo, wanted: str, allowed: frozenset[Permission]
) -> Action | None:
    """The discovery action to frame: `editnew` for an empty document, and view when edit is not allowed."""
    name, permission = ACTIONS[wanted]
    if permission == "edit" and Permission.EDIT not in allowed:
        name = "view"
    if name == "edit" and info.size == 0:
        return find_action(discovery, info.name, "editnew") or find_action(discovery, info.name, "edit")
    return find_action(discovery, info.name, name)


def render_host_page(
    request: Request, context: WopiContext, info: pb.FileInfo, wanted: str, session: Session, frame_ancestors: str
) -> HTMLResponse:
    settings = context.settings
    state, discovery = discovery_of(context)
    if state is EditorState.NOT_CONFIGURED:
        text = "No office editor is configured on this server, so documents cannot be opened in the browser."
        return _unavailable(context, info, session, "The editor is unavailable", text, 200, frame_ancestors)
    if state is EditorState.UNAVAILABLE or discovery is None:
        text = "The office editor is not reachable right now. Try again in a minute, or download the document."
        return _unavailable(context, info, session, "The editor is unavailable", text, 503, frame_ancestors)
    action = _resolve_action(discovery, info, wanted, session.permissions)
    if action is None:
        extension = split_extension(info.name)[1] or "this kind of"
        text = f"The office editor cannot {wanted} {extension} files, so “{info.name}” cannot be opened in the browser."
        title = "This document cannot be opened here"
        return _unavailable(context, info, session, title, text, 200, frame_ancestors)
    action_url = discovery.action_url(action, context.wopi_src(info.file_id), ui_language=ui_language(request))
    action_url = with_parameters(action_url, wd_parameters(request))
    frame_origin = _origin(action_url)
    trusted = list(dict.fromkeys([frame_origin, discovery.client_origin]))
    favicon = action.favicon_url or pages.static_url(settings, "favicon.svg")
    nonce = secrets.token_urlsafe(16)
    identified = session.user is not None
    can_edit = session.may_edit
    config = {
        "frameOrigin": frame_origin,
        "trustedOrigins": trusted,
        "frameTitle": f"{info.name} ({action.app})",
        "sandbox": SANDBOX,
        "brand": settings.brand_name,
        "name": info.name,
        "closeUrl": session.close_url or context.browser_url(info.parent_container_id),
        "editUrl": context.host_page_url(info.file_id, "edit") if identified and can_edit else None,
        "versionsUrl": f"{settings.base_url}/browse/versions/{info.file_id}" if identified else None,
        "shareLinks": [
            {"label": "View", "url": context.host_page_url(info.file_id, "view")},
            *([{"label": "Edit", "url": context.host_page_url(info.file_id, "edit")}] if can_edit else []),
        ],
    }
    document = pages.render(
        "host.html",
        title=f"{info.name} - {settings.brand_name}",
        favicon=favicon,
        nonce=nonce,
        stylesheet=pages.static_url(settings, "host.css"),
        script=pages.static_url(settings, "host.js"),
        action_url=action_url,
        access_token=session.token,
        access_token_ttl=str(session.token_ttl),
        config=pages.json_for_script(config),
        name=info.name,
    )
    sources = " ".join(trusted)
    favicon_source = _origin(favicon) if favicon.startswith(("http://", "https://")) else ""
    policy = (
        f"default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; "
        f"img-src 'self' data: {favicon_source}; frame-src {sources}; form-action {sources}; "
        f"connect-src 'self'; base-uri 'none'; frame-ancestors {frame_ancestors}"
    )
    headers = {**NO_CACHE, "Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff"}
    return HTMLResponse("<!DOCTYPE html>\n" + document, headers=headers)


def _wanted_action(request: Request) -> str | None:
    wanted = request.query_params.get("action", "view").lower()
    return wanted if wanted in ACTIONS else None


def _bad_action(context: WopiContext, user: Principal | None) -> HTMLResponse:
    text = f"The action must be one of: {', '.join(ACTIONS)}."
    return pages.message_page(context.settings, "Unknown action", text, status_code=400, user=user, headers=NO_CACHE)


async def _host_page(request: Request, context: WopiContext, user: Principal) -> Response:
    file_id = request.path_params["file_id"]
    wanted = _wanted_action(request)
    if wanted is None:
        return _bad_action(context, user)
    if not valid_id(file_id):
        return pages.message_page(context.settings, "Not found", "There is no such document.", status_code=404)
    info = await context.storage.stat_file(file_id, user)
    caps = await context.storage.capabilities()
    # With access control, the folder as the user sees it, read once: it backs CREATE, and the editor's Close
    # leads there only if the user may read it (else to Shared with me: a file shared on its own).
    folder = await storage_permissions.readable_folder(context.storage, user, info) if caps.access_control else None
    close_url = context.shared_url() if caps.access_control and folder is None else None
    # What the action asks for, narrowed to what storage lets this user do: a viewer asking to edit gets a view
    # token, and the page frames the viewer (_resolve_action).
    permissions = storage_permissions.effective(PERMISSION_SETS[ACTIONS[wanted][1]], caps, info, folder)
    try:
        token, claims = context.tokens.issue(user, FileId(file_id), permissions)
    except TokenTooLarge:
        text = (
            "Your user id, name and groups together are too long for the access token an office editor carries "
            "in its URLs. Ask the administrator to have the sign-in proxy send fewer groups."
        )
        return pages.message_page(context.settings, "This document cannot be opened", text, status_code=403, user=user)
    may_edit = Permission.EDIT in storage_permissions.effective({Permission.EDIT}, caps, info)
    session = Session(user, token, claims.expires_ms, permissions, may_edit, close_url)
    return render_host_page(request, context, info, wanted, session, "'self'")


host_page = for_people(_host_page)


async def _posted_token(request: Request, context: WopiContext, file_id: str) -> tuple[str, AccessToken] | None:
    """The access token in the POSTed form, verified and for this file; None otherwise."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return None
    try:
        form = dict(parse_qsl((await small_body(request, 8192)).decode("ascii"), max_num_fields=10))
        text = form.get("access_token", "")
        token = context.tokens.verify(text)
    except (WopiError, UnicodeDecodeError, ValueError, TokenInvalid):
        return None
    return (text, token) if token.file_id == file_id else None


async def host_page_with_token(request: Request) -> Response:
    """The host page for a token an embedding application POSTed (its own user, its own permission)."""
    context = context_of(request)
    settings = context.settings
    file_id = request.path_params["file_id"]
    wanted = _wanted_action(request)
    if wanted is None:
        return _bad_action(context, None)
    posted = await _posted_token(request, context, file_id) if valid_id(file_id) else None
    if posted is None:
        text = "The link that opened this document has expired or is not valid for it. Open the document again."
        return pages.message_page(settings, "This link is not valid", text, status_code=401, headers=NO_CACHE)
    text, token = posted
    try:
        info = await context.storage.stat_file(file_id, token.user)
    except StorageCallError as error:
        status, sentence = storage_problem(error)
        return pages.message_page(settings, "That did not work", sentence, status_code=status, headers=NO_CACHE)
    session = Session(None, text, token.expires_ms, token.permissions, Permission.EDIT in token.permissions)
    # Framing is allowed from anywhere: the page acts only with the token that was posted to it.
    return render_host_page(request, context, info, wanted, session, "*")
