"""Names: kept exactly as given (Unicode, no normalization), compared exactly, and refused when malformed.

A name is Unicode of 1 to max_name_length UTF-8 bytes with no `/`, `\\`, NUL or control characters, never `.`
or `..`, with no leading or trailing space; a refused name is INVALID_ARGUMENT and creates nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest

from tests.contract.client import StorageClient, assert_bad_request, comparable, expect_error
from tests.contract.conftest import Workspace
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
    "decomposed-accent": "Cafe\u0301 decomposed.docx",
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


def test_names_are_not_normalized(client: StorageClient, workspace: Workspace) -> None:
    """NFC is not applied: a composed and a decomposed spelling are two distinct names, each kept as given."""
    composed, decomposed = workspace.name("caf\u00e9.docx"), workspace.name("cafe\u0301.docx")
    first = client.create_file(workspace.container_id, composed, b"composed")
    second = client.create_file(workspace.container_id, decomposed, b"decomposed")
    assert first.file_id != second.file_id
    assert_file_named(client, workspace, first.file_id, composed)
    assert_file_named(client, workspace, second.file_id, decomposed)
    assert client.read_file(first.file_id)[1] == b"composed"
    assert client.read_file(second.file_id)[1] == b"decomposed"
