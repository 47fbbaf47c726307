"""What "New" in the file browser offers, and the bytes each new document starts with.

Two kinds of choice. The built-in ones (NEW_DOCUMENT_TYPES: Word, Excel, PowerPoint and the three OpenDocument
kinds) start as the valid blank document `blank_documents.py` makes; one without a blank document would start
empty, as every new document once did. The organisation's templates (`templates_dir`, `template_folder.py`)
start as their file's bytes, a template's made into a document's (`template_documents.py`).

The form sends the choice back as `type`: an extension ('.docx') for a built-in kind, `template:` and the
template's exact file name for a template. Neither is ever a path: a template's name is only compared with the
folder's listing, read again for the choice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from wopi_frontend import names
from wopi_frontend.blank_documents import BLANK_EXTENSIONS, blank_document
from wopi_frontend.discovery import Discovery
from wopi_frontend.routes.page_support import NEW_DOCUMENT_TYPES, find_action
from wopi_frontend.settings import FrontendSettings
from wopi_frontend.template_documents import Chunks, TemplateUnusable, document_chunks
from wopi_frontend.template_folder import Template, TemplateMissing, find_template, list_templates, open_template

logger = logging.getLogger("wopi_frontend.templates")

TEMPLATE_PREFIX = "template:"

Editable = Callable[[str], bool]  # does the editor edit documents with this extension ('.docx')?


@dataclass(frozen=True)
class Choice:
    value: str  # what the form sends back as `type`
    label: str
    extension: str  # the new document's extension
    template: Template | None = None  # for one of the organisation's templates


BLANK_CHOICES = tuple(Choice(extension, label, extension) for extension, label in NEW_DOCUMENT_TYPES.items())


class ChoiceRefused(Exception):
    """A `type` that is not one of the choices offered: an HTTP status, a title and a sentence for a person."""

    def __init__(self, status_code: int, title: str, text: str) -> None:
        super().__init__(text)
        self.status_code = status_code
        self.title = title
        self.text = text


def editable_by(discovery: Discovery | None) -> Editable:
    """The extensions whose documents the editor edits (with `edit` or `editnew`). Without an editor (none
    configured, or its discovery not read), those of the built-in kinds: what "New" offers anyway."""
    if discovery is None:
        return lambda extension: extension in NEW_DOCUMENT_TYPES
    return lambda extension: any(
        find_action(discovery, f"document{extension}", action) is not None for action in ("edit", "editnew")
    )


async def template_choices(settings: FrontendSettings, editable: Editable) -> list[Choice]:
    """The organisation's templates, read from the folder now (none without `templates_dir`)."""
    if settings.templates_dir is None:
        return []
    templates = await asyncio.to_thread(
        list_templates, settings.templates_dir, max_size=settings.max_file_size, editable=editable
    )
    shared = _shared_stems(templates)
    return [
        # Two templates of one name (Letter.dotx, Letter.ott) are told apart by the kind of document they make.
        Choice(
            TEMPLATE_PREFIX + template.name,
            f"{template.stem} ({template.extension})" if template.stem.casefold() in shared else template.stem,
            template.extension,
            template,
        )
        for template in templates
    ]


async def chosen(settings: FrontendSettings, editable: Editable, value: str) -> Choice:
    """The choice a form's `type` names; ChoiceRefused (400 for what cannot be a choice, 404 for a template
    that is not, or no longer, in the folder) otherwise."""
    if not value.startswith(TEMPLATE_PREFIX):
        choice = next((choice for choice in BLANK_CHOICES if choice.value == value), None)
        if choice is None:
            raise ChoiceRefused(400, "Bad request", "Choose one of the document types offered.")
        return choice
    name = value.removeprefix(TEMPLATE_PREFIX)
    if names.problem(name) is not None or name.startswith("."):
        raise ChoiceRefused(400, "Bad request", "That is not the name of a template.")
    if settings.templates_dir is None:
        raise _no_such_template()
    try:
        template = await asyncio.to_thread(
            find_template, settings.templates_dir, name, max_size=settings.max_file_size, editable=editable
        )
    except TemplateMissing:
        raise _no_such_template() from None
    return Choice(value, template.stem, template.extension, template)


@asynccontextmanager
async def starting_contents(settings: FrontendSettings, choice: Choice) -> AsyncIterator[Chunks]:
    """What makes the new document's bytes, each time it is called, while the context is open (a template's
    file stays open in it). ChoiceRefused (404) if the template has gone since it was chosen; TemplateUnusable
    if it cannot be made into a document."""
    template, folder = choice.template, settings.templates_dir
    if template is None:
        yield _blank_chunks(choice.extension)
        return
    if folder is None:
        raise _no_such_template()
    try:
        file = await asyncio.to_thread(open_template, folder, template, max_size=settings.max_file_size)
    except TemplateMissing:
        raise _no_such_template() from None
    try:
        yield await document_chunks(file, template.source_extension, settings.max_file_size)
    except TemplateUnusable as unusable:  # before anything was sent, or while it was: the operator should know
        logger.warning("the template %s in %s cannot be used: it %s", template.name, folder, unusable)
        raise
    finally:
        await asyncio.to_thread(file.close)


def _blank_chunks(extension: str) -> Chunks:
    data = blank_document(extension) if extension in BLANK_EXTENSIONS else b""

    async def chunks() -> AsyncIterator[bytes]:
        if data:
            yield data  # a few KiB, built once per process

    return chunks


def _shared_stems(templates: list[Template]) -> set[str]:
    seen: set[str] = set()
    shared: set[str] = set()
    for template in templates:
        stem = template.stem.casefold()
        (shared if stem in seen else seen).add(stem)
    return shared


def _no_such_template() -> ChoiceRefused:
    text = "That template is not offered here: it may have been removed. Reload the folder and choose again."
    return ChoiceRefused(404, "No such template", text)
