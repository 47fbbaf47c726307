"""Sharing in the file browser: the Share dialog of every file and folder, and the page of what others shared.

`/browse/files/{id}/sharing` and `/browse/folders/{id}/sharing` show the item's owner, its own grants and those
it inherits from the folders above it; people who may manage its sharing also get forms to add, change and
remove a grant (plain POSTs with the CSRF token, answered with a redirect back to the dialog: they work without
scripts). `/shared` lists, a page at a time, what is shared with the user, with who shared it and when.

Storage keeps the grants and decides: whoever may read an item may see who has access to it (storage's
ListGrants), and storage refuses a change from anyone without manage_sharing. Without
`Capabilities.access_control` there are no grants (the sharing RPCs are UNIMPLEMENTED), and these pages say that
sharing is not available.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlencode

import grpc
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wopi_frontend import pages
from wopi_frontend.context import WopiContext
from wopi_frontend.csrf import guard_for
from wopi_frontend.flash import flash_for
from wopi_frontend.identity import GROUP_ID, USER_ID
from wopi_frontend.pages import Markup, render
from wopi_frontend.routes.browser_actions import ActionFailed, Form, FormHandler, form_action
from wopi_frontend.routes.page_support import (
    ICON_LETTERS,
    ROOT_NAME,
    file_links,
    flash_notice,
    for_people,
    kind_of,
    name_of,
    storage_problem,
    valid_id,
)
from wopi_frontend.storage_client import ItemRef, StorageCallError
from wopi_frontend.storage_permissions import BrowserActions, actions_for
from wopi_frontend.types import Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

# The roles people choose from, by the value their forms send, in the order offered.
ROLES: dict[str, pb.Role.ValueType] = {"viewer": pb.ROLE_VIEWER, "editor": pb.ROLE_EDITOR, "manager": pb.ROLE_MANAGER}
ROLE_LABELS: dict[pb.Role.ValueType, str] = {
    pb.ROLE_VIEWER: "Can view",
    pb.ROLE_EDITOR: "Can edit",
    pb.ROLE_MANAGER: "Can manage",
}
SHARED_PAGE_SIZE = 50  # entries per page of /shared
MAX_SHARED_PAGE_SIZE = 200  # what `?size=` may ask for
NOT_AVAILABLE = (
    "This storage service does not keep permissions, so documents cannot be shared from here: everyone who can "
    "sign in can open and change every document."
)

Item = pb.FileInfo | pb.ContainerInfo


# ---- URLs ----


def item_url(context: WopiContext, item: ItemRef) -> str:
    """`/browse/files/ID` or `/browse/folders/ID`: where the item's actions are posted."""
    kind = "folders" if item.is_container else "files"
    return pages.local(f"{context.settings.base_url}/browse/{kind}/{quote(item.item_id)}")


def sharing_url(context: WopiContext, item: ItemRef) -> str:
    return item_url(context, item) + "/sharing"


def shared_url(context: WopiContext, **query: str) -> str:
    return pages.local(f"{context.settings.base_url}/shared") + (f"?{urlencode(query)}" if query else "")


def places(context: WopiContext, caps: pb.Capabilities, current: str) -> Markup:
    """The links between the user's documents and what is shared with them (only where sharing exists)."""
    if not caps.access_control:
        return Markup("")
    links = [
        render("place-current.html" if key == current else "place-link.html", url=url, label=label)
        for key, label, url in (
            ("documents", "My documents", pages.local(context.browser_url())),
            ("shared", "Shared with me", shared_url(context)),
        )
    ]
    return render("places.html", links=pages.join(links))


def share_menu_item(context: WopiContext, item: ItemRef, actions: BrowserActions) -> Markup:
    """The row menu's way into the Share dialog: changes for those who may manage, else a read-only look."""
    if not actions.see_sharing:
        return Markup("")
    label = "Share…" if actions.manage_sharing else "Sharing…"
    return render("menu-share.html", url=sharing_url(context, item), label=label)


def _initial(text: str) -> str:
    return text.strip()[:1].upper() or "?"


def _not_available(context: WopiContext, user: Principal) -> Response:
    home = pages.link_button(pages.local(context.browser_url()), "Back to documents", primary=True)
    return pages.message_page(
        context.settings, "Sharing is not available", NOT_AVAILABLE, status_code=404, user=user, actions=home
    )


# ---- the Share dialog ----


