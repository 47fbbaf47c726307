"""Names: refused when malformed or deceptive, normalized to NFC, then kept exactly and compared exactly.

A name is Unicode with no control, format or other invisible character (the proto's list: Cc, Cf, Zl, Zp and the
noncharacters); in NFC it is 1 to max_name_length UTF-8 bytes with no `/` or `\\`, never `.` or `..`, with no
leading or trailing space. A refused name is INVALID_ARGUMENT and creates nothing; spellings of one name in
different normalization forms are that one name, returned in NFC.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable

import grpc
import pytest

from tests.contract.client import StorageClient, assert_bad_request, comparable, expect_error, unknown_id
from tests.contract.conftest import Workspace, requires
from wopi_proto.storage_v1 import storage_pb2 as pb

# Valid names that break naive path, URL or shell handling; each must round trip exactly.
ROUND_TRIP_NAMES = {
    "unicode": "Привет 文件 ✓.docx",
    "right-to-left": "مرحبا بالعالم.docx",
    "emoji": "😀 smile 𝄞.txt",
    "spaces-inside": "two  spaces   inside.docx",
    "ampersand": "R&D plan.docx",
    "hash": "issue #42.docx",
    "percent": "100% done %20 %2F %%.docx",
    "plus": "a+b=c.xlsx",
    "apostrophe": "it's Bob's.pptx",
    "punctuation": 'what? *star* a:b <x> |y| "q" ;,=@!~`^$.txt',
    "brackets": "[draft] (v2) {final}.docx",
    "combining-mark-nfc": "q\u0301 has no precomposed form.docx",
    "private-use": "\ue000 private.txt",
    "leading-dot": ".hidden",
    "trailing-dot": "name.",
    "dots-inside": "a..b...docx",
    "no-extension": "README",
    "no-break-space": "a\u00a0b.txt",
}

# Refused names; "{p}" is the workspace prefix, so that nothing a buggy adapter creates can collide.
REFUSED_NAMES = {
    "slash": "{p}a/b.txt",
    "backslash": "{p}a\\b.txt",
    "dot-dot": "..",
    "dot": ".",
    "empty": "",
    "nul": "{p}a\x00b.txt",
    "control-01": "{p}a\x01b.txt",
    "tab": "{p}a\tb.txt",
    "newline": "{p}a\nb.txt",
    "carriage-return": "{p}a\rb.txt",
    "control-1f": "{p}a\x1fb.txt",
    "delete-7f": "{p}a\x7fb.txt",
    "leading-space": " {p}a.txt",
    "trailing-space": "{p}a.txt ",
    "only-space": " ",
    "over-1024-utf8-bytes": "{p}" + "😀" * 257,
}

# Characters that are invisible or change how the rest of a name is shown, so that a name holding them can pass
# for another one; each is refused anywhere in a name. (The proto lists them all: Cc, Cf, Zl, Zp, noncharacters.)
DECEPTIVE_CHARACTERS = {
    "c1-padding-80": "\x80",
    "c1-next-line-85": "\x85",
    "c1-9f": "\x9f",
    "soft-hyphen": "\u00ad",
    "arabic-letter-mark": "\u061c",
    "mongolian-vowel-separator": "\u180e",
    "zero-width-space": "\u200b",
    "zero-width-non-joiner": "\u200c",
    "zero-width-joiner": "\u200d",
    "left-to-right-mark": "\u200e",
    "right-to-left-mark": "\u200f",
    "left-to-right-embedding": "\u202a",
    "right-to-left-embedding": "\u202b",
    "pop-directional-formatting": "\u202c",
    "left-to-right-override": "\u202d",
    "right-to-left-override": "\u202e",
    "line-separator": "\u2028",
    "paragraph-separator": "\u2029",
    "word-joiner": "\u2060",
    "invisible-plus": "\u2064",
    "left-to-right-isolate": "\u2066",
    "right-to-left-isolate": "\u2067",
    "first-strong-isolate": "\u2068",
    "pop-directional-isolate": "\u2069",
    "byte-order-mark": "\ufeff",
    "interlinear-annotation": "\ufff9",
    "egyptian-format-unicode-15": "\U00013439",
    "tag-latin-a": "\U000e0041",
    "noncharacter-fdd0": "\ufdd0",
    "noncharacter-fffe": "\ufffe",
    "noncharacter-10ffff": "\U0010ffff",
}


def lookup(client: StorageClient, container_id: str, name: str) -> pb.Item:
    return client.call("LookupChild", pb.LookupChildRequest(container_id=container_id, name=name))  # type: ignore[return-value]


def listed_names(client: StorageClient, workspace: Workspace) -> list[str]:
    """The names of the workspace's children that this test may have made (its names carry its prefix)."""
    names = []
    for item in client.children(workspace.container_id):
        name = item.file.name if item.HasField("file") else item.container.name
        if name.startswith(workspace.prefix):
            names.append(name)
    return names


