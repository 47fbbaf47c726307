"""wopi_frontend.names: extensions, legality, legal look-alikes and free-name variants; and, over real HTTP, the
WOPI operations that take a name refusing deceptive ones (or, in suggested mode, cleaning them)."""

from __future__ import annotations

import random
import sys
import unicodedata

import pytest

from storage_adapter import validation
from storage_adapter.errors import InvalidArgument
from storage_adapter.types import Capabilities
from tests.frontend.servers import WopiHost
from tests.frontend.wopi import open_file
from wopi_frontend import names, utf7

NASTY = 'ab.Z _-/\\:*?"<>|\x00\x01\x1f\x7f é名\U0001f400\x85\u00ad\u200b\u200d\u202e\u2066\u2028\ufeff\ufdd0e\u0301'
RLO = "\u202e"  # right-to-left override: `invoice` RLO `xcod.exe` displays as `invoiceexe.docx`


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
        f"invoice{RLO}xcod.exe",
        "next\x85line",
        "soft\u00adhyphen",
        "zero\u200bwidth",
        "joined\u200d",
        "\u2066isolated\u2069",
        "line\u2028separator",
        "\ufeffbom",
        "tag\U000e0041",
        "non\ufdd0character",
    ],
)
def test_illegal_names(name: str) -> None:
    """Empty and dot names, separators, Windows-reserved chars, control, format and other invisible chars, edge
    spaces, trailing dot, >255 bytes."""
    reason = names.problem(name)
    assert isinstance(reason, str) and reason


def test_problem_names_an_invisible_character_by_its_code_point() -> None:
    """The reason (sent in X-WOPI-InvalidFileNameError) names the character as U+XXXX, never holds it."""
    reason = names.problem(f"invoice{RLO}xcod.exe")
    assert reason is not None and "U+202E" in reason and reason.isascii()


def test_the_invisible_characters_are_exactly_those_storage_refuses() -> None:
    """The front-end applies the proto's rule itself (to answer with the WOPI error), so it must be storage's
    rule: over every code point, a name is refused by one if and only if by the other (bar the characters only
    the front-end refuses, Windows's), and every Cc and Cf character Python knows is among them."""
    capabilities = Capabilities("test", "0", max_name_length=1024)
    differ = []
    for code_point in range(sys.maxunicode + 1):
        character = chr(code_point)
        if 0xD800 <= code_point <= 0xDFFF or names.problem(f"a{character}b") == names.problem("a:b"):
            continue  # lone surrogates cannot travel in a message; Windows-reserved characters
        try:
            validation.name(f"a{character}b", capabilities)
            storage_refuses = False
        except InvalidArgument:
            storage_refuses = True
        if storage_refuses != (names.problem(f"a{character}b") is not None):
            differ.append(f"U+{code_point:04X}")
        if unicodedata.category(character) in ("Cc", "Cf") and not storage_refuses:
            differ.append(f"U+{code_point:04X} (category {unicodedata.category(character)})")
    assert differ == []


@pytest.mark.parametrize(
    ("wanted", "legal"),
    [
        ("report.docx", "report.docx"),
        ("a/b.docx", "a_b.docx"),
        ('what?*"<>|.wopitest', "what______.wopitest"),
        ("", "document"),
        ("....", "document"),
        ("  spaced  .docx", "spaced.docx"),
        (f"invoice{RLO}xcod.exe", "invoicexcod.exe"),
        ("re\u200bport.do\u00adcx", "report.docx"),
        ("\u202e\u200b\ufeff", "document"),
        ("cafe\u0301.docx", "caf\u00e9.docx"),
    ],
)
def test_make_legal(wanted: str, legal: str) -> None:
    """make_legal replaces what is illegal, drops invisible characters, keeps the rest (including the extension),
    and gives NFC."""
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
        assert legal == unicodedata.normalize("NFC", legal), (wanted, legal)


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


# ---- over real HTTP: the WOPI operations that take a name ----

DECEPTIVE = {"rlo": RLO, "zero-width-space": "\u200b", "c1-next-line": "\x85", "bom": "\ufeff", "lri": "\u2066"}


@pytest.mark.parametrize("character", DECEPTIVE.values(), ids=DECEPTIVE.keys())
def test_rename_file_to_a_deceptive_name_is_refused(wopi_host: WopiHost, file_name: str, character: str) -> None:
    """RenameFile to a name with an invisible character (sent UTF-7, as WOPI clients do): 400 with
    X-WOPI-InvalidFileNameError, which names the character by code point; the file keeps its name."""
    file = open_file(wopi_host, file_name, b"contents")
    response = file.rename(utf7.encode(f"invoice{character}xcod"))
    assert response.status_code == 400
    reason = response.headers["X-WOPI-InvalidFileNameError"]
    assert f"U+{ord(character):04X}" in reason and reason.isascii()
    assert file.info()["BaseFileName"] == file_name
    assert sorted(path.name for path in wopi_host.documents.iterdir() if "xcod" in path.name) == []


def test_rename_file_to_a_decomposed_name_stores_it_composed(wopi_host: WopiHost, file_name: str) -> None:
    """RenameFile with an NFD name: the file is named, and answered, in NFC."""
    file = open_file(wopi_host, file_name)
    stem = file_name.removesuffix(".wopitest")
    response = file.rename(utf7.encode(f"{stem} cafe\u0301"))
    assert response.status_code == 200
    assert response.json() == {"Name": f"{stem} caf\u00e9"}
    assert file.info()["BaseFileName"] == f"{stem} caf\u00e9.wopitest"
    assert (wopi_host.documents / f"{stem} caf\u00e9.wopitest").exists()


def test_put_relative_suggested_with_a_deceptive_name_gets_a_clean_name(wopi_host: WopiHost, file_name: str) -> None:
    """Suggested mode never fails on a name: the invisible characters are dropped, so the new file is called what
    its name really reads (`xcod.exe`, not what the override made it display)."""
    source = open_file(wopi_host, file_name)
    stem = file_name.removesuffix(".wopitest")
    response = source.put_relative({"X-WOPI-SuggestedTarget": utf7.encode(f"{stem}{RLO}xcod\u200b.exe")}, b"new")
    assert response.status_code == 200
    assert response.json()["Name"] == f"{stem}xcod.exe"
    assert (wopi_host.documents / f"{stem}xcod.exe").read_bytes() == b"new"


def test_put_relative_exact_with_a_deceptive_name_is_refused(wopi_host: WopiHost, file_name: str) -> None:
    """Exact mode: 400 with a clean X-WOPI-ValidRelativeTarget to retry with, and no file is made."""
    source = open_file(wopi_host, file_name)
    stem = file_name.removesuffix(".wopitest")
    response = source.put_relative({"X-WOPI-RelativeTarget": utf7.encode(f"{stem}{RLO}xcod.exe")}, b"new")
    assert response.status_code == 400
    assert utf7.decode(response.headers["X-WOPI-ValidRelativeTarget"]) == f"{stem}xcod.exe"
    assert sorted(path.name for path in wopi_host.documents.iterdir() if path.name.startswith(stem)) == [file_name]
