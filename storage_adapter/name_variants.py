"""Free name variants ('report (2).docx'): the candidate order of the proto's "Name variants" rule.

One definition for every backend, so that CreateFile and RenameFile with `use_free_variant` and FindFreeName
choose the same name whichever backend serves them. (The front-end's `wopi_frontend/names.py` builds the same
variants for adapters without the capability; the two must agree.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

MAX_NAME_VARIANT = 1000  # the largest n of "stem (n).ext": the bound on the work one request can cause


def split_extension(name: str) -> tuple[str, str]:
    """('report', '.docx') for 'report.docx'; a leading dot alone is not an extension ('.profile', '')."""
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], name[dot:]


def variant(name: str, number: int, max_name_length: int) -> str | None:
    """Variant `number` of `name` ('report (2).docx'), its stem shortened to fit `max_name_length` UTF-8
    bytes; None if even an empty stem does not fit."""
    stem, extension = split_extension(name)
    suffix = f" ({number})"
    while stem and len((stem + suffix + extension).encode("utf-8")) > max_name_length:
        stem = stem[:-1]
    candidate = stem + suffix + extension if stem else f"({number}){extension}"  # never a leading space
    return candidate if len(candidate.encode("utf-8")) <= max_name_length else None


def candidates(name: str, max_name_length: int) -> Iterator[str]:
    """`name`, then its variants 2 to MAX_NAME_VARIANT, in the order they are tried."""
    yield name
    for number in range(2, MAX_NAME_VARIANT + 1):
        candidate = variant(name, number, max_name_length)
        if candidate is None:
            return
        yield candidate


def batches(name: str, max_name_length: int, size: int) -> Iterator[list[str]]:
    """The candidates in lists of `size`, for backends that look many names up in one query."""
    remaining = candidates(name, max_name_length)
    while batch := list(islice(remaining, size)):
        yield batch


def first_free(names: Iterable[str], is_taken: Callable[[str], bool]) -> str | None:
    """The first of `names` that is not taken, or None."""
    return next((candidate for candidate in names if not is_taken(candidate)), None)
