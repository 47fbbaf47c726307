"""Unit tests of wopi_frontend.names: extensions, legality, legal look-alikes and free-name variants."""

from __future__ import annotations

import random

import pytest

from wopi_frontend import names

NASTY = 'ab.Z _-/\\:*?"<>|\x00\x01\x1f\x7f é名\U0001f400'


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("report.docx", ("report", ".docx")),
        ("archive.tar.gz", ("archive.tar", ".gz")),
        ("noext", ("noext", "")),
        (".profile", (".profile", "")),
        ("madeup_name.wopitestx", ("madeup_name", ".wopitestx")),
        ("Café.wopitest", ("Café", ".wopitest")),
    ],
)
def test_split_extension(name: str, parts: tuple[str, str]) -> None:
    """The extension is from the last dot; a leading dot alone is not an extension."""
    assert names.split_extension(name) == parts
    assert "".join(parts) == name


@pytest.mark.parametrize(
    "name",
    ["report.docx", "Café_1.wopitest", "exact name (1).wopitest", "x" * 255, "é" * 127, "a.b.c", "C++", ".profile"],
)
def test_legal_names(name: str) -> None:
    """Ordinary names, up to 255 UTF-8 bytes, are legal."""
    assert names.problem(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "a/b",
        "../etc",
        "a\\b",
        "c:",
        "a*b",
        "a?b",
        'a"b',
        "a<b",
        "a>b",
        "a|b",
        "nul\x00",
        "tab\t",
        "del\x7f",
        " lead",
        "trail ",
        "dot.",
        "x" * 256,
        "é" * 128,
    ],
)
def test_illegal_names(name: str) -> None:
    """Empty and dot names, separators, Windows-reserved and control chars, edge spaces, trailing dot, >255 bytes."""
    reason = names.problem(name)
    assert isinstance(reason, str) and reason


@pytest.mark.parametrize(
    ("wanted", "legal"),
    [
        ("report.docx", "report.docx"),
        ("a/b.docx", "a_b.docx"),
        ('what?*"<>|.wopitest', "what______.wopitest"),
        ("", "document"),
        ("....", "document"),
        ("  spaced  .docx", "spaced.docx"),
    ],
)
def test_make_legal(wanted: str, legal: str) -> None:
    """make_legal replaces what is illegal and keeps the rest, including the extension."""
    assert names.make_legal(wanted) == legal


def test_make_legal_shortens_but_keeps_the_extension() -> None:
    """A name over 255 bytes is shortened in its stem; the extension stays."""
    for stem in ("x" * 300, "é" * 300, "\U0001f400" * 100):
        legal = names.make_legal(stem + ".wopitestx")
        assert legal.endswith(".wopitestx") and len(legal.encode()) <= names.MAX_NAME_BYTES
        assert names.problem(legal) is None


def test_make_legal_is_always_legal() -> None:
    """Whatever comes in (seeded fuzz), make_legal gives a legal name without path separators."""
    rng = random.Random(2152)
    for _ in range(3000):
        wanted = "".join(rng.choice(NASTY) for _ in range(rng.randint(0, 300)))
        legal = names.make_legal(wanted)
        assert names.problem(legal) is None, (wanted, legal)
        assert "/" not in legal and "\\" not in legal


@pytest.mark.parametrize(
    ("name", "number", "result"),
    [("report.docx", 2, "report (2).docx"), ("notes", 3, "notes (3)"), ("a.tar.gz", 10, "a.tar (10).gz")],
)
def test_variant(name: str, number: int, result: str) -> None:
    """variant numbers the stem and keeps the extension."""
    assert names.variant(name, number) == result


def test_variant_stays_legal() -> None:
    """Variants of legal names are legal, distinct, and fit in 255 bytes even for the longest names."""
    rng = random.Random(7)
    for _ in range(1000):
        wanted = "".join(rng.choice(NASTY) for _ in range(rng.randint(0, 300)))
        legal = names.make_legal(wanted)
        variants = {names.variant(legal, number) for number in range(2, 12)}
        assert len(variants) == 10 and legal not in variants
        for variant in variants:
            assert names.problem(variant) is None, (legal, variant)
            assert names.split_extension(variant)[1] == names.split_extension(legal)[1]