def assert_file_named(client: StorageClient, workspace: Workspace, file_id: str, name: str) -> None:
    """StatFile, ListChildren and LookupChild all give the file with exactly `name`."""
    assert client.stat(file_id).name == name
    listed = [item.file for item in client.children(workspace.container_id) if item.file.file_id == file_id]
    assert [info.name for info in listed] == [name]
    item = lookup(client, workspace.container_id, name)
    assert item.file.file_id == file_id
    assert item.file.name == name


@pytest.mark.parametrize("suffix", ROUND_TRIP_NAMES.values(), ids=ROUND_TRIP_NAMES.keys())
def test_name_round_trips_exactly(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace, suffix: str
) -> None:
    """A valid name is kept exactly as given through CreateFile, StatFile, ListChildren, LookupChild, RenameFile."""
    name = workspace.name(suffix)
    info = client.create_file(workspace.container_id, name, b"x")
    assert info.name == name
    assert_file_named(client, workspace, info.file_id, name)

    plain = workspace.name("plain.txt")
    client.call("RenameFile", pb.RenameFileRequest(file_id=info.file_id, new_name=plain))
    back = client.call("RenameFile", pb.RenameFileRequest(file_id=info.file_id, new_name=name))
    assert back.name == name  # type: ignore[attr-defined]
    assert_file_named(client, workspace, info.file_id, name)

    if caps.containers:  # containers keep their names exactly too
        folder_name = workspace.name(f"folder {suffix}")
        request = pb.CreateContainerRequest(parent_container_id=workspace.container_id, name=folder_name)
        folder = client.call("CreateContainer", request)
        assert folder.name == folder_name  # type: ignore[attr-defined]
        got = client.call("GetContainer", pb.GetContainerRequest(container_id=folder.container_id))  # type: ignore[attr-defined]
        assert got.name == folder_name  # type: ignore[attr-defined]
        assert lookup(client, workspace.container_id, folder_name).container.name == folder_name


Calls = dict[str, tuple[Callable[[], object], str]]


def refused_calls(client: StorageClient, caps: pb.Capabilities, workspace: Workspace, name: str) -> Calls:
    """Every RPC that takes a name, called with `name`: (call, the field the BadRequest must name)."""
    existing = client.create_file(workspace.container_id, workspace.name("existing.txt"), b"x")
    calls: Calls = {
        "CreateFile": (lambda: client.create_file(workspace.container_id, name, b"x"), "name"),
        "RenameFile": (
            lambda: client.call("RenameFile", pb.RenameFileRequest(file_id=existing.file_id, new_name=name)),
            "new_name",
        ),
        "LookupChild": (lambda: lookup(client, workspace.container_id, name), "name"),
    }
    if caps.containers:
        request = pb.CreateContainerRequest(parent_container_id=workspace.container_id, name=workspace.name("folder"))
        folder = client.call("CreateContainer", request)
        calls["CreateContainer"] = (
            lambda: client.call(
                "CreateContainer", pb.CreateContainerRequest(parent_container_id=workspace.container_id, name=name)
            ),
            "name",
        )
        calls["RenameContainer"] = (
            lambda: client.call(
                "RenameContainer",
                pb.RenameContainerRequest(container_id=folder.container_id, new_name=name),  # type: ignore[attr-defined]
            ),
            "new_name",
        )
    return calls


def expect_refused(client: StorageClient, caps: pb.Capabilities, workspace: Workspace, name: str) -> None:
    """Every RPC taking `name` answers INVALID_ARGUMENT + BadRequest naming the field, and nothing changes."""
    calls = refused_calls(client, caps, workspace, name)
    before = sorted(listed_names(client, workspace))
    files_before = [comparable(item.file) for item in client.children(workspace.container_id) if item.HasField("file")]
    failures = []
    for rpc, (call, field) in calls.items():
        try:
            with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
                call()
            assert_bad_request(error, field)
        except AssertionError as failure:
            failures.append(f"{rpc}: {failure}")
    assert not failures, "\n".join(failures)
    assert sorted(listed_names(client, workspace)) == before
    for info in files_before:
        assert comparable(client.stat(info.file_id)) == info