def _role_options(selected: pb.Role.ValueType = pb.ROLE_VIEWER) -> Markup:
    options = []
    for value, role in ROLES.items():
        template = "share-role-option-selected.html" if role == selected else "option.html"
        options.append(render(template, value=value, label=ROLE_LABELS[role]))
    return pages.join(options)


def _granted(grant: pb.Grant) -> list[object]:
    """`added by Alice <time>`: who gave the grant (or last changed its role), and when."""
    by = name_of(grant.granted_by)
    return (
        ["added by ", by, " ", pages.format_time(grant.granted_time)]
        if by
        else ["added ", pages.format_time(grant.granted_time)]
    )


def _grantee_of(grant: pb.Grant) -> tuple[str, str]:
    """(kind as the forms send it, id)."""
    if grant.grantee.WhichOneof("grantee") == "group_id":
        return "group", grant.grantee.group_id
    return "user", grant.grantee.user_id


def _grant_row(
    context: WopiContext, item: ItemRef, grant: pb.Grant, csrf: str, editable: bool, where: str = ""
) -> Markup:
    kind, grantee_id = _grantee_of(grant)
    label = f"Group {grantee_id}" if kind == "group" else grantee_id
    detail = pages.join([where, " · ", *_granted(grant)] if where else _granted(grant))
    values = {
        "grantee_kind": kind,
        "grantee_id": grantee_id,
        "initial": _initial(grantee_id),
        "label": label,
        "detail": detail,
    }
    if not editable:
        return render("share-grant.html", role=ROLE_LABELS.get(grant.role, "Unknown role"), **values)
    url = sharing_url(context, item)
    return render(
        "share-grant-editable.html",
        csrf=csrf,
        grant_url=f"{url}/grant",
        revoke_url=f"{url}/revoke",
        options=_role_options(grant.role),
        **values,
    )


def _is_on(grant: pb.Grant, item: ItemRef) -> bool:
    field = "container_id" if item.is_container else "file_id"
    return grant.WhichOneof("item") == field and getattr(grant, field) == item.item_id


async def _ancestors(context: WopiContext, item: ItemRef, user: Principal) -> list[pb.ContainerInfo]:
    """The folders above the item that the user may read (storage leaves out the others)."""
    if item.is_container:
        return await context.storage.container_ancestors(item.item_id, user)
    return await context.storage.file_ancestors(item.item_id, user)


async def _stat(context: WopiContext, item: ItemRef, user: Principal) -> Item:
    if item.is_container:
        return await context.storage.get_container(item.item_id, user)
    return await context.storage.stat_file(item.item_id, user)


def _back(context: WopiContext, item: ItemRef, info: Item, ancestors: list[pb.ContainerInfo]) -> tuple[str, str]:
    """Where the dialog closes to: the folder itself, or the file's folder when the user may open it, else what
    is shared with them (a file shared on its own)."""
    if item.is_container:
        return pages.local(context.browser_url(item.item_id)), "Back to the folder"
    if any(folder.container_id == info.parent_container_id for folder in ancestors):
        return pages.local(context.browser_url(info.parent_container_id)), "Back to the folder"
    return shared_url(context), "Back to Shared with me"


def _grant_rows(
    context: WopiContext,
    item: ItemRef,
    grants: list[pb.Grant],
    ancestors: list[pb.ContainerInfo],
    csrf: str,
    *,
    editable: bool,
) -> tuple[Markup, Markup]:
    """The item's own grants (with controls when `editable`), and those it inherits, each saying from which
    folder (by name when the user may open it)."""
    names = {folder.container_id: folder.name or ROOT_NAME for folder in ancestors}
    own, inherited = [], []
    for grant in grants:
        if _is_on(grant, item):
            own.append(_grant_row(context, item, grant, csrf, editable))
        else:
            name = names.get(grant.container_id)
            where = f"from the folder “{name}”" if name else "from a folder above, which you cannot open"
            inherited.append(_grant_row(context, item, grant, csrf, False, where))
    return pages.join(own), pages.join(inherited)


def _owner_row(info: Item, user: Principal) -> Markup:
    owner = info.owner
    if not owner.user_id:
        return render("share-no-owner.html")
    detail = "you" if owner.user_id == user.user_id else owner.user_id
    return render("share-owner.html", initial=_initial(name_of(owner)), name=name_of(owner), detail=detail)


