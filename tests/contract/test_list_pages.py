"""ListChildrenPage (`Capabilities.paged_listing`): a container's children in bounded pages, in a stable order
(containers first, then files, each by name in code-point order), with page tokens that neither repeat nor skip
what is there throughout, bounds on `page_size`, refusal of malformed tokens, the extension filter, and access
control (children the principal may not read are left out, pages still end, tokens reveal no name)."""

from __future__ import annotations

import base64
import binascii
import uuid

import grpc
import pytest

from tests.contract.client import StorageClient, assert_bad_request, expect_error
from tests.contract.conftest import Workspace, requires
from wopi_proto.storage_v1 import storage_pb2 as pb

Metadata = list[tuple[str, str | bytes]]


@pytest.fixture(autouse=True)
def paged(caps: pb.Capabilities) -> None:
    requires(caps, "paged_listing")


def page(
    client: StorageClient,
    container_id: str,
    size: int = 0,
    token: str = "",
    *extensions: str,
    metadata: Metadata | None = None,
) -> pb.ListChildrenPageResponse:
    request = pb.ListChildrenPageRequest(
        container_id=container_id, page_size=size, page_token=token, file_extensions=extensions
    )
    kwargs = {} if metadata is None else {"metadata": metadata}
    return client.call("ListChildrenPage", request, **kwargs)  # type: ignore[return-value]


def every_page(
    client: StorageClient, container_id: str, size: int, *extensions: str, metadata: Metadata | None = None
) -> list[pb.ListChildrenPageResponse]:
    """Pages until the last (an empty `next_page_token`), at most 10,000 of them."""
    pages = [page(client, container_id, size, "", *extensions, metadata=metadata)]
    while pages[-1].next_page_token:
        assert len(pages) < 10_000, "the pages never end"
        pages.append(page(client, container_id, size, pages[-1].next_page_token, *extensions, metadata=metadata))
    return pages


def names(pages: list[pb.ListChildrenPageResponse]) -> list[str]:
    return [item.file.name if item.HasField("file") else item.container.name for p in pages for item in p.items]


def make_children(client: StorageClient, caps: pb.Capabilities, workspace: Workspace) -> list[str]:
    """Files and (with containers) folders, made out of order; the names in listing order."""
    files = ["b.txt", "A.txt", "a.txt", "é.txt", "Z.txt", "_.txt", "a b.txt", "ab.txt", "0.txt", "a.txt.bak"]
    for name in files:
        client.create_file(workspace.container_id, name, b"x")
    folders: list[str] = []
    if caps.containers:
        folders = ["zeta", "Alpha", "m"]
        for name in folders:
            client.call(
                "CreateContainer", pb.CreateContainerRequest(parent_container_id=workspace.container_id, name=name)
            )
    return sorted(folders, key=lambda name: name.encode()) + sorted(files, key=lambda name: name.encode())