@pytest.mark.parametrize("template", REFUSED_NAMES.values(), ids=REFUSED_NAMES.keys())
def test_malformed_name_is_refused(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace, template: str
) -> None:
    """A name with / \\ NUL or control characters, '.', '..', empty, or edged with spaces is INVALID_ARGUMENT."""
    expect_refused(client, caps, workspace, template.replace("{p}", workspace.prefix))


def sized_name(workspace: Workspace, length: int, filler: str = "a") -> str:
    """A name of exactly `length` characters, starting with the workspace prefix and ending in '.txt'."""
    name = workspace.prefix + filler * (length - len(workspace.prefix) - 4) + ".txt"
    assert len(name) == length
    return name


def test_name_over_max_name_length_is_refused(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """A name one character longer than Capabilities.max_name_length is INVALID_ARGUMENT and creates nothing."""
    expect_refused(client, caps, workspace, sized_name(workspace, caps.max_name_length + 1))


def test_name_of_max_name_length_ascii_is_accepted(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """A name of exactly max_name_length (ASCII) characters is accepted and kept exactly."""
    name = sized_name(workspace, caps.max_name_length)
    info = client.create_file(workspace.container_id, name, b"x")
    assert_file_named(client, workspace, info.file_id, name)
    other = sized_name(workspace, caps.max_name_length, "b")
    client.call("RenameFile", pb.RenameFileRequest(file_id=info.file_id, new_name=other))
    assert_file_named(client, workspace, info.file_id, other)


def name_of_bytes(workspace: Workspace, size: int) -> str:
    """A name whose UTF-8 encoding is exactly `size` bytes, mostly 2-byte characters ('é'), ending in '.txt'."""
    room = size - len(workspace.prefix.encode()) - 4
    name = workspace.prefix + "é" * (room // 2) + "a" * (room % 2) + ".txt"
    assert len(name.encode()) == size
    return name


def test_name_of_max_name_length_utf8_bytes_is_accepted(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """max_name_length counts UTF-8 bytes: a name of exactly that many bytes of 2-byte characters is accepted."""
    name = name_of_bytes(workspace, caps.max_name_length)
    info = client.create_file(workspace.container_id, name, b"x")
    assert_file_named(client, workspace, info.file_id, name)


def test_name_one_utf8_byte_over_max_name_length_is_refused(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """A name one UTF-8 byte over max_name_length is INVALID_ARGUMENT, though it has fewer characters than that."""
    name = name_of_bytes(workspace, caps.max_name_length + 1)
    assert len(name) < caps.max_name_length
    expect_refused(client, caps, workspace, name)


def test_names_are_compared_by_case_as_advertised(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """Names differing only in case are distinct unless Capabilities.case_insensitive_names says otherwise."""
    upper, lower = workspace.name("Report.DOCX"), workspace.name("report.docx")
    first = client.create_file(workspace.container_id, upper, b"upper")
    if caps.case_insensitive_names:
        with expect_error(grpc.StatusCode.ALREADY_EXISTS) as error:
            client.create_file(workspace.container_id, lower, b"lower")
        assert error.detail(pb.NameConflict).existing.file.file_id == first.file_id
        assert lookup(client, workspace.container_id, lower).file.file_id == first.file_id
    else:
        second = client.create_file(workspace.container_id, lower, b"lower")
        assert second.file_id != first.file_id
        assert lookup(client, workspace.container_id, upper).file.file_id == first.file_id
        assert lookup(client, workspace.container_id, lower).file.file_id == second.file_id
        assert client.read_file(first.file_id)[1] == b"upper"
        client.call("DeleteFile", pb.DeleteFileRequest(file_id=second.file_id))
    # Renaming a file to a case variant of its own name is a rename, never a conflict with itself.
    renamed = client.call("RenameFile", pb.RenameFileRequest(file_id=first.file_id, new_name=lower))
    assert renamed.name == lower  # type: ignore[attr-defined]
    assert_file_named(client, workspace, first.file_id, lower)


@pytest.mark.parametrize("character", DECEPTIVE_CHARACTERS.values(), ids=DECEPTIVE_CHARACTERS.keys())
def test_deceptive_name_is_refused(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace, character: str
) -> None:
    """A name with a control, format or other invisible character (`invoice` RLO `xcod.exe`, which displays as
    `invoiceexe.docx`) is INVALID_ARGUMENT on every RPC that takes a name, and nothing is created or changed."""
    expect_refused(client, caps, workspace, workspace.name(f"invoice{character}xcod.exe"))


@pytest.mark.parametrize("template", ["{p}report.docx\u200b", "\u202e{p}report.docx"], ids=["last", "first"])
def test_deceptive_character_is_refused_at_either_end(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace, template: str
) -> None:
    """Where in the name the character is makes no difference: last, or first (before the prefix)."""
    expect_refused(client, caps, workspace, template.replace("{p}", workspace.prefix))


COMPOSED, DECOMPOSED = "caf\u00e9 \u00c5ngstr\u00f6m.docx", "cafe\u0301 A\u030angstro\u0308m.docx"


def test_names_are_stored_in_nfc(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """A name given decomposed (NFD) is stored, listed, looked up and returned composed (NFC), by CreateFile,
    RenameFile, CreateContainer and RenameContainer alike."""
    composed, decomposed = workspace.name(COMPOSED), workspace.name(DECOMPOSED)
    info = client.create_file(workspace.container_id, decomposed, b"x")
    assert info.name == composed
    assert_file_named(client, workspace, info.file_id, composed)

    client.call("RenameFile", pb.RenameFileRequest(file_id=info.file_id, new_name=workspace.name("plain.txt")))
    back = client.call("RenameFile", pb.RenameFileRequest(file_id=info.file_id, new_name=decomposed))
    assert back.name == composed  # type: ignore[attr-defined]
    assert_file_named(client, workspace, info.file_id, composed)

    if caps.containers:
        folder_name, decomposed_folder = workspace.name(f"folder {COMPOSED}"), workspace.name(f"folder {DECOMPOSED}")
        request = pb.CreateContainerRequest(parent_container_id=workspace.container_id, name=decomposed_folder)
        folder = client.call("CreateContainer", request)
        assert folder.name == folder_name  # type: ignore[attr-defined]
        got = client.call("GetContainer", pb.GetContainerRequest(container_id=folder.container_id))  # type: ignore[attr-defined]
        assert got.name == folder_name  # type: ignore[attr-defined]
        rename = pb.RenameContainerRequest(container_id=folder.container_id, new_name=workspace.name("other"))  # type: ignore[attr-defined]
        client.call("RenameContainer", rename)
        rename = pb.RenameContainerRequest(container_id=folder.container_id, new_name=decomposed_folder)  # type: ignore[attr-defined]
        assert client.call("RenameContainer", rename).name == folder_name  # type: ignore[attr-defined]
        assert lookup(client, workspace.container_id, folder_name).container.name == folder_name
    assert all(name == unicodedata.normalize("NFC", name) for name in listed_names(client, workspace))


def test_lookup_in_nfd_finds_the_nfc_name(client: StorageClient, workspace: Workspace) -> None:
    """LookupChild normalizes too: the decomposed spelling finds the file created with the composed one."""
    info = client.create_file(workspace.container_id, workspace.name(COMPOSED), b"x")
    found = lookup(client, workspace.container_id, workspace.name(DECOMPOSED))
    assert found.file.file_id == info.file_id
    assert found.file.name == workspace.name(COMPOSED)


def test_nfd_twin_of_a_name_is_already_exists(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """The decomposed spelling of a taken name is that name: CreateFile, RenameFile and CreateContainer with it
    are ALREADY_EXISTS naming the item that has it, and nothing changes. Renaming a file to the other spelling
    of its own name is no conflict."""
    composed, decomposed = workspace.name(COMPOSED), workspace.name(DECOMPOSED)
    first = client.create_file(workspace.container_id, composed, b"composed")
    other = client.create_file(workspace.container_id, workspace.name("other.txt"), b"other")
    before = sorted(listed_names(client, workspace))
    attempts: dict[str, Callable[[], object]] = {
        "CreateFile": lambda: client.create_file(workspace.container_id, decomposed, b"decomposed"),
        "RenameFile": lambda: client.call(
            "RenameFile", pb.RenameFileRequest(file_id=other.file_id, new_name=decomposed)
        ),
    }
    if caps.containers:
        attempts["CreateContainer"] = lambda: client.call(
            "CreateContainer", pb.CreateContainerRequest(parent_container_id=workspace.container_id, name=decomposed)
        )
    for rpc, attempt in attempts.items():
        with expect_error(grpc.StatusCode.ALREADY_EXISTS) as error:
            attempt()
        assert error.detail(pb.NameConflict).existing.file.file_id == first.file_id, rpc
    assert sorted(listed_names(client, workspace)) == before
    assert comparable(client.stat(other.file_id)) == comparable(other)
    assert client.read_file(first.file_id)[1] == b"composed"

    renamed = client.call("RenameFile", pb.RenameFileRequest(file_id=first.file_id, new_name=decomposed))
    assert renamed.name == composed  # type: ignore[attr-defined]
    assert renamed.version == first.version  # type: ignore[attr-defined]
    assert_file_named(client, workspace, first.file_id, composed)


# ---- free name variants (Capabilities.free_name_variants; the proto's "Name variants" rule) ----


def find_free_name(client: StorageClient, container_id: str, name: str) -> str:
    response = client.call("FindFreeName", pb.FindFreeNameRequest(container_id=container_id, name=name))
    return response.name  # type: ignore[attr-defined,no-any-return]


def test_create_with_free_variant_takes_the_first_free_variant(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """CreateFile with use_free_variant: the name if free, else the first free 'stem (n).ext' from n = 2, built
    from the name as given; the files that hold the other names are untouched."""
    requires(caps, "free_name_variants")
    taken = {name: client.create_file(workspace.container_id, workspace.name(name), name.encode()) for name in
             ("x.docx", "x (2).docx", "x (4).docx")}  # fmt: skip
    created = client.create_file(workspace.container_id, workspace.name("x.docx"), b"new", use_free_variant=True)
    assert created.name == workspace.name("x (3).docx")
    assert_file_named(client, workspace, created.file_id, created.name)
    assert client.read_file(created.file_id)[1] == b"new"
    following = client.create_file(workspace.container_id, workspace.name("x.docx"), b"next", use_free_variant=True)
    assert following.name == workspace.name("x (5).docx")
    for name, info in taken.items():
        assert comparable(client.stat(info.file_id)) == comparable(info)
        assert client.read_file(info.file_id)[1] == name.encode()
    free = client.create_file(workspace.container_id, workspace.name("free.docx"), b"", use_free_variant=True)
    assert free.name == workspace.name("free.docx")


VARIANT_RULE = {  # name -> its variant number 2
    "extension": ("report.docx", "report (2).docx"),
    "last-dot-only": ("archive.tar.gz", "archive.tar (2).gz"),
    "no-extension": ("README", "README (2)"),
    "trailing-dot": ("name.", "name (2)."),
}


@pytest.mark.parametrize(("name", "second"), VARIANT_RULE.values(), ids=VARIANT_RULE.keys())
def test_free_variant_splits_the_extension_at_the_last_dot(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace, name: str, second: str
) -> None:
    """The extension starts at the last dot; a name without one (or with only a leading one) is all stem."""
    requires(caps, "free_name_variants")
    client.create_file(workspace.container_id, workspace.name(name), b"x")
    assert find_free_name(client, workspace.container_id, workspace.name(name)) == workspace.name(second)
    created = client.create_file(workspace.container_id, workspace.name(name), b"y", use_free_variant=True)
    assert created.name == workspace.name(second)


def test_free_variant_of_a_leading_dot_name(
    client: StorageClient, caps: pb.Capabilities, root: pb.ContainerInfo
) -> None:
    """'.profile' has no extension: its variant is '.profile (2)'. (In a container of its own: a prefix would
    move the dot.)"""
    requires(caps, "free_name_variants")
    requires(caps, "containers")
    request = pb.CreateContainerRequest(parent_container_id=root.container_id, name=f"contract-{uuid.uuid4().hex}")
    folder = client.call("CreateContainer", request).container_id  # type: ignore[attr-defined]
    client.create_file(folder, ".profile", b"x")
    assert client.create_file(folder, ".profile", b"y", use_free_variant=True).name == ".profile (2)"


def test_free_variant_of_a_longest_name_is_shortened(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """A variant longer than max_name_length bytes loses characters at the end of its stem, never of its
    extension (2-byte characters: it is the UTF-8 length that counts)."""
    requires(caps, "free_name_variants")
    name = name_of_bytes(workspace, caps.max_name_length)
    client.create_file(workspace.container_id, name, b"x")
    created = client.create_file(workspace.container_id, name, b"y", use_free_variant=True)
    stem = name.removesuffix(".txt")
    while len((stem + " (2).txt").encode()) > caps.max_name_length:
        stem = stem[:-1]
    assert created.name == stem + " (2).txt"
    assert len(created.name.encode()) <= caps.max_name_length


def test_every_free_variant_taken_is_already_exists(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """When the name and all its variants are taken, CreateFile and FindFreeName are ALREADY_EXISTS naming the
    holder of the name itself, and nothing is created. An extension so long that only '(2)' to '(9)' fit
    before it keeps the candidates few: the name, then '(2).e…' to '(9).e…' (the stem shortened away)."""
    requires(caps, "free_name_variants")
    requires(caps, "containers")  # the variants lose any workspace prefix: they need a container of their own
    extension = "." + "e" * (caps.max_name_length - 4)  # "(9)" + extension is max_name_length bytes
    name = workspace.name("a" + extension)
    holder = client.create_file(workspace.container_id, name, b"holder")
    for number in range(2, 10):
        created = client.create_file(workspace.container_id, name, b"v", use_free_variant=True)
        assert created.name == f"({number}){extension}"
    before = sorted(listed_names(client, workspace))
    for call in (
        lambda: client.create_file(workspace.container_id, name, b"lost", use_free_variant=True),
        lambda: find_free_name(client, workspace.container_id, name),
    ):
        with expect_error(grpc.StatusCode.ALREADY_EXISTS) as error:
            call()
        assert error.detail(pb.NameConflict).existing.file.file_id == holder.file_id
    assert sorted(listed_names(client, workspace)) == before


def test_find_free_name_reserves_nothing(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """FindFreeName answers what CreateFile with use_free_variant would choose, and creates nothing."""
    requires(caps, "free_name_variants")
    name = workspace.name("found.txt")
    assert find_free_name(client, workspace.container_id, name) == name
    client.create_file(workspace.container_id, name, b"x")
    client.create_file(workspace.container_id, workspace.name("found (2).txt"), b"x")
    before = sorted(listed_names(client, workspace))
    assert find_free_name(client, workspace.container_id, name) == workspace.name("found (3).txt")
    assert find_free_name(client, workspace.container_id, name) == workspace.name("found (3).txt")
    assert sorted(listed_names(client, workspace)) == before


def test_find_free_name_refuses_bad_input(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """FindFreeName: a malformed name is INVALID_ARGUMENT, an unknown container NOT_FOUND."""
    requires(caps, "free_name_variants")
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        find_free_name(client, workspace.container_id, workspace.name("a/b.txt"))
    assert_bad_request(error, "name")
    with expect_error(grpc.StatusCode.NOT_FOUND):
        find_free_name(client, unknown_id(), "a.txt")


def test_rename_with_free_variant(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> None:
    """RenameFile with use_free_variant: the first free variant of the new name; the file's own name counts as
    free; id, version and contents stay."""
    requires(caps, "free_name_variants")
    client.create_file(workspace.container_id, workspace.name("z.txt"), b"z")
    client.create_file(workspace.container_id, workspace.name("z (2).txt"), b"z2")
    moving = client.create_file(workspace.container_id, workspace.name("y.txt"), b"y")
    request = pb.RenameFileRequest(file_id=moving.file_id, new_name=workspace.name("z.txt"), use_free_variant=True)
    renamed = client.call("RenameFile", request)
    assert renamed.name == workspace.name("z (3).txt")  # type: ignore[attr-defined]
    assert renamed.version == moving.version  # type: ignore[attr-defined]
    assert_file_named(client, workspace, moving.file_id, workspace.name("z (3).txt"))
    client.create_file(workspace.container_id, workspace.name("z (4).txt"), b"z4")
    again = client.call("RenameFile", request)  # its own name is the first free one: it keeps it
    assert again.name == workspace.name("z (3).txt")  # type: ignore[attr-defined]
    assert client.read_file(moving.file_id)[1] == b"y"
