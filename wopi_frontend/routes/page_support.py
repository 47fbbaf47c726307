"""What the file browser and the host page share: ids from paths, the user, storage errors in words, the editor."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from enum import Enum
from functools import wraps

import grpc
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wopi_frontend import pages
from wopi_frontend.context import WopiContext, context_of
from wopi_frontend.discovery import Action, Discovery
from wopi_frontend.flash import FlashMessage
from wopi_frontend.identity import IdentityMissing, identify
from wopi_frontend.names import split_extension
from wopi_frontend.pages import Markup, render
from wopi_frontend.storage_client import StorageCallError
from wopi_frontend.types import Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")

# New documents people can make from the browser, each started as a blank document of its type (new_documents.py).
NEW_DOCUMENT_TYPES: dict[str, str] = {
    ".docx": "Word document (.docx)",
    ".xlsx": "Excel workbook (.xlsx)",
    ".pptx": "PowerPoint presentation (.pptx)",
    ".odt": "OpenDocument text (.odt)",
    ".ods": "OpenDocument spreadsheet (.ods)",
    ".odp": "OpenDocument presentation (.odp)",
}
MIME_TYPES: dict[str, str] = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".rtf": "application/rtf",
}
_KINDS = {
    "text": (".docx", ".doc", ".docm", ".dotx", ".odt", ".ott", ".rtf", ".txt"),
    "sheet": (".xlsx", ".xls", ".xlsm", ".xlsb", ".ods", ".ots", ".csv"),
    "slides": (".pptx", ".ppt", ".pptm", ".ppsx", ".odp", ".otp"),
    "pdf": (".pdf",),
}


ROOT_NAME = "Documents"  # what the file browser calls the root container, which has no name
# The letter on each kind's icon.
ICON_LETTERS = {"text": "W", "sheet": "X", "slides": "P", "pdf": "PDF", "file": ""}


def extension_of(name: str) -> str:
    """'.docx' for 'Report.DOCX'; '' without one."""
    return split_extension(name)[1].lower()


def mime_type_of(name: str) -> str | None:
    return MIME_TYPES.get(extension_of(name))


def kind_of(name: str) -> str:
    """For the icon: text, sheet, slides, pdf or file."""
    extension = extension_of(name)
    return next((kind for kind, extensions in _KINDS.items() if extension in extensions), "file")


def valid_id(value: str) -> bool:
    return bool(_ID.fullmatch(value))


def name_of(principal: pb.Principal) -> str:
    """How a page names someone storage recorded: their display name, else their id ("" when unknown)."""
    return principal.display_name or principal.user_id


def flash_notice(message: FlashMessage | None) -> Markup:
    """The one-time message the user's last action left (flash.py), as a notice; nothing without one."""
    if message is None or not message.text:
        return Markup("")
    role = "alert" if message.kind == "error" else "status"
    return render("notice.html", kind=message.kind, role=role, text=message.text)


# ---- the editor (the WOPI client's discovery) ----


class EditorState(Enum):
    READY = "ready"
    NOT_CONFIGURED = "not configured"  # no WOPI_DISCOVERY_URL
    UNAVAILABLE = "unavailable"  # configured, but its discovery could not be read (yet)


def discovery_of(context: WopiContext) -> tuple[EditorState, Discovery | None]:
    """The current discovery and the editor's state: no discovery URL means no editor; a discovery not read
    (yet, or the client is down) means the editor is unavailable."""
    if context.discovery is None:
        return EditorState.NOT_CONFIGURED, None
    current = context.discovery.current
    if current is None:
        return EditorState.UNAVAILABLE, None
    return EditorState.READY, current


def find_action(discovery: Discovery, name: str, action: str) -> Action | None:
    """The discovery's action for this file name, or None."""
    extension = extension_of(name).lstrip(".")
    return discovery.find_action(extension=extension, name=action, mime=mime_type_of(name))


def file_links(context: WopiContext, info: pb.FileInfo, may_edit: bool) -> tuple[str, str | None]:
    """Where a file's name leads, and its Edit link. The name opens the host page to view it, or downloads it when
    the editor cannot show it; Edit (None without) needs `may_edit` (storage's permissions) and an editor that
    edits such files."""
    _, discovery = discovery_of(context)
    can_view = discovery is None or find_action(discovery, info.name, "view") is not None
    can_edit = (
        may_edit
        and discovery is not None
        and any(find_action(discovery, info.name, action) is not None for action in ("edit", "editnew"))
    )
    view_url = (
        context.host_page_url(info.file_id, "view") if can_view else pages.local(context.download_url(info.file_id))
    )
    return view_url, context.host_page_url(info.file_id, "edit") if can_edit else None


# ---- storage errors, in words ----


def storage_problem(error: StorageCallError) -> tuple[int, str]:
    """An HTTP status and a sentence for a person."""
    code = error.code
    if code == grpc.StatusCode.NOT_FOUND:
        return 404, "It no longer exists: it may have been deleted or moved."
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        if error.detail(pb.ContainerNotEmpty) is not None:
            return 409, "The folder is not empty. Delete what is inside it first."
        if error.detail(pb.LockConflict) is not None:
            return 409, "The document is open in the editor (it is locked). Try again once it is closed."
        return 409, "Its current state does not allow this."
    if code == grpc.StatusCode.ALREADY_EXISTS:
        return 409, "Something with that name already exists in this folder."
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return 403, "You do not have permission to do this."
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return 400, f"Storage refused it: {error.message}"
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return 413, "It is larger than storage accepts."
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return 501, "The storage service does not support this."
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return 503, "The storage service is not answering. Try again in a moment."
    return 500, "Something went wrong in the storage service."


# ---- handlers that answer people, not WOPI clients ----

Handler = Callable[[Request], Awaitable[Response]]
UserHandler = Callable[[Request, WopiContext, Principal], Awaitable[Response]]


def for_people(handler: UserHandler) -> Handler:
    """Identifies the user, and turns what can go wrong into a readable page instead of a bare status."""

    @wraps(handler)
    async def route(request: Request) -> Response:
        context = context_of(request)
        settings = context.settings
        try:
            user = identify(request, settings)
        except IdentityMissing as missing:
            return pages.message_page(settings, missing.title, missing.explanation, status_code=missing.status_code)
        try:
            return await handler(request, context, user)
        except StorageCallError as error:
            status, text = storage_problem(error)
            home = pages.link_button(context.browser_url(), "Back to documents", primary=True)
            return pages.message_page(settings, "That did not work", text, status_code=status, user=user, actions=home)

    return route


def for_scripts(handler: UserHandler) -> Handler:
    """As `for_people`, for requests made by our pages' scripts: errors as JSON `{"error": sentence}`."""

    @wraps(handler)
    async def route(request: Request) -> Response:
        context = context_of(request)
        try:
            user = identify(request, context.settings)
        except IdentityMissing as missing:
            return JSONResponse({"error": missing.explanation}, status_code=missing.status_code)
        try:
            return await handler(request, context, user)
        except StorageCallError as error:
            status, text = storage_problem(error)
            return JSONResponse({"error": text}, status_code=status)

    return route