def test_pages_list_every_child_once_in_the_documented_order(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """Containers first, then files, each by name in code-point order, whatever the page size."""
    requires(caps, "containers")
    expected = make_children(client, caps, workspace)
    for size in (1, 2, 3, 5, 100):
        pages = every_page(client, workspace.container_id, size)
        assert names(pages) == expected, f"page size {size}"
        assert all(len(p.items) <= size for p in pages)
        assert not pages[-1].next_page_token


def test_one_page_holds_the_default_of_100_items(client: StorageClient, workspace: Workspace) -> None:
    """page_size 0 means 100; a full page says that more may follow, and the last page says none does."""
    for number in range(101):
        client.create_file(workspace.container_id, f"{number:03}.txt", b"")
    first = page(client, workspace.container_id)
    assert [item.file.name for item in first.items] == [f"{number:03}.txt" for number in range(100)]
    assert first.next_page_token
    rest = page(client, workspace.container_id, 0, first.next_page_token)
    assert [item.file.name for item in rest.items] == ["100.txt"] and not rest.next_page_token


def test_items_carry_what_a_stat_answers(client: StorageClient, workspace: Workspace) -> None:
    made = client.create_file(workspace.container_id, "one.docx", b"contents")
    (item,) = page(client, workspace.container_id).items
    assert item.file.file_id == made.file_id and item.file.size == len(b"contents")
    assert item.file.version == client.stat(made.file_id).version


def test_an_empty_container_is_one_empty_last_page(client: StorageClient, workspace: Workspace) -> None:
    answer = page(client, workspace.container_id, 10)
    assert list(answer.items) == [] and answer.next_page_token == ""


@pytest.mark.parametrize("size", [-1, 1001])
def test_page_size_out_of_bounds_is_invalid_argument(client: StorageClient, workspace: Workspace, size: int) -> None:
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        page(client, workspace.container_id, size)
    assert_bad_request(error, "page_size")


def test_the_largest_page_size_is_accepted(client: StorageClient, workspace: Workspace) -> None:
    client.create_file(workspace.container_id, "a.txt", b"")
    assert len(page(client, workspace.container_id, 1000).items) == 1


@pytest.mark.parametrize("token", ["not a token", "eyJ4IjoxfQ", "%%%", "A" * 2000, "W10"])
def test_a_malformed_page_token_is_invalid_argument(client: StorageClient, workspace: Workspace, token: str) -> None:
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        page(client, workspace.container_id, 1, token)
    assert_bad_request(error, "page_token")


def test_a_token_of_another_container_is_invalid_argument(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    requires(caps, "containers")
    for name in ("a.txt", "b.txt"):
        client.create_file(workspace.container_id, name, b"")
    token = page(client, workspace.container_id, 1).next_page_token
    other = client.call(
        "CreateContainer", pb.CreateContainerRequest(parent_container_id=workspace.container_id, name="o")
    )
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        page(client, other.container_id, 1, token)  # type: ignore[attr-defined]
    assert_bad_request(error, "page_token")


def test_unknown_container_is_not_found(client: StorageClient) -> None:
    with expect_error(grpc.StatusCode.NOT_FOUND):
        page(client, "no-such-container-" + uuid.uuid4().hex)


def test_changes_between_pages_neither_repeat_nor_skip_what_stays(client: StorageClient, workspace: Workspace) -> None:
    """Items added and removed between pages: nothing listed twice, everything there throughout listed."""
    stay = [f"stay-{number:02}.txt" for number in range(0, 20, 2)]
    for name in stay:
        client.create_file(workspace.container_id, name, b"")
    doomed = [client.create_file(workspace.container_id, f"stay-{number:02}.txt", b"").file_id for number in (5, 15)]
    answer = page(client, workspace.container_id, 3)
    listed = [item.file.name for item in answer.items]
    for file_id in doomed:  # both after the first page
        client.call("DeleteFile", pb.DeleteFileRequest(file_id=file_id))
    for name in ("stay-01.txt", "stay-13.txt", "a-before-everything.txt", "zz-after-everything.txt"):
        client.create_file(workspace.container_id, name, b"")
    while answer.next_page_token:
        answer = page(client, workspace.container_id, 3, answer.next_page_token)
        listed += [item.file.name for item in answer.items]
    assert len(listed) == len(set(listed)), "an item was listed twice"
    assert set(stay) <= set(listed), "an item present throughout was skipped"
    assert listed == sorted(listed, key=str.encode), "pages are in order"


def test_extension_filter_applies_to_every_page(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """Matching files (case-insensitively) and every container, in order, across pages; the pages end."""

    def name_of(number: int) -> str:
        return f"{number:02}.xlsx" if number % 2 else f"{number:02}.{'DOCX' if number % 3 == 0 else 'docx'}"

    for number in range(30):
        client.create_file(workspace.container_id, name_of(number), b"")
    wanted = [name_of(number) for number in range(0, 30, 2)]
    folders = []
    if caps.containers:
        folders = ["f.xlsx"]
        client.call(
            "CreateContainer", pb.CreateContainerRequest(parent_container_id=workspace.container_id, name="f.xlsx")
        )
    for size in (1, 4, 100):
        pages = every_page(client, workspace.container_id, size, ".docx")
        assert names(pages) == folders + wanted, f"page size {size}"


def test_malformed_extension_is_invalid_argument(client: StorageClient, workspace: Workspace) -> None:
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        page(client, workspace.container_id, 10, "", "docx")
    assert_bad_request(error, "file_extensions")


def test_the_stream_lists_what_the_pages_list(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    """ListChildren (kept for callers that predate pages) lists the same children, each once."""
    expected = make_children(client, caps, workspace)
    for number in range(120):  # more than one page of storage's own
        client.create_file(workspace.container_id, f"bulk-{number:03}.txt", b"")
    expected = sorted([*expected, *(f"bulk-{number:03}.txt" for number in range(120))])
    streamed = [
        item.file.name if item.HasField("file") else item.container.name
        for item in client.children(workspace.container_id)
    ]
    assert sorted(streamed) == expected and len(streamed) == len(set(streamed))
    assert sorted(names(every_page(client, workspace.container_id, 7))) == expected


# ---- access control ----


def test_unreadable_children_are_left_out_and_the_pages_end(
    client: StorageClient, caps: pb.Capabilities, root: pb.ContainerInfo
) -> None:
    """In the root (which everyone reads), a stranger pages through only what it may read, however many children
    it may not; every page ends, and no token carries the name of a child it may not read."""
    requires(caps, "access_control")
    stranger = f"contract-stranger-{uuid.uuid4().hex[:10]}"
    as_stranger = client.metadata(user_id=stranger)
    unique, secret = uuid.uuid4().hex[:10], uuid.uuid4().hex[:10]
    hidden = [client.create_file(root.container_id, f"contract-hidden-{secret}-{n:03}.txt", b"") for n in range(150)]
    visible = [
        client.create_file(root.container_id, f"contract-visible-{unique}-{n}.txt", b"", metadata=as_stranger)
        for n in range(3)
    ]
    try:
        for size in (1, 2, 50):
            pages = every_page(client, root.container_id, size, metadata=as_stranger)
            listed = [item.file.file_id for p in pages for item in p.items if item.HasField("file")]
            assert [file_id for file_id in listed if file_id in {f.file_id for f in visible}] == [
                f.file_id for f in visible
            ]
            assert not {f.file_id for f in hidden} & set(listed)
            for p in pages:
                assert all(item.file.permissions.read for item in p.items if item.HasField("file"))
                token = p.next_page_token
                decoded = _lenient_b64(token)
                assert secret not in token and secret.encode() not in decoded, "a token revealed a hidden name"
    finally:
        for made in hidden:
            client.call("DeleteFile", pb.DeleteFileRequest(file_id=made.file_id))
        for made in visible:
            client.call("DeleteFile", pb.DeleteFileRequest(file_id=made.file_id), metadata=as_stranger)


def test_a_container_the_principal_may_not_read_is_not_found(
    client: StorageClient, caps: pb.Capabilities, workspace: Workspace
) -> None:
    requires(caps, "access_control")
    with expect_error(grpc.StatusCode.NOT_FOUND):
        page(client, workspace.container_id, metadata=client.metadata(user_id=f"contract-other-{uuid.uuid4().hex}"))


def _lenient_b64(token: str) -> bytes:
    """The token decoded as URL-safe base64 if it is that (what many adapters use), else its own bytes."""
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return token.encode()
