"""The organisation's template folder (`templates_dir`): which of its files "New" offers, and opening one.

The folder is on the front-end's machine and is read when the choice list is rendered, and again when a choice
is made: what can be chosen is exactly what the listing offers, named by its exact file name, never a path. So a
name from a form is only ever compared with the folder's own entries, and nothing outside the folder is read:

- an entry is offered only if it is a regular file directly in the folder, or a symbolic link to one (a link
  out of the folder, or into a folder inside it, is left out);
- the file is opened by the name of that regular file in the folder's real path, without following links
  (`O_NOFOLLOW`), so an entry swapped for a link after it was listed is refused, not followed;
- it is opened non-blocking (a FIFO swapped in cannot hang the thread) and checked again once open (a regular
  file, not over the size limit).

Costs are bounded whatever the folder holds: at most MAX_ENTRIES entries are looked at, and MAX_TEMPLATES
offered. These functions do blocking file-system calls: run them in a thread.
"""

from __future__ import annotations

import itertools
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from wopi_frontend import names

logger = logging.getLogger("wopi_frontend.templates")

MAX_TEMPLATES = 100
MAX_ENTRIES = 1000  # entries looked at per listing: a folder of a million files costs what one of a thousand does
# A template's extension, and that of the document made from it.
TEMPLATE_EXTENSIONS: dict[str, str] = {
    ".dotx": ".docx",
    ".xltx": ".xlsx",
    ".potx": ".pptx",
    ".ott": ".odt",
    ".ots": ".ods",
    ".otp": ".odp",
}
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True)
class Template:
    name: str  # the entry's name in the folder: what the listing shows and the form sends back
    stem: str  # the name without its extension: the choice's label
    extension: str  # the new document's extension, in lower case: '.docx' for 'Letterhead.dotx'
    source_extension: str  # the file's own extension, in lower case: '.dotx'
    target: str  # the regular file in the folder that is opened: `name` itself, or the sibling a link names
    size: int


class TemplateMissing(Exception):
    """The chosen name is not (or no longer) one of the folder's templates."""


def list_templates(folder: str, *, max_size: int, editable: Callable[[str], bool]) -> list[Template]:
    """The templates of `folder`, sorted by label: files whose document extension `editable` accepts, at most
    `max_size` bytes. A folder that cannot be read offers none (and says why in the log)."""
    try:
        real = os.path.realpath(folder, strict=True)
        with os.scandir(real) as entries:
            looked_at = list(itertools.islice(entries, MAX_ENTRIES))
    except OSError as error:
        logger.warning("the templates folder %s cannot be read: %s", folder, error)
        return []
    found = [template for entry in looked_at if (template := _template(real, entry, max_size, editable))]
    found.sort(key=lambda template: (template.stem.casefold(), template.name))
    return found[:MAX_TEMPLATES]


def find_template(folder: str, name: str, *, max_size: int, editable: Callable[[str], bool]) -> Template:
    """The listed template named exactly `name`; TemplateMissing if the listing has none."""
    for template in list_templates(folder, max_size=max_size, editable=editable):
        if template.name == name:
            return template
    raise TemplateMissing(name)


def open_template(folder: str, template: Template, *, max_size: int) -> BinaryIO:
    """The template's file, open for reading (the caller closes it); TemplateMissing if it is gone, or is no
    longer a regular file of the folder within `max_size`."""
    try:
        real = os.path.realpath(folder, strict=True)
        descriptor = os.open(os.path.join(real, template.target), _OPEN_FLAGS)
    except OSError:  # gone, or a symbolic link now (ELOOP)
        raise TemplateMissing(template.name) from None
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode) or not 0 < status.st_size <= max_size:
        os.close(descriptor)
        raise TemplateMissing(template.name)
    return os.fdopen(descriptor, "rb")


def _template(
    real_folder: str, entry: os.DirEntry[str], max_size: int, editable: Callable[[str], bool]
) -> Template | None:
    name = entry.name
    if not _offerable_name(name):
        return None
    stem, extension = names.split_extension(name)
    extension = extension.lower()
    document_extension = TEMPLATE_EXTENSIONS.get(extension, extension)
    if not stem or not extension or not editable(document_extension):
        return None
    target = name
    try:
        if entry.is_symlink():
            # Where the link leads, every link followed: only a file directly in the folder is one of its templates.
            resolved = os.path.realpath(entry.path)
            if os.path.dirname(resolved) != real_folder:
                return None
            target = os.path.basename(resolved)
        status = os.stat(os.path.join(real_folder, target), follow_symlinks=False)
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode) or not 0 < status.st_size <= max_size:
        return None
    return Template(name, stem, document_extension, extension, target, status.st_size)


def _offerable_name(name: str) -> bool:
    """Not hidden, not an office suite's lock file (`~$Letter.dotx`, `.~lock.Letter.ott#`), a name that can be
    shown and sent back as text (no undecodable bytes), and a legal document name."""
    if name.startswith((".", "~$")):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8, kept by Python as lone surrogates
        return False
    return names.problem(name) is None
