"""What the file browser's forms and upload do: new documents and folders, rename, delete, upload.

Forms are plain HTML POSTs (they work without scripts) answered with a redirect back to the folder and a
one-time message (post/redirect/get); a form that names something the page never offered (a forged or stale one)
gets an error status and a page saying so instead. What a new document starts with is `new_documents.py`'s.
The upload is a script's POST of the raw file, streamed to storage as it arrives. Every POST passes the CSRF
checks of `csrf.py` first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

import grpc
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wopi_frontend import names, new_documents, pages
from wopi_frontend.context import WopiContext
from wopi_frontend.csrf import FORM_FIELD, HEADER, CsrfRejected, guard_for
from wopi_frontend.errors import TooLarge, WopiError
from wopi_frontend.flash import flash_for
from wopi_frontend.requests import body_chunks, small_body
from wopi_frontend.routes.page_support import NEW_DOCUMENT_TYPES as NEW_DOCUMENT_TYPES  # the kinds "New" offers
from wopi_frontend.routes.page_support import (
    EditorState,
    discovery_of,
    extension_of,
    for_people,
    for_scripts,
    storage_problem,
    valid_id,
)
from wopi_frontend.storage_client import StorageCallError
from wopi_frontend.template_documents import Chunks, TemplateUnusable
from wopi_frontend.types import Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

MAX_FORM_BYTES = 16 * 1024
MAX_NAME_VARIANTS = 50
STALE_FORM = (
    "This form has expired or was sent from another site, so nothing was changed. "
    "Go back, reload the page, and try again."
)


class ActionFailed(Exception):
    """A form action that could not be done: where to go back to, and why (a sentence)."""

    def __init__(self, back: str, text: str) -> None:
        super().__init__(text)
        self.back = back
        self.text = text


class FormRefused(Exception):
    """A form that cannot be acted on as sent: answered with `status_code` and a page saying why (`title`,
    `text`), with a link back to `back`, instead of a redirect; nothing was changed."""

    def __init__(self, status_code: int, back: str, title: str, text: str) -> None:
        super().__init__(text)
        self.status_code = status_code
        self.back = back
        self.title = title
        self.text = text


Form = dict[str, str]
# (context, user, the id in the path, the form) -> (where to go next, what was done)
FormHandler = Callable[[WopiContext, Principal, str, Form], Awaitable[tuple[str, str]]]


async def _read_form(request: Request) -> Form | None:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return None
    try:
        body = await small_body(request, MAX_FORM_BYTES)
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20))
    except (WopiError, UnicodeDecodeError, ValueError):
        return None


def form_action(handler: FormHandler) -> Callable[[Request], Awaitable[Response]]:
    async def route(request: Request, context: WopiContext, user: Principal) -> Response:
        settings = context.settings
        item_id = request.path_params["item_id"]
        if not valid_id(item_id):
            return pages.message_page(settings, "Not found", "There is no such item.", status_code=404, user=user)
        form = await _read_form(request)
        if form is None:
            text = "The form could not be read."
            return pages.message_page(settings, "Bad request", text, status_code=400, user=user)
        try:
            guard_for(settings).check(request, user, form.get(FORM_FIELD))
        except CsrfRejected:
            back = pages.link_button(pages.local(context.browser_url()), "Back to documents", primary=True)
            return pages.message_page(
                settings, "Nothing was changed", STALE_FORM, status_code=403, user=user, actions=back
            )
        try:
            target, done = await handler(context, user, item_id, form)
        except FormRefused as refused:
            back = pages.link_button(refused.back, "Back to the folder", primary=True)
            return pages.message_page(
                settings, refused.title, refused.text, status_code=refused.status_code, user=user, actions=back
            )
        except ActionFailed as failure:
            response = RedirectResponse(failure.back, status_code=303)
            flash_for(settings).set(response, user, "error", failure.text)
            return response
        response = RedirectResponse(target, status_code=303)
        flash_for(settings).set(response, user, "ok", done)
        return response

    return for_people(route)


def _folder_page(context: WopiContext, container_id: str = "") -> str:
    """Where a form action leads back to: the folder's page, as a path (the host page, by contrast, is always
    opened on the public URL, the origin its editor talks to)."""
    return pages.local(context.browser_url(container_id))


def _new_name(form: Form, back: str, *, keep_extension: str = "") -> str:
    name = names.normalized(form.get("name", "").strip())  # as storage will keep it, to compare with the old name
    if keep_extension and not extension_of(name):
        name += keep_extension  # "Budget" for "Budget.xlsx" keeps the file openable
    problem = names.problem(name)
    if problem is not None:
        raise ActionFailed(back, f"That name cannot be used: {problem}.")
    return name


def _failed(back: str, what: str, error: StorageCallError) -> ActionFailed:
    return ActionFailed(back, f"{what}: {storage_problem(error)[1]}")


# ---- files ----


async def rename_file(context: WopiContext, user: Principal, file_id: str, form: Form) -> tuple[str, str]:
    info = await context.storage.stat_file(file_id, user)
    back = _folder_page(context, info.parent_container_id)
    name = _new_name(form, back, keep_extension=extension_of(info.name))
    if name == info.name:
        return back, "The name is unchanged."
    try:
        await context.storage.rename_file(file_id, name, pb.Preconditions(), user)
    except StorageCallError as error:
        raise _failed(back, f"“{info.name}” was not renamed", error) from None
    return back, f"Renamed “{info.name}” to “{name}”."


async def delete_file(context: WopiContext, user: Principal, file_id: str, form: Form) -> tuple[str, str]:
    info = await context.storage.stat_file(file_id, user)
    back = _folder_page(context, info.parent_container_id)
    try:
        await context.storage.delete_file(file_id, pb.Preconditions(), user)
    except StorageCallError as error:
        raise _failed(back, f"“{info.name}” was not deleted", error) from None
    return back, f"Deleted “{info.name}”."


async def new_document(context: WopiContext, user: Principal, container_id: str, form: Form) -> tuple[str, str]:
    """A document of the chosen kind, from its blank document or template, opened for editing."""
    back = _folder_page(context, container_id)
    state, discovery = discovery_of(context)
    settings = context.settings
    try:
        choice = await new_documents.chosen(settings, new_documents.editable_by(discovery), form.get("type", ""))
    except new_documents.ChoiceRefused as refused:
        raise FormRefused(refused.status_code, back, refused.title, refused.text) from None
    stem = form.get("name", "").strip() or "Untitled"
    name = stem if extension_of(stem) == choice.extension else stem + choice.extension
    problem = names.problem(name)
    if problem is not None:
        raise ActionFailed(back, f"That name cannot be used: {problem}.")
    try:
        async with new_documents.starting_contents(settings, choice) as chunks:
            info = await _create(context, container_id, name, chunks, user)
    except new_documents.ChoiceRefused as refused:
        raise FormRefused(refused.status_code, back, refused.title, refused.text) from None
    except TemplateUnusable as unusable:
        raise ActionFailed(back, f"“{name}” was not created: the template “{choice.label}” {unusable}.") from None
    except StorageCallError as error:
        if error.code == grpc.StatusCode.ALREADY_EXISTS:
            raise ActionFailed(
                back, f"“{name}” and its numbered variants are all taken: choose another name."
            ) from None
        raise _failed(back, f"“{name}” was not created", error) from None
    target = context.host_page_url(info.file_id, "edit") if state is EditorState.READY else back
    return target, f"Created “{info.name}”."


async def _create(context: WopiContext, container_id: str, name: str, chunks: Chunks, user: Principal) -> pb.FileInfo:
    """A file named `name`, or its first free numbered variant, made of `chunks()` (streamed, as an upload is):
    the name chosen by storage in the one call that creates it where the adapter can (`free_name_variants`), else
    tried one by one up to MAX_NAME_VARIANTS, each try with the contents from the start."""
    if (await context.storage.capabilities()).free_name_variants:
        return await context.storage.create_file(container_id, name, chunks(), user, use_free_variant=True)
    candidates = [name] + [names.variant(name, number) for number in range(2, MAX_NAME_VARIANTS + 1)]
    for candidate in candidates[:-1]:
        try:
            return await context.storage.create_file(container_id, candidate, chunks(), user)
        except StorageCallError as error:
            if error.code != grpc.StatusCode.ALREADY_EXISTS:
                raise
    return await context.storage.create_file(container_id, candidates[-1], chunks(), user)


# ---- folders ----


async def new_folder(context: WopiContext, user: Principal, container_id: str, form: Form) -> tuple[str, str]:
    back = _folder_page(context, container_id)
    name = _new_name(form, back)
    try:
        await context.storage.create_container(container_id, name, user)
    except StorageCallError as error:
        raise _failed(back, f"The folder “{name}” was not created", error) from None
    return back, f"Created the folder “{name}”."


async def _parent_of(context: WopiContext, container_id: str, user: Principal) -> tuple[pb.ContainerInfo, str]:
    folder = await context.storage.get_container(container_id, user)
    if not folder.parent_container_id:
        raise ActionFailed(_folder_page(context), "The top folder cannot be renamed or deleted.")
    return folder, _folder_page(context, folder.parent_container_id)


async def rename_folder(context: WopiContext, user: Principal, container_id: str, form: Form) -> tuple[str, str]:
    folder, back = await _parent_of(context, container_id, user)
    name = _new_name(form, back)
    if name == folder.name:
        return back, "The name is unchanged."
    try:
        await context.storage.rename_container(container_id, name, user)
    except StorageCallError as error:
        raise _failed(back, f"The folder “{folder.name}” was not renamed", error) from None
    return back, f"Renamed the folder “{folder.name}” to “{name}”."


async def delete_folder(context: WopiContext, user: Principal, container_id: str, form: Form) -> tuple[str, str]:
    folder, back = await _parent_of(context, container_id, user)
    try:
        await context.storage.delete_container(container_id, user)
    except StorageCallError as error:
        raise _failed(back, f"The folder “{folder.name}” was not deleted", error) from None
    return back, f"Deleted the folder “{folder.name}”."


# ---- upload ----


def _json_error(status: int, text: str) -> Response:
    return JSONResponse({"error": text}, status_code=status)


async def _upload(request: Request, context: WopiContext, user: Principal) -> Response:
    """POST /browse/folders/{id}/upload?name=NAME with the raw file as the body (never held whole)."""
    container_id = request.path_params["item_id"]
    name = request.query_params.get("name", "")
    if not valid_id(container_id):
        return _json_error(404, "There is no such folder.")
    try:
        guard_for(context.settings).check(request, user, request.headers.get(HEADER))
    except CsrfRejected:
        return _json_error(403, STALE_FORM)
    problem = names.problem(name)
    if problem is not None:
        return _json_error(400, f"“{name}” cannot be used as a name: {problem}.")
    limit = context.settings.max_file_size
    try:
        info = await context.storage.create_file(container_id, name, body_chunks(request, limit), user)
    except TooLarge:
        return _json_error(413, f"“{name}” is larger than the {pages.format_size(limit)} this server accepts.")
    except WopiError:
        return _json_error(400, f"The upload of “{name}” was interrupted, so nothing was stored.")
    except StorageCallError as error:
        if error.code == grpc.StatusCode.ALREADY_EXISTS:
            return _json_error(409, f"“{name}” already exists in this folder. Rename or delete it first.")
        status, text = storage_problem(error)
        return _json_error(status, f"“{name}” was not uploaded: {text}")
    return JSONResponse({"file_id": info.file_id, "name": info.name, "size": info.size}, status_code=201)


upload = for_scripts(_upload)

ROUTES: list[BaseRoute] = [
    Route("/browse/files/{item_id}/rename", form_action(rename_file), methods=["POST"]),
    Route("/browse/files/{item_id}/delete", form_action(delete_file), methods=["POST"]),
    Route("/browse/folders/{item_id}/new-document", form_action(new_document), methods=["POST"]),
    Route("/browse/folders/{item_id}/new-folder", form_action(new_folder), methods=["POST"]),
    Route("/browse/folders/{item_id}/rename", form_action(rename_folder), methods=["POST"]),
    Route("/browse/folders/{item_id}/delete", form_action(delete_folder), methods=["POST"]),
    Route("/browse/folders/{item_id}/upload", upload, methods=["POST"]),
]
