"""WOPI containers over real HTTP (wopi_frontend/routes/containers.py): CheckContainerInfo, EnumerateChildren and
EnumerateAncestors on a host whose storage enforces access control, with tokens scoped to one container and the
tokens traded for each listed item."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from tests.contract.client import StorageClient
from tests.frontend.servers import WopiHost
from tests.frontend.wopi import http, issuer_of, open_file
from wopi_frontend.types import PERMISSION_SETS, ContainerId, Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

USER = "container-user"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    with WopiHost(Path(tmp_path_factory.mktemp("containers")), WOPI_DEV_USER=USER) as running:
        yield running


@pytest.fixture(scope="module")
def storage(host: WopiHost) -> Iterator[StorageClient]:
    with grpc.insecure_channel(host.storage.target) as channel:
        yield StorageClient(channel, host.storage.secret, user_id=USER)


def root_id(storage: StorageClient) -> str:
    return storage.call("GetRootContainer", pb.GetRootContainerRequest()).container_id  # type: ignore[attr-defined,no-any-return]


def folder(storage: StorageClient, parent: str, name: str) -> str:
    request = pb.CreateContainerRequest(parent_container_id=parent, name=name)
    return storage.call("CreateContainer", request).container_id  # type: ignore[attr-defined,no-any-return]


def container_token(host: WopiHost, container_id: str, *, permission: str = "edit", user: str = USER) -> str:
    token, _ = issuer_of(host).issue_for_container(
        Principal(user, user), ContainerId(container_id), PERMISSION_SETS[permission]
    )
    return token


def get(host: WopiHost, container_id: str, suffix: str = "", token: str = "", **headers: str) -> Any:
    params = {"access_token": token or container_token(host, container_id)}
    return http.get(f"{host.url}/wopi/containers/{container_id}{suffix}", params=params, headers=headers)


def test_check_container_info_names_the_folder_and_what_the_user_may_do(host: WopiHost, storage: StorageClient) -> None:
    reports = folder(storage, root_id(storage), "Reports")
    info = get(host, reports)
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["Name"] == "Reports"
    assert body["UserCanCreateChildFile"] and body["UserCanCreateChildContainer"]
    assert body["UserCanRename"] and body["UserCanDelete"]
    viewer = get(host, reports, token=container_token(host, reports, permission="view")).json()
    assert not (viewer["UserCanCreateChildFile"] or viewer["UserCanRename"] or viewer["UserCanDelete"])
    root = get(host, root_id(storage)).json()
    assert not root["UserCanRename"] and not root["UserCanDelete"]  # the root stays where it is


def test_children_list_folders_then_files_each_with_a_working_token(host: WopiHost, storage: StorageClient) -> None:
    parent = folder(storage, root_id(storage), "Project")
    folder(storage, parent, "Drafts")
    storage.create_file(parent, "plan.docx", b"plan")
    storage.create_file(parent, "budget.xlsx", b"12345")
    answer = get(host, parent, "/children")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert [child["Name"] for child in body["ChildContainers"]] == ["Drafts"]
    files = {child["Name"]: child for child in body["ChildFiles"]}
    assert set(files) == {"plan.docx", "budget.xlsx"}
    assert files["budget.xlsx"]["Size"] == 5
    for name, child in files.items():
        info = http.get(child["Url"])  # the traded token opens the file it came with
        assert info.status_code == 200 and info.json()["BaseFileName"] == name
        assert info.json()["Version"] == child["Version"]
    drafts = http.get(body["ChildContainers"][0]["Url"])
    assert drafts.status_code == 200 and drafts.json()["Name"] == "Drafts"


def test_traded_tokens_never_grant_more_than_the_one_they_came_from(host: WopiHost, storage: StorageClient) -> None:
    parent = folder(storage, root_id(storage), "Read only here")
    storage.create_file(parent, "notes.txt", b"x")
    viewer = container_token(host, parent, permission="view")
    child = get(host, parent, "/children", token=viewer).json()["ChildFiles"][0]
    file_info = http.get(child["Url"]).json()
    assert file_info["UserCanWrite"] is False and file_info["ReadOnly"] is True


def test_the_extension_filter_keeps_matching_files_and_every_folder(host: WopiHost, storage: StorageClient) -> None:
    parent = folder(storage, root_id(storage), "Mixed")
    folder(storage, parent, "Sub.docx folder")
    for name in ("a.docx", "b.DOCX", "c.xlsx", "d.txt"):
        storage.create_file(parent, name, b"")
    body = get(host, parent, "/children", **{"X-WOPI-FileExtensionFilterList": ".docx,.xlsx"}).json()
    assert sorted(child["Name"] for child in body["ChildFiles"]) == ["a.docx", "b.DOCX", "c.xlsx"]
    assert [child["Name"] for child in body["ChildContainers"]] == ["Sub.docx folder"]


@pytest.mark.parametrize("value", ["docx", "", ".docx,", ",.docx", "*.docx", ". docx", ".do cx", ".doc,,.docx", "."])
def test_a_malformed_extension_filter_is_400(host: WopiHost, storage: StorageClient, value: str) -> None:
    answer = get(host, root_id(storage), "/children", **{"X-WOPI-FileExtensionFilterList": value})
    assert answer.status_code == 400


def test_a_folder_of_more_than_a_page_is_listed_whole(host: WopiHost, storage: StorageClient) -> None:
    parent = folder(storage, root_id(storage), "Big")
    documents = host.documents / "Big"
    for number in range(1234):  # made on disk, as another program would: the backend adopts them when listing
        (documents / f"file-{number:04}.txt").write_bytes(b"")
    body = get(host, parent, "/children").json()
    assert [child["Name"] for child in body["ChildFiles"]] == [f"file-{number:04}.txt" for number in range(1234)]


def test_ancestors_of_a_folder_run_from_the_root_to_its_parent(host: WopiHost, storage: StorageClient) -> None:
    top = folder(storage, root_id(storage), "Top")
    middle = folder(storage, top, "Middle")
    bottom = folder(storage, middle, "Bottom")
    answer = get(host, bottom, "/ancestry")
    assert answer.status_code == 200, answer.text
    ancestors = answer.json()["AncestorsWithRootFirst"]
    assert [ancestor["Name"] for ancestor in ancestors][1:] == ["Top", "Middle"]
    assert http.get(ancestors[-1]["Url"]).json()["Name"] == "Middle"
    assert get(host, root_id(storage), "/ancestry").json() == {"AncestorsWithRootFirst": []}


def test_a_token_for_one_container_opens_no_other_and_no_file(host: WopiHost, storage: StorageClient) -> None:
    one, other = folder(storage, root_id(storage), "One"), folder(storage, root_id(storage), "Other")
    token = container_token(host, one)
    for suffix in ("", "/children", "/ancestry"):
        assert get(host, other, suffix, token=token).status_code == 401
    file = open_file(host, "scoped.txt", user=USER)
    assert http.get(file.wopi_src, params={"access_token": token}).status_code == 401  # not a file's token
    assert get(host, one, token=file.access_token).status_code == 401  # nor a file's token a container's


def test_a_folder_of_someone_else_is_not_found(host: WopiHost, storage: StorageClient) -> None:
    private = folder(storage, root_id(storage), "Private")
    stranger = container_token(host, private, user="stranger")
    for suffix in ("", "/children", "/ancestry"):
        assert get(host, private, suffix, token=stranger).status_code == 404


@pytest.mark.parametrize("container_id", ["a%2Fb", "x" * 300, "bad id", "..", "a.b"])
def test_a_malformed_container_id_is_404(host: WopiHost, container_id: str) -> None:
    answer = http.get(f"{host.url}/wopi/containers/{container_id}", params={"access_token": "1x"})
    assert answer.status_code == 404


def post(host: WopiHost, container_id: str, override: str, token: str = "", **headers: str) -> Any:
    params = {"access_token": token or container_token(host, container_id)}
    url = f"{host.url}/wopi/containers/{container_id}"
    return http.post(url, params=params, headers={"X-WOPI-Override": override, **headers})


def names_in(host: WopiHost, container_id: str) -> tuple[list[str], list[str]]:
    body = get(host, container_id, "/children").json()
    return [c["Name"] for c in body["ChildContainers"]], [f["Name"] for f in body["ChildFiles"]]


def test_create_child_file_in_specific_mode_makes_an_empty_file_or_says_why_not(
    host: WopiHost, storage: StorageClient
) -> None:
    parent = folder(storage, root_id(storage), "Specific")
    made = post(host, parent, "CREATE_CHILD_FILE", **{"X-WOPI-RelativeTarget": "report.docx"})
    assert made.status_code == 200, made.text
    info = http.get(made.json()["Url"]).json()
    assert (made.json()["Name"], info["BaseFileName"], info["Size"]) == ("report.docx", "report.docx", 0)
    again = post(host, parent, "CREATE_CHILD_FILE", **{"X-WOPI-RelativeTarget": "report.docx"})
    assert again.status_code == 409 and again.headers["X-WOPI-ValidRelativeTarget"] == "report (2).docx"
    illegal = post(host, parent, "CREATE_CHILD_FILE", **{"X-WOPI-RelativeTarget": "a/b.docx"})
    assert illegal.status_code == 400 and "X-WOPI-ValidRelativeTarget" in illegal.headers
    assert names_in(host, parent) == ([], ["report.docx"])


def test_create_child_file_overwrites_only_when_asked_and_never_a_locked_file(
    host: WopiHost, storage: StorageClient
) -> None:
    parent = folder(storage, root_id(storage), "Overwrite")
    existing = storage.create_file(parent, "kept.docx", b"old contents")
    overwrite = {"X-WOPI-RelativeTarget": "kept.docx", "X-WOPI-OverwriteRelativeTarget": "true"}
    storage.lock(existing.file_id, "editor-lock")
    locked = post(host, parent, "CREATE_CHILD_FILE", **overwrite)
    assert locked.status_code == 409 and locked.headers["X-WOPI-Lock"] == "editor-lock"
    assert storage.read_file(existing.file_id)[1] == b"old contents"
    storage.call("Unlock", pb.UnlockRequest(file_id=existing.file_id, lock_id="editor-lock"))
    replaced = post(host, parent, "CREATE_CHILD_FILE", **overwrite)
    assert replaced.status_code == 200 and storage.read_file(existing.file_id)[1] == b""


def test_create_child_file_in_suggested_mode_always_succeeds(host: WopiHost, storage: StorageClient) -> None:
    parent = folder(storage, root_id(storage), "Suggested")
    made = [
        post(host, parent, "CREATE_CHILD_FILE", **{"X-WOPI-SuggestedTarget": target})
        for target in ["notes.txt", "notes.txt", ".xlsx", "bad/name.txt"]
    ]
    assert [answer.status_code for answer in made] == [200] * 4
    assert [answer.json()["Name"] for answer in made][:3] == ["notes.txt", "notes (2).txt", "New document.xlsx"]
    assert "/" not in made[3].json()["Name"]


def test_both_or_neither_target_header_is_refused(host: WopiHost, storage: StorageClient) -> None:
    parent = root_id(storage)
    both = {"X-WOPI-SuggestedTarget": "a.txt", "X-WOPI-RelativeTarget": "b.txt"}
    assert post(host, parent, "CREATE_CHILD_FILE", **both).status_code == 501
    assert post(host, parent, "CREATE_CHILD_FILE").status_code == 400
    assert post(host, parent, "CREATE_CHILD_CONTAINER", **both).status_code == 501


def test_create_child_container_in_both_modes(host: WopiHost, storage: StorageClient) -> None:
    parent = folder(storage, root_id(storage), "Folders")
    made = post(host, parent, "CREATE_CHILD_CONTAINER", **{"X-WOPI-RelativeTarget": "Sub"})
    assert made.status_code == 200, made.text
    pointer = made.json()["ContainerPointer"]
    assert pointer["Name"] == "Sub" and http.get(pointer["Url"]).json()["Name"] == "Sub"
    assert post(host, parent, "CREATE_CHILD_CONTAINER", **{"X-WOPI-RelativeTarget": "Sub"}).status_code == 409
    suggested = post(host, parent, "CREATE_CHILD_CONTAINER", **{"X-WOPI-SuggestedTarget": "Sub"})
    assert suggested.status_code == 200 and suggested.json()["ContainerPointer"]["Name"] == "Sub (2)"
    assert names_in(host, parent) == (["Sub", "Sub (2)"], [])


def test_rename_and_delete_a_container(host: WopiHost, storage: StorageClient) -> None:
    parent = folder(storage, root_id(storage), "Renaming")
    target = folder(storage, parent, "Old name")
    folder(storage, parent, "Taken")
    assert post(host, target, "RENAME_CONTAINER", **{"X-WOPI-RequestedName": "Taken"}).status_code == 409
    bad = post(host, target, "RENAME_CONTAINER", **{"X-WOPI-RequestedName": "a/b"})
    assert bad.status_code == 400 and "X-WOPI-InvalidContainerNameError" in bad.headers
    renamed = post(host, target, "RENAME_CONTAINER", **{"X-WOPI-RequestedName": "New name"})
    assert renamed.status_code == 200 and renamed.json() == {"Name": "New name"}
    storage.create_file(target, "inside.txt", b"")
    assert post(host, target, "DELETE_CONTAINER").status_code == 409  # not empty: nothing removed
    assert names_in(host, parent) == (["New name", "Taken"], [])
    empty = folder(storage, parent, "Empty")
    assert post(host, empty, "DELETE_CONTAINER").status_code == 200
    assert names_in(host, parent) == (["New name", "Taken"], [])


def test_changes_need_the_token_to_grant_them(host: WopiHost, storage: StorageClient) -> None:
    parent = folder(storage, root_id(storage), "Viewer only")
    viewer = container_token(host, parent, permission="view")
    for override, headers in [
        ("CREATE_CHILD_FILE", {"X-WOPI-RelativeTarget": "a.txt"}),
        ("CREATE_CHILD_CONTAINER", {"X-WOPI-RelativeTarget": "A"}),
        ("RENAME_CONTAINER", {"X-WOPI-RequestedName": "B"}),
        ("DELETE_CONTAINER", {}),
    ]:
        assert post(host, parent, override, viewer, **headers).status_code == 401
    assert names_in(host, parent) == ([], [])
    stranger = container_token(host, parent, user="stranger")
    assert post(host, parent, "DELETE_CONTAINER", stranger).status_code == 404
    assert post(host, parent, "NO_SUCH_OPERATION").status_code == 501


def test_share_url_of_a_container_is_its_file_browser_page(host: WopiHost, storage: StorageClient) -> None:
    parent = folder(storage, root_id(storage), "Shared")
    answer = post(host, parent, "GET_SHARE_URL", **{"X-WOPI-UrlType": "ReadOnly"})
    assert answer.status_code == 200 and answer.json()["ShareUrl"].endswith(f"/?container={parent}")
    assert post(host, parent, "GET_SHARE_URL", **{"X-WOPI-UrlType": "Other"}).status_code == 501
    viewer = container_token(host, parent, permission="view")
    assert post(host, parent, "GET_SHARE_URL", viewer, **{"X-WOPI-UrlType": "ReadWrite"}).status_code == 401


def test_a_folder_made_from_the_roots_token_may_be_renamed_and_deleted(host: WopiHost, storage: StorageClient) -> None:
    """The root is never renamed or deleted, but its token's bound is not narrowed by that: the token traded for
    a folder made in it may rename and delete that folder (storage still decides)."""
    root = root_id(storage)
    made = post(host, root, "CREATE_CHILD_CONTAINER", **{"X-WOPI-SuggestedTarget": "From the root"})
    url = made.json()["ContainerPointer"]["Url"]
    info = http.get(url).json()
    assert info["UserCanRename"] and info["UserCanDelete"]
    token = url.split("access_token=")[1]
    container_id = url.split("/wopi/containers/")[1].split("?")[0]
    renamed = post(host, container_id, "RENAME_CONTAINER", token, **{"X-WOPI-RequestedName": "Renamed from root"})
    assert renamed.status_code == 200
    assert post(host, container_id, "DELETE_CONTAINER", token).status_code == 200
