"""A document's recent activity in the file browser: GET /browse/files/{id}/activity[?page=TOKEN], newest first,
a page at a time, for whoever may read the document (storage's ListActivities decides, as the user).

The activities are what the WOPI client reported with AddActivities (routes/activities.py): comments made,
changed or deleted in the document, with the people mentioned in them or taking part in their thread. They are
shown as text only (escaped): nothing a client sent becomes markup or a link.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wopi_frontend import pages
from wopi_frontend.context import WopiContext
from wopi_frontend.pages import Markup, render
from wopi_frontend.routes.page_support import ICON_LETTERS, for_people, kind_of, name_of, valid_id
from wopi_frontend.types import Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

PAGE_SIZE = 50
SHOWN_TEXT = 500  # characters of a comment shown (storage keeps up to 4,096)
NOT_KEPT = "This storage service keeps no activity for documents."
_DID = {
    pb.COMMENT_ACTION_CREATED: "commented",
    pb.COMMENT_ACTION_UPDATED: "changed a comment",
    pb.COMMENT_ACTION_DELETED: "deleted a comment",
}


def activity_url(context: WopiContext, file_id: str, page_token: str = "") -> str:
    url = pages.local(f"{context.settings.base_url}/browse/files/{file_id}/activity")
    return url + (f"?page={quote(page_token, safe='')}" if page_token else "")


def _people(activity: pb.Activity) -> Markup:
    mentioned = [person.name or person.id for person in activity.people if person.mentioned]
    others = [person.name or person.id for person in activity.people if not person.mentioned]
    parts = []
    if mentioned:
        parts.append("Mentioned: " + ", ".join(mentioned))
    if others:
        parts.append("In the thread: " + ", ".join(others))
    return render("activity-people.html", people="; ".join(parts)) if parts else Markup("")


def _row(activity: pb.Activity) -> Markup:
    comment = activity.comment
    did = _DID.get(comment.action, "commented")
    if comment.is_reply and comment.action == pb.COMMENT_ACTION_CREATED:
        did = "replied to a comment"
    text = comment.text if len(comment.text) <= SHOWN_TEXT else comment.text[:SHOWN_TEXT] + "…"
    return render(
        "activity-row.html",
        who=name_of(activity.actor) or "Someone",
        did=did,
        when=pages.format_time(activity.recorded_time),
        text=render("activity-text.html", text=text) if text else Markup(""),
        people=_people(activity),
    )


async def _activity_page(request: Request, context: WopiContext, user: Principal) -> Response:
    settings = context.settings
    file_id = request.path_params["file_id"]
    token = request.query_params.get("page", "")
    if not valid_id(file_id) or len(token) > 1024:
        return pages.message_page(settings, "Not found", "There is no such document.", status_code=404, user=user)
    if not (await context.storage.capabilities()).activities:
        home = pages.link_button(pages.local(context.browser_url()), "Back to documents", primary=True)
        return pages.message_page(settings, "No activity", NOT_KEPT, status_code=404, user=user, actions=home)
    info = await context.storage.stat_file(file_id, user)
    activities, next_token = await context.storage.list_activities(file_id, user, PAGE_SIZE, token)
    rows = [_row(activity) for activity in activities if activity.HasField("comment")]
    if not rows:
        rows.append(render("activity-empty.html", text="No more activity." if token else "No activity yet."))
    pager = []
    if token:
        pager.append(pages.link_button(activity_url(context, file_id), "Newest"))
    if next_token:
        pager.append(pages.link_button(activity_url(context, file_id, next_token), "Older", primary=True))
    kind = kind_of(info.name)
    body = render(
        "activity-page.html",
        kind=kind,
        letter=ICON_LETTERS.get(kind, ""),
        name=info.name,
        rows=pages.join(rows),
        pager=pages.join(pager),
        back_url=pages.local(context.browser_url(info.parent_container_id)),
        back_label="Back to the folder",
    )
    return pages.page(settings, f"Activity in {info.name}", body, user=user, scripts=["browser.js"])


ROUTES: list[BaseRoute] = [Route("/browse/files/{file_id}/activity", for_people(_activity_page), methods=["GET"])]