def _sharing_page(*, is_container: bool) -> Callable[[Request], Awaitable[Response]]:
    async def page(request: Request, context: WopiContext, user: Principal) -> Response:
        settings = context.settings
        item = ItemRef(request.path_params["item_id"], is_container)
        if not valid_id(item.item_id):
            return pages.message_page(settings, "Not found", "There is no such item.", status_code=404, user=user)
        caps = await context.storage.capabilities()
        if not caps.access_control:
            return _not_available(context, user)
        info = await _stat(context, item, user)
        grants, ancestors = await asyncio.gather(
            context.storage.list_grants(item, user), _ancestors(context, item, user)
        )
        actions = actions_for(caps, info.permissions, is_container=is_container)
        guard = guard_for(settings)
        csrf, new_nonce = guard.issue(request, user)
        own, inherited = _grant_rows(context, item, grants, ancestors, csrf, editable=actions.manage_sharing)
        back_url, back_label = _back(context, item, info, ancestors)
        kind = "folder" if is_container else kind_of(info.name)
        add = (
            render(
                "share-add.html", csrf=csrf, grant_url=f"{sharing_url(context, item)}/grant", options=_role_options()
            )
            if actions.manage_sharing
            else render("share-read-only.html")
        )
        body = render(
            "share-dialog.html",
            places=places(context, caps, ""),
            kind=kind,
            letter=ICON_LETTERS.get(kind, ""),
            name=info.name or ROOT_NAME,
            what=("A folder: what you share here is shared with everything in it." if is_container else "A document."),
            back_url=back_url,
            back_label=back_label,
            notices=flash_notice(flash_for(context.settings).read(request, user)),
            owner=_owner_row(info, user),
            grants=own,
            inherited=render("share-inherited.html", grants=inherited) if inherited else Markup(""),
            add=add,
        )
        title = f"Share {info.name or ROOT_NAME}"
        response = pages.page(settings, title, body, user=user, scripts=["browser.js"])
        guard.set_cookie(response, new_nonce)
        flash_for(settings).clear(request, response)
        return response

    return for_people(page)


# ---- the dialog's forms ----


def _grantee(form: Form, back: str) -> tuple[pb.Grantee, str]:
    """The grantee a form names, and how to name it in a message; ActionFailed for a malformed one."""
    kind, grantee_id = form.get("kind", ""), form.get("id", "").strip()
    if kind not in ("user", "group"):
        raise ActionFailed(back, "Choose whether to share with a person or a group.")
    if not grantee_id:
        raise ActionFailed(back, "Enter the id of the person or group to share with.")
    if kind == "user":
        if not USER_ID.fullmatch(grantee_id):
            raise ActionFailed(back, "A user id is 1 to 256 printable ASCII characters, without spaces.")
        return pb.Grantee(user_id=grantee_id), grantee_id
    if not GROUP_ID.fullmatch(grantee_id):
        raise ActionFailed(back, "A group id is 1 to 256 printable ASCII characters, without spaces or commas.")
    return pb.Grantee(group_id=grantee_id), f"the group {grantee_id}"


def _refused(back: str, what: str, error: StorageCallError) -> ActionFailed | StorageCallError:
    """A refusal shown in the dialog; NOT_FOUND (the item is gone, or no longer readable) stays an error page."""
    if error.code == grpc.StatusCode.NOT_FOUND:
        return error
    if error.code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return ActionFailed(back, f"{what}: it has as many grants as storage allows. Remove one first.")
    return ActionFailed(back, f"{what}: {storage_problem(error)[1]}")


def _grant(*, is_container: bool) -> FormHandler:
    async def grant(context: WopiContext, user: Principal, item_id: str, form: Form) -> tuple[str, str]:
        item = ItemRef(item_id, is_container)
        back = sharing_url(context, item)
        grantee, who = _grantee(form, back)
        role = ROLES.get(form.get("role", ""))
        if role is None:
            raise ActionFailed(back, "Choose one of the roles offered.")
        info = await _stat(context, item, user)
        name = info.name or ROOT_NAME
        if grantee.user_id and grantee.user_id == info.owner.user_id:
            raise ActionFailed(back, f"{who} owns “{name}”: an owner can always do everything with it.")
        try:
            await context.storage.grant_access(item, grantee, role, user)
        except StorageCallError as error:
            raise _refused(back, f"“{name}” was not shared with {who}", error) from None
        return back, f"Shared “{name}” with {who}: {ROLE_LABELS[role].lower()}."

    return grant


