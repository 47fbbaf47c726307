"""A document's details in the file browser: `GET /browse/files/{id}/details[?page=TOKEN]` shows its editing lock
(who holds it, since when, until when) and its history of changes (storage's audit trail, newest first, a page at
a time), and `POST /browse/files/{id}/unlock` breaks its lock with a reason.

Storage decides who may do what: whoever may read the document sees its details (StatFile, ListAuditEvents), and
breaking a lock needs manage_sharing on the document (its owner, a manager, a storage administrator: storage's
BreakLock). The page offers the Unlock form only to a user whose permissions say so; storage refuses anyone else,
whatever they post. The form is a plain POST with the CSRF token, answered with a redirect back here and a one-time
message, as the sharing forms are. Everything shown is text only (escaped): names, reasons and people come from
storage and from other users, and never become markup or links.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import grpc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wopi_frontend import pages
from wopi_frontend.context import WopiContext
from wopi_frontend.csrf import guard_for
from wopi_frontend.flash import flash_for
from wopi_frontend.pages import Markup, render
from wopi_frontend.routes.browser_actions import ActionFailed, Form, FormRefused, form_action
from wopi_frontend.routes.page_support import (
    ICON_LETTERS,
    flash_notice,
    for_people,
    kind_of,
    name_of,
    storage_problem,
    valid_id,
)
from wopi_frontend.routes.sharing import ROLE_LABELS
from wopi_frontend.storage_client import ItemRef, StorageCallError
from wopi_frontend.types import Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

PAGE_SIZE = 50
MAX_REASON = 500  # characters: storage's bound on BreakLock's reason
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NOT_KEPT = "This storage service keeps no history of changes."
A = pb.AuditAction


def details_url(context: WopiContext, file_id: str, page_token: str = "") -> str:
    url = pages.local(f"{context.settings.base_url}/browse/files/{quote(file_id)}/details")
    return url + (f"?page={quote(page_token, safe='')}" if page_token else "")


def unlock_url(context: WopiContext, file_id: str) -> str:
    return pages.local(f"{context.settings.base_url}/browse/files/{quote(file_id)}/unlock")


def may_unlock(caps: pb.Capabilities, info: pb.FileInfo) -> bool:
    """Whether to offer the Unlock form: the document is locked and storage says the user manages its sharing,
    which BreakLock needs (storage checks it again when the form is posted)."""
    return caps.lock_administration and bool(info.lock.lock_id) and info.permissions.manage_sharing


def _grantee(grantee: pb.Grantee) -> str:
    if grantee.WhichOneof("grantee") == "group_id":
        return f"the group {grantee.group_id}"
    return grantee.user_id or "someone"


def _what(event: pb.AuditEvent) -> str:
    """What the event's actor did, as a sentence's predicate (plain text: the template escapes it)."""
    match event.action:
        case A.AUDIT_ACTION_CREATED:
            return f"created it as “{event.name}”"
        case A.AUDIT_ACTION_WRITTEN:
            return "saved a new version"
        case A.AUDIT_ACTION_RENAMED:
            return f"renamed it from “{event.old_name}” to “{event.name}”"
        case A.AUDIT_ACTION_DELETED:
            return f"deleted “{event.name}”"
        case A.AUDIT_ACTION_VERSION_RESTORED:
            return "restored an earlier version"
        case A.AUDIT_ACTION_LOCKED:
            return "opened it for editing (locked it)"
        case A.AUDIT_ACTION_RELOCKED:
            return "took a new editing lock on it"
        case A.AUDIT_ACTION_UNLOCKED:
            return "closed it (unlocked it)"
        case A.AUDIT_ACTION_LOCK_BROKEN:
            holder = name_of(event.lock_holder) or "someone"
            return f"broke the editing lock of {holder}: “{event.reason}”"
        case A.AUDIT_ACTION_GRANTED:
            return f"shared it with {_grantee(event.grantee)}: {ROLE_LABELS.get(event.role, 'a role').lower()}"
        case A.AUDIT_ACTION_REVOKED:
            return f"stopped sharing it with {_grantee(event.grantee)}"
    return "changed it"  # an action newer than this page (the proto may add some)


def _event(event: pb.AuditEvent) -> Markup:
    who = name_of(event.actor) or "Someone"
    return render("details-event.html", who=who, what=_what(event), when=pages.format_time(event.time))


def _lock(info: pb.FileInfo) -> Markup:
    lock = info.lock
    if not lock.lock_id:  # storage never reports an expired lock
        return render("details-unlocked.html")
    since = pages.join([" since ", pages.format_time(lock.locked_time)]) if lock.HasField("locked_time") else ""
    return render(
        "details-locked.html",
        holder=name_of(lock.locked_by) or "someone",
        since=since,
        until=pages.format_time(lock.expires_time),
    )


def _facts(info: pb.FileInfo) -> Markup:
    changed = ["Changed ", pages.format_time(info.modified_time)]
    who = name_of(info.modified_by)
    return pages.join([pages.format_size(info.size), " · ", *changed, *([" by ", who] if who else [])])


async def _details_page(request: Request, context: WopiContext, user: Principal) -> Response:
    settings = context.settings
    file_id = request.path_params["file_id"]
    token = request.query_params.get("page", "")
    if not valid_id(file_id) or len(token) > 1024:
        return pages.message_page(settings, "Not found", "There is no such document.", status_code=404, user=user)
    caps = await context.storage.capabilities()
    info = await context.storage.stat_file(file_id, user)
    rows: list[Markup] = []
    next_token = ""
    if caps.audit_trail:
        events, next_token = await context.storage.list_audit_events(ItemRef(file_id, False), user, PAGE_SIZE, token)
        rows = [_event(event) for event in events]
    if not rows:
        text = NOT_KEPT if not caps.audit_trail else ("No earlier changes." if token else "No changes recorded yet.")
        rows.append(render("activity-empty.html", text=text))
    pager = []
    if token:
        pager.append(pages.link_button(details_url(context, file_id), "Newest"))
    if next_token:
        pager.append(pages.link_button(details_url(context, file_id, next_token), "Older", primary=True))
    guard = guard_for(settings)
    csrf, new_nonce = guard.issue(request, user)
    unlock = (
        render("details-unlock.html", action=unlock_url(context, file_id), csrf=csrf)
        if may_unlock(caps, info)
        else Markup("")
    )
    kind = kind_of(info.name)
    body = render(
        "details-page.html",
        kind=kind,
        letter=ICON_LETTERS.get(kind, ""),
        name=info.name,
        facts=_facts(info),
        notices=flash_notice(flash_for(settings).read(request, user)),
        lock=_lock(info),
        unlock=unlock,
        events=pages.join(rows),
        pager=pages.join(pager),
        back_url=pages.local(context.browser_url(info.parent_container_id)),
        back_label="Back to the folder",
    )
    response = pages.page(settings, f"Details of {info.name}", body, user=user, scripts=["browser.js"])
    guard.set_cookie(response, new_nonce)
    flash_for(settings).clear(request, response)
    return response


async def _unlock(context: WopiContext, user: Principal, item_id: str, form: Form) -> tuple[str, str]:
    """Break the document's lock, with the reason the form gives (whitespace collapsed: it is one line of text)."""
    back = details_url(context, item_id)
    reason = " ".join(form.get("reason", "").split())
    if not reason:
        raise ActionFailed(back, "Give a reason for unlocking: it is kept in the document's history.")
    if len(reason) > MAX_REASON or _CONTROL.search(reason):
        raise ActionFailed(back, f"A reason is one line of at most {MAX_REASON} characters.")
    info = await context.storage.stat_file(item_id, user)
    try:
        await context.storage.break_lock(item_id, reason, user)
    except StorageCallError as error:
        if error.code == grpc.StatusCode.NOT_FOUND:
            raise
        if error.code == grpc.StatusCode.PERMISSION_DENIED:
            text = f"Only someone who manages the sharing of “{info.name}” can unlock it. Nothing was changed."
            raise FormRefused(403, back, "Not unlocked", text) from None
        if error.code == grpc.StatusCode.FAILED_PRECONDITION:
            raise ActionFailed(back, f"“{info.name}” is not locked any more: there was nothing to unlock.") from None
        raise ActionFailed(back, f"“{info.name}” was not unlocked: {storage_problem(error)[1]}") from None
    return back, f"Unlocked “{info.name}”. Whoever was editing it can no longer save into it."


ROUTES: list[BaseRoute] = [
    Route("/browse/files/{file_id}/details", for_people(_details_page), methods=["GET"]),
    Route("/browse/files/{item_id}/unlock", form_action(_unlock), methods=["POST"]),
]
