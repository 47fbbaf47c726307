"""The file browser at `/`: the documents of a container, and the actions on them.

`/?container=ID[&page=TOKEN]` lists one page of a container (the root without it): folders first, then
documents, each by name, with size, time of the last change and lock state, each opening the host page to view or
edit; a "More" link carries storage's token of the next page, so that a page costs the same in any folder. The
actions are in `browser_actions.py` (forms and upload; what "New" offers is `new_documents.py`'s) and
`downloads.py`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from wopi_frontend import host_page, new_documents, pages
from wopi_frontend.context import WopiContext
from wopi_frontend.csrf import guard_for
from wopi_frontend.flash import flash_for
from wopi_frontend.pages import Markup, render
from wopi_frontend.routes import activity_page, browser_actions, details_page, downloads, sharing
from wopi_frontend.routes.page_support import (
    ICON_LETTERS,
    ROOT_NAME,
    EditorState,
    discovery_of,
    file_links,
    flash_notice,
    for_people,
    kind_of,
    name_of,
    valid_id,
)
from wopi_frontend.storage_client import ChildrenPage, ItemRef
from wopi_frontend.storage_permissions import BrowserActions, actions_for
from wopi_frontend.types import Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

# Items per page of the file browser: what a person scans at a glance, and a page that renders at once.
BROWSER_PAGE_SIZE = 100
_PAGE_TOKEN = re.compile(r"[A-Za-z0-9._~=-]{0,1024}")

_EDITOR_NOTICES = {
    EditorState.NOT_CONFIGURED: "No office editor is configured, so documents open as downloads only. "
    "An administrator can connect one by setting WOPI_DISCOVERY_URL.",
    EditorState.UNAVAILABLE: "The office editor is unavailable right now, so documents cannot be opened in the "
    "browser. You can still upload and download them.",
}


def _breadcrumbs(context: WopiContext, ancestors: list[pb.ContainerInfo], current: pb.ContainerInfo) -> Markup:
    """The folders above `current`. Storage leaves out those the user may not read (a folder shared with them
    inside someone else's): where the chain breaks, an ellipsis stands for them, without their names."""
    crumbs = []
    for index, container in enumerate(ancestors):
        if index and container.parent_container_id != ancestors[index - 1].container_id:
            crumbs.append(render("crumb-gap.html"))
        label = container.name or ROOT_NAME
        crumbs.append(render("crumb.html", url=pages.local(context.browser_url(container.container_id)), label=label))
    if ancestors and current.parent_container_id != ancestors[-1].container_id:
        crumbs.append(render("crumb-gap.html"))
    crumbs.append(render("crumb-current.html", label=current.name or ROOT_NAME))
    return pages.join(crumbs)


def _owner(caps: pb.Capabilities, item: pb.FileInfo | pb.ContainerInfo, user: Principal) -> Markup:
    """Who owns an item someone else owns (with access control, where items are shared between people)."""
    owner = item.owner
    if not caps.access_control or not owner.user_id or owner.user_id == user.user_id:
        return Markup("")
    return render("row-owner.html", name=name_of(owner), user_id=owner.user_id)


def _changes(url: str, name: str, csrf: str, actions: BrowserActions, *, is_container: bool) -> Markup:
    """A row menu's Rename and Delete forms, those the user may use."""
    parts = []
    if actions.rename:
        parts.append(render("menu-rename.html", action=f"{url}/rename", csrf=csrf, name=name))
    if actions.delete:
        confirm = (
            f"Delete the folder “{name}”? Only an empty folder can be deleted."
            if is_container
            else f"Delete “{name}”? This cannot be undone."
        )
        label = "Delete folder" if is_container else "Delete"
        parts.append(render("menu-delete.html", action=f"{url}/delete", csrf=csrf, confirm=confirm, label=label))
    return pages.join(parts)


def _folder_row(
    context: WopiContext, caps: pb.Capabilities, folder: pb.ContainerInfo, csrf: str, user: Principal
) -> Markup:
    item = ItemRef(folder.container_id, True)
    actions = actions_for(caps, folder.permissions, is_container=True)
    share = sharing.share_menu_item(context, item, actions)
    changes = _changes(sharing.item_url(context, item), folder.name, csrf, actions, is_container=True)
    menu = (
        render("folder-menu.html", name=folder.name, share=share, changes=changes) if share or changes else Markup("")
    )
    return render(
        "row-folder.html",
        name=folder.name,
        owner=_owner(caps, folder, user),
        open_url=pages.local(context.browser_url(folder.container_id)),
        created=pages.format_time(folder.created_time),
        menu=menu,
    )


def _lock_badge(info: pb.FileInfo) -> Markup:
    """Who holds the document's lock (storage never reports an expired one), and since and until when."""
    if not info.lock.lock_id:
        return Markup("")
    who = name_of(info.lock.locked_by)
    label = f"Editing: {who}" if who else "Being edited"
    since, until = pages.iso_time(info.lock.locked_time), pages.iso_time(info.lock.expires_time)
    title = " ".join(["Locked", *([f"since {since}"] if since else []), *([f"until {until}"] if until else [])])
    return render("lock-badge.html", label=label, title=title)


def _file_row(context: WopiContext, caps: pb.Capabilities, info: pb.FileInfo, csrf: str, user: Principal) -> Markup:
    item = ItemRef(info.file_id, False)
    actions = actions_for(caps, info.permissions, is_container=False)
    view_url, edit_url = file_links(context, info, actions.edit)
    kind = kind_of(info.name)
    size = pages.format_size(info.size)
    return render(
        "row-file.html",
        name=info.name,
        owner=_owner(caps, info, user),
        kind=kind,
        letter=ICON_LETTERS[kind],
        view_url=view_url,
        size=size,
        modified=pages.format_time(info.modified_time),
        status=_lock_badge(info),
        edit=render("edit-link.html", url=edit_url, name=info.name) if edit_url else Markup(""),
        menu=render(
            "file-menu.html",
            name=info.name,
            view_url=view_url,
            download_url=pages.local(downloads.download_url(context, info.file_id)),
            share=sharing.share_menu_item(context, item, actions),
            activity=(
                render("menu-link.html", url=activity_page.activity_url(context, info.file_id), label="Activity")
                if caps.activities
                else Markup("")
            ),
            details=render("menu-link.html", url=details_page.details_url(context, info.file_id), label="Details"),
            changes=_changes(sharing.item_url(context, item), info.name, csrf, actions, is_container=False),
        ),
    )


def _new_menu(folder_url: str, csrf: str, actions: BrowserActions, templates: list[new_documents.Choice]) -> Markup:
    if not actions.create:
        return Markup("")
    options = _options(new_documents.BLANK_CHOICES)
    if templates:
        options = pages.join(
            [
                render("optgroup.html", label="Blank documents", options=options),
                render("optgroup.html", label="Templates", options=_options(templates)),
            ]
        )
    return render(
        "new-menu.html",
        new_document=render("new-document.html", csrf=csrf, action=f"{folder_url}/new-document", options=options),
        new_folder=(
            render("new-folder.html", csrf=csrf, action=f"{folder_url}/new-folder")
            if actions.new_folder
            else Markup("")
        ),
    )


def _options(choices: Iterable[new_documents.Choice]) -> Markup:
    return pages.join(render("option.html", value=choice.value, label=choice.label) for choice in choices)


def _up_link(context: WopiContext, container: pb.ContainerInfo, ancestors: list[pb.ContainerInfo]) -> Markup:
    """Up one folder; from a folder shared on its own (its parent is not the user's to open), to what is shared."""
    parent = container.parent_container_id
    if not parent:
        return Markup("")
    if ancestors and ancestors[-1].container_id == parent:
        return render("parent-link.html", url=pages.local(context.browser_url(parent)))
    return render("shared-up-link.html", url=sharing.shared_url(context))


def _split(page: ChildrenPage) -> tuple[list[pb.ContainerInfo], list[pb.FileInfo]]:
    """The page's folders and files: in storage's order when it pages (folders first, then files, each by name:
    the order across pages), else sorted here, as that stream comes in no particular order."""
    folders = [item.container for item in page.items if item.HasField("container")]
    files = [item.file for item in page.items if item.HasField("file")]
    if not page.truncated:
        return folders, files
    return sorted(folders, key=lambda c: c.name.casefold()), sorted(files, key=lambda f: f.name.casefold())


def _page_token(request: Request) -> str | None:
    """The `page` query parameter: "" for the first page, None if it cannot be a page token. Tokens are opaque,
    but the proto bounds them (URL-safe, at most 1024 characters); storage refuses any it did not hand out."""
    token = request.query_params.get("page", "")
    return token if _PAGE_TOKEN.fullmatch(token) else None


def _pager(context: WopiContext, container_id: str, token: str, page: ChildrenPage) -> Markup:
    """Links to the first page (from a later one) and to the next; or, from an adapter that cannot page, that
    there is more than is shown."""
    if page.truncated:
        text = (
            f"Only the first {BROWSER_PAGE_SIZE} items are shown: the storage service cannot list this folder in pages."
        )
        return render("notice.html", kind="info", role="note", text=text)
    links = []
    here = context.browser_url(container_id)
    if token:
        links.append(pages.link_button(pages.local(here), "First page"))
    if page.next_token:
        more = f"{here}{'&' if '?' in here else '?'}{urlencode({'page': page.next_token})}"
        links.append(pages.link_button(pages.local(more), "More", primary=True))
    return pages.join(links)


async def _listing(request: Request, context: WopiContext, user: Principal) -> Response:
    settings = context.settings
    requested = request.query_params.get("container", "")
    if requested and not valid_id(requested):
        home = pages.link_button(pages.local(context.browser_url()), "Back to documents", primary=True)
        return pages.message_page(
            settings, "No such folder", "This folder does not exist.", status_code=404, user=user, actions=home
        )
    token = _page_token(request)
    if token is None:
        first = pages.link_button(pages.local(context.browser_url(requested)), "First page", primary=True)
        text = "This link to a page of the folder is not valid."
        return pages.message_page(settings, "No such page", text, status_code=400, user=user, actions=first)
    storage = context.storage
    container = await (storage.get_container(requested, user) if requested else storage.root_container(user))
    at_root = not container.parent_container_id
    ancestors, page, capabilities = await asyncio.gather(
        storage.container_ancestors(container.container_id, user) if not at_root else asyncio.sleep(0, []),
        storage.list_children_page(container.container_id, user, BROWSER_PAGE_SIZE, token),
        context.storage.capabilities(),
    )
    folders, files = _split(page)
    state, discovery = discovery_of(context)
    guard = guard_for(settings)
    csrf, new_nonce = guard.issue(request, user)
    flash = flash_for(settings)
    message = flash.read(request, user)
    rows = [_folder_row(context, capabilities, folder, csrf, user) for folder in folders]
    rows += [_file_row(context, capabilities, info, csrf, user) for info in files]
    here = ItemRef(container.container_id, True)
    actions = actions_for(capabilities, container.permissions, is_container=True)
    templates = (
        await new_documents.template_choices(settings, new_documents.editable_by(discovery)) if actions.create else []
    )
    folder_url = sharing.item_url(context, here)
    notices = [flash_notice(message)]
    if state is not EditorState.READY:
        notices.append(render("notice.html", kind="info", role="note", text=_EDITOR_NOTICES[state]))
    body = render(
        "browser.html",
        places=sharing.places(context, capabilities, "documents"),
        breadcrumbs=_breadcrumbs(context, list(ancestors), container),
        title=container.name or ROOT_NAME,
        share=(
            pages.link_button(sharing.sharing_url(context, here), "Share" if actions.manage_sharing else "Sharing")
            if actions.see_sharing and not at_root
            else Markup("")
        ),
        upload=(
            render("upload-button.html", upload_url=f"{folder_url}/upload", csrf=csrf, max_size=settings.max_file_size)
            if actions.create
            else Markup("")
        ),
        new_menu=_new_menu(folder_url, csrf, actions, templates),
        notices=pages.join(notices),
        noscript=render("upload-noscript.html") if actions.create else Markup(""),
        rows=pages.join(rows) if rows or token else render("empty.html" if actions.create else "empty-read-only.html"),
        pager=_pager(context, requested, token, page),
        parent=_up_link(context, container, list(ancestors)),
    )
    response = pages.page(settings, container.name or ROOT_NAME, body, user=user, scripts=["browser.js"])
    guard.set_cookie(response, new_nonce)
    flash.clear(request, response)
    return response


listing = for_people(_listing)

ROUTES: list[BaseRoute] = [
    Route("/", listing, methods=["GET"]),
    *browser_actions.ROUTES,
    *sharing.ROUTES,
    *downloads.ROUTES,
    Route("/host/{file_id}", host_page.host_page_with_token, methods=["POST"]),
    Mount("/static", app=StaticFiles(directory=pages.STATIC_DIR), name="static"),
]