def _revoke(*, is_container: bool) -> FormHandler:
    async def revoke(context: WopiContext, user: Principal, item_id: str, form: Form) -> tuple[str, str]:
        item = ItemRef(item_id, is_container)
        back = sharing_url(context, item)
        grantee, who = _grantee(form, back)
        info = await _stat(context, item, user)
        name = info.name or ROOT_NAME
        try:
            await context.storage.revoke_access(item, grantee, user)
        except StorageCallError as error:
            raise _refused(back, f"The access of {who} to “{name}” was not removed", error) from None
        # Whoever removed their own access may no longer be able to see the dialog: back to their documents.
        target = pages.local(context.browser_url()) if grantee.user_id == user.user_id else back
        return target, f"Removed the access of {who} to “{name}”."

    return revoke


# ---- Shared with me ----


def _page_size(value: str | None) -> int:
    try:
        size = int(value) if value else SHARED_PAGE_SIZE
    except ValueError:
        return SHARED_PAGE_SIZE
    return min(max(size, 1), MAX_SHARED_PAGE_SIZE)


def _shared_row(context: WopiContext, caps: pb.Capabilities, shared: pb.SharedItem) -> Markup:
    grant = shared.grant
    values = {
        "role": ROLE_LABELS.get(grant.role, "Unknown role"),
        "by": name_of(grant.granted_by) or "-",
        "when": pages.format_time(grant.granted_time),
    }
    if shared.item.HasField("container"):
        folder = shared.item.container
        item = ItemRef(folder.container_id, True)
        return render(
            "shared-row.html",
            kind="folder",
            letter="",
            name=folder.name or ROOT_NAME,
            open_url=pages.local(context.browser_url(folder.container_id)),
            edit=Markup(""),
            sharing_url=sharing_url(context, item),
            **values,
        )
    info = shared.item.file
    actions = actions_for(caps, info.permissions, is_container=False)
    view_url, edit_url = file_links(context, info, actions.edit)
    kind = kind_of(info.name)
    return render(
        "shared-row.html",
        kind=kind,
        letter=ICON_LETTERS[kind],
        name=info.name,
        open_url=view_url,
        edit=render("edit-link.html", url=edit_url, name=info.name) if edit_url else Markup(""),
        sharing_url=sharing_url(context, ItemRef(info.file_id, False)),
        **values,
    )


async def _shared_with_me(request: Request, context: WopiContext, user: Principal) -> Response:
    """GET /shared[?page=TOKEN&size=N]: one page of what others shared with the user, and a link to the next."""
    caps = await context.storage.capabilities()
    if not caps.access_control:
        return _not_available(context, user)
    token = request.query_params.get("page", "")
    size = _page_size(request.query_params.get("size"))
    answer = await context.storage.list_shared_with_me(user, page_size=size, page_token=token)
    rows = [_shared_row(context, caps, shared) for shared in answer.items if shared.item.WhichOneof("item")]
    if not rows:
        text = "Nothing more is shared with you." if token else "Nothing is shared with you yet."
        rows.append(render("shared-empty.html", text=text))
    size_query = {"size": str(size)} if size != SHARED_PAGE_SIZE else {}
    pager = []
    if token:
        pager.append(pages.link_button(shared_url(context, **size_query), "First page"))
    if answer.next_page_token:
        more = shared_url(context, page=answer.next_page_token, **size_query)
        pager.append(pages.link_button(more, "More", primary=True))
    body = render(
        "shared-with-me.html",
        places=places(context, caps, "shared"),
        rows=pages.join(rows),
        pager=pages.join(pager),
    )
    return pages.page(context.settings, "Shared with me", body, user=user, scripts=["browser.js"])


shared_with_me = for_people(_shared_with_me)

ROUTES: list[BaseRoute] = [
    Route("/shared", shared_with_me, methods=["GET"]),
    Route("/browse/files/{item_id}/sharing", _sharing_page(is_container=False), methods=["GET"]),
    Route("/browse/files/{item_id}/sharing/grant", form_action(_grant(is_container=False)), methods=["POST"]),
    Route("/browse/files/{item_id}/sharing/revoke", form_action(_revoke(is_container=False)), methods=["POST"]),
    Route("/browse/folders/{item_id}/sharing", _sharing_page(is_container=True), methods=["GET"]),
    Route("/browse/folders/{item_id}/sharing/grant", form_action(_grant(is_container=True)), methods=["POST"]),
    Route("/browse/folders/{item_id}/sharing/revoke", form_action(_revoke(is_container=True)), methods=["POST"]),
]
