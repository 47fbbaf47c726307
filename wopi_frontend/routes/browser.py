"""The file browser at `/`: the documents of a container, and the actions on them.

`/?container=ID` lists one container (the root without it): folders first, then documents, with size, time of
the last change and lock state, each opening the host page to view or edit. The actions are in
`browser_actions.py` (forms and upload) and `downloads.py`.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from wopi_frontend import host_page, pages
from wopi_frontend.context import WopiContext
from wopi_frontend.csrf import guard_for
from wopi_frontend.discovery import Discovery
from wopi_frontend.flash import flash_for
from wopi_frontend.pages import Markup, render
from wopi_frontend.routes import browser_actions, downloads
from wopi_frontend.routes.page_support import (
    NEW_DOCUMENT_TYPES,
    EditorState,
    discovery_of,
    find_action,
    for_people,
    kind_of,
    valid_id,
)
from wopi_frontend.types import Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

ROOT_NAME = "Documents"
_ICON_LETTERS = {"text": "W", "sheet": "X", "slides": "P", "pdf": "PDF", "file": ""}
_EDITOR_NOTICES = {
    EditorState.NOT_CONFIGURED: "No office editor is configured, so documents open as downloads only. "
    "An administrator can connect one by setting WOPI_DISCOVERY_URL.",
    EditorState.UNAVAILABLE: "The office editor is unavailable right now, so documents cannot be opened in the "
    "browser. You can still upload and download them.",
}


def _folder_url(context: WopiContext, container_id: str) -> str:
    return pages.local(f"{context.settings.base_url}/browse/folders/{quote(container_id)}")


def _file_url(context: WopiContext, file_id: str) -> str:
    return pages.local(f"{context.settings.base_url}/browse/files/{quote(file_id)}")


def _breadcrumbs(context: WopiContext, ancestors: list[pb.ContainerInfo], current: pb.ContainerInfo) -> Markup:
    crumbs = []
    for container in ancestors:
        label = container.name or ROOT_NAME
        crumbs.append(render("crumb.html", url=pages.local(context.browser_url(container.container_id)), label=label))
    crumbs.append(render("crumb-current.html", label=current.name or ROOT_NAME))
    return pages.join(crumbs)


def _folder_row(context: WopiContext, folder: pb.ContainerInfo, csrf: str, can_manage: bool) -> Markup:
    url = _folder_url(context, folder.container_id)
    menu = (
        render("folder-menu.html", name=folder.name, csrf=csrf, rename_url=f"{url}/rename", delete_url=f"{url}/delete")
        if can_manage
        else Markup("")
    )
    return render(
        "row-folder.html",
        name=folder.name,
        open_url=pages.local(context.browser_url(folder.container_id)),
        created=pages.format_time(folder.created_time),
        menu=menu,
    )


def _lock_badge(info: pb.FileInfo) -> Markup:
    if not info.lock.lock_id:
        return Markup("")
    who = info.lock.locked_by.display_name or info.lock.locked_by.user_id
    label = f"Editing: {who}" if who else "Being edited"
    until = pages.iso_time(info.lock.expires_time)
    return render("lock-badge.html", label=label, title=f"Locked until {until}" if until else "Locked")


def _file_row(context: WopiContext, info: pb.FileInfo, csrf: str, discovery: Discovery | None) -> Markup:
    url = _file_url(context, info.file_id)
    download_url = pages.local(downloads.download_url(context, info.file_id))
    can_view = discovery is None or find_action(discovery, info.name, "view") is not None
    can_edit = discovery is not None and any(
        find_action(discovery, info.name, action) is not None for action in ("edit", "editnew")
    )
    view_url = context.host_page_url(info.file_id, "view") if can_view else download_url
    edit = (
        render("edit-link.html", url=context.host_page_url(info.file_id, "edit"), name=info.name)
        if can_edit
        else Markup("")
    )
    kind = kind_of(info.name)
    size = pages.format_size(info.size)
    return render(
        "row-file.html",
        name=info.name,
        kind=kind,
        letter=_ICON_LETTERS[kind],
        view_url=view_url,
        size=size,
        modified=pages.format_time(info.modified_time),
        status=_lock_badge(info),
        edit=edit,
        menu=render(
            "file-menu.html",
            name=info.name,
            csrf=csrf,
            view_url=view_url,
            download_url=download_url,
            rename_url=f"{url}/rename",
            delete_url=f"{url}/delete",
        ),
    )


def _sorted(items: list[pb.Item]) -> tuple[list[pb.ContainerInfo], list[pb.FileInfo]]:
    folders = sorted((item.container for item in items if item.HasField("container")), key=lambda c: c.name.casefold())
    files = sorted((item.file for item in items if item.HasField("file")), key=lambda f: f.name.casefold())
    return folders, files


async def _children(context: WopiContext, container_id: str, user: Principal) -> list[pb.Item]:
    return [item async for item in context.storage.list_children(container_id, user)]


async def _listing(request: Request, context: WopiContext, user: Principal) -> Response:
    settings = context.settings
    requested = request.query_params.get("container", "")
    if requested and not valid_id(requested):
        home = pages.link_button(pages.local(context.browser_url()), "Back to documents", primary=True)
        return pages.message_page(
            settings, "No such folder", "This folder does not exist.", status_code=404, user=user, actions=home
        )
    storage = context.storage
    container = await (storage.get_container(requested, user) if requested else storage.root_container(user))
    at_root = not container.parent_container_id
    ancestors, items, capabilities = await asyncio.gather(
        storage.container_ancestors(container.container_id, user) if not at_root else asyncio.sleep(0, []),
        _children(context, container.container_id, user),
        context.storage.capabilities(),
    )
    folders, files = _sorted(items)
    state, discovery = discovery_of(context)
    guard = guard_for(settings)
    csrf, new_nonce = guard.issue(request, user)
    flash = flash_for(settings)
    message = flash.read(request, user)
    rows = [_folder_row(context, folder, csrf, capabilities.containers) for folder in folders]
    rows += [_file_row(context, info, csrf, discovery) for info in files]
    folder_url = _folder_url(context, container.container_id)
    notices = []
    if message is not None and message.text:
        role = "alert" if message.kind == "error" else "status"
        notices.append(render("notice.html", kind=message.kind, role=role, text=message.text))
    if state is not EditorState.READY:
        notices.append(render("notice.html", kind="info", role="note", text=_EDITOR_NOTICES[state]))
    new_folder = Markup("")
    if capabilities.containers:
        new_folder = render("new-folder.html", csrf=csrf, action=f"{folder_url}/new-folder")
    body = render(
        "browser.html",
        breadcrumbs=_breadcrumbs(context, list(ancestors), container),
        title=container.name or ROOT_NAME,
        notices=pages.join(notices),
        csrf=csrf,
        upload_url=f"{folder_url}/upload",
        max_size=str(settings.max_file_size),
        new_document=render(
            "new-document.html",
            csrf=csrf,
            action=f"{folder_url}/new-document",
            options=pages.join(
                render("option.html", value=extension, label=label) for extension, label in NEW_DOCUMENT_TYPES.items()
            ),
        ),
        new_folder=new_folder,
        rows=pages.join(rows) if rows else render("empty.html"),
        parent=(
            render("parent-link.html", url=pages.local(context.browser_url(container.parent_container_id)))
            if not at_root
            else Markup("")
        ),
    )
    response = pages.page(settings, container.name or ROOT_NAME, body, user=user, scripts=["browser.js"])
    guard.set_cookie(response, new_nonce)
    flash.clear(request, response)
    return response


listing = for_people(_listing)

ROUTES: list[BaseRoute] = [
    Route("/", listing, methods=["GET"]),
    *browser_actions.ROUTES,
    *downloads.ROUTES,
    Route("/host/{file_id}", host_page.host_page_with_token, methods=["POST"]),
    Mount("/static", app=StaticFiles(directory=pages.STATIC_DIR), name="static"),
]
