"""Unit tests of wopi_frontend.utf7: the UTF-7 names of X-WOPI-SuggestedTarget, RelativeTarget, RequestedName."""

from __future__ import annotations

import pytest

from wopi_frontend import utf7


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("report.docx", "report.docx"),
        ("madeup+AF8-name.wopitestx", "madeup_name.wopitestx"),  # how the validator sends "_"
        ("Caf+AOk-", "Café"),
        ("+2D3cAA-.docx", "\U0001f400.docx"),
        ("50+-50", "50+50"),
        ("exact name (1).wopitest", "exact name (1).wopitest"),
        ("", ""),
    ],
)
def test_decode(header: str, name: str) -> None:
    """UTF-7 header values decode to the name (RFC 2152), plain ASCII stays as it is."""
    assert utf7.decode(header) == name


@pytest.mark.parametrize("header", ["C++ notes.docx", "a+b", "x+ZZZZ", "plus+sign.wopitest"])
def test_undecodable_values_are_taken_raw(header: str) -> None:
    """A value that is not valid UTF-7 (a client that did not encode) is taken as it is."""
    assert utf7.decode(header) == header


def test_raw_utf8_is_taken_as_utf8() -> None:
    """A non-ASCII value is raw UTF-8 from a client that does not encode (headers arrive decoded as latin-1)."""
    assert utf7.decode("Résumé.docx".encode().decode("latin-1")) == "Résumé.docx"
    assert utf7.decode("caf\u00e9") == "caf\u00e9"  # latin-1 that is not UTF-8: as it is


@pytest.mark.parametrize("header", ["+2AA-", "ok+2AA-name", "+3AA-.docx", "+2ADYAA-", "a+2AA-b+AGE-"])
def test_lone_surrogates_are_refused(header: str) -> None:
    """Python's decoder lets some invalid UTF-7 through as lone surrogates; those are InvalidName."""
    with pytest.raises(utf7.InvalidName):
        utf7.decode(header)


@pytest.mark.parametrize("name", ["report.docx", "madeup_name.wopitestx", "a+b", "C++", "Café", "\U0001f400 ~!", ""])
def test_encode_round_trips(name: str) -> None:
    """encode() (for X-WOPI-ValidRelativeTarget) is ASCII and decodes back to the same name."""
    encoded = utf7.encode(name)
    assert encoded.isascii()
    assert utf7.decode(encoded) == name
    assert encoded.encode("ascii").decode("utf-7") == name  # what a client's own decoder sees


def test_encode_leaves_plain_names_alone() -> None:
    """Plain ASCII names without '+' are sent as they are."""
    assert utf7.encode("exact name (1).wopitest") == "exact name (1).wopitest"
