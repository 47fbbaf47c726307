"""The front-end respects storage's permissions (issue 9, part 3): a host whose storage runs with
`--access-control`, where the owner shares files with other users through real GrantAccess calls.

alice owns every file here; bob gets tokens minted for him (an edit token, the most a token can grant), so
that whatever bob cannot do is refused by storage's permissions, not by the token.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from tests.frontend import discovery_samples as samples
from tests.frontend.discovery_server import DiscoveryServer
from tests.frontend.servers import WopiHost
from tests.frontend.wopi import WopiFile, http, issuer_of, open_file, token_for
from wopi_frontend.storage_client import StorageClient
from wopi_frontend.tokens import AccessToken
from wopi_frontend.types import Permission, Principal
from wopi_proto.storage_v1 import storage_pb2 as pb
from wopi_proto.storage_v1 import storage_pb2_grpc as pb_grpc

API_KEY = "test-api-key-0123456789"
DOCUMENT = b"alice's words"
ALICE = Principal("alice", "Alice")


@pytest.fixture(scope="module")
def guarded_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """Both services, storage enforcing access control, with the sessions API enabled."""
    base = Path(tmp_path_factory.mktemp("wopi-guarded"))
    with WopiHost(base, storage_args=("--access-control",), WOPI_DEV_USER="alice", WOPI_API_KEY=API_KEY) as host:
        yield host


def _storage_call(host: WopiHost, rpc: str, request: object, principal: str = "alice") -> object:
    """One unary gRPC call to the host's storage, as `principal`."""
    metadata = (("authorization", f"Bearer {host.storage.secret}"), ("x-wopi-principal-id", principal))
    with grpc.insecure_channel(host.storage.target) as channel:
        return getattr(pb_grpc.StorageServiceStub(channel), rpc)(request, metadata=metadata, timeout=30)


def share(host: WopiHost, file: WopiFile, grantee: str, role: pb.Role.ValueType) -> None:
    request = pb.GrantAccessRequest(file_id=file.file_id, grantee=pb.Grantee(user_id=grantee), role=role)
    _storage_call(host, "GrantAccess", request)


def unshare(host: WopiHost, file: WopiFile, grantee: str) -> None:
    _storage_call(
        host, "RevokeAccess", pb.RevokeAccessRequest(file_id=file.file_id, grantee=pb.Grantee(user_id=grantee))
    )


def alices_folder(host: WopiHost, name: str) -> str:
    """A folder of alice's in the root: what bob may do in it comes only from grants."""
    root = _storage_call(host, "GetRootContainer", pb.GetRootContainerRequest())
    request = pb.CreateContainerRequest(parent_container_id=root.container_id, name=name)  # type: ignore[attr-defined]
    return _storage_call(host, "CreateContainer", request).container_id  # type: ignore[attr-defined,no-any-return]


def alices_file_in(host: WopiHost, container_id: str, name: str, content: bytes) -> WopiFile:
    async def create() -> str:
        async def chunks() -> AsyncIterator[bytes]:
            yield content

        client = StorageClient(host.storage.target, host.storage.secret)
        try:
            return (await client.create_file(container_id, name, chunks(), ALICE)).file_id
        finally:
            await client.close()

    file = WopiFile(host, f"{host.url}/wopi/files/{asyncio.run(create())}", "")
    return file.with_token(token_for(host, file, user="alice"))


def names_in(host: WopiHost, container_id: str) -> list[str]:
    metadata = (("authorization", f"Bearer {host.storage.secret}"), ("x-wopi-principal-id", "alice"))
    with grpc.insecure_channel(host.storage.target) as channel:
        stub = pb_grpc.StorageServiceStub(channel)
        items = stub.ListChildren(pb.ListChildrenRequest(container_id=container_id), metadata=metadata, timeout=30)
        return sorted(item.file.name if item.HasField("file") else item.container.name for item in items)


def as_user(file: WopiFile, user: str) -> WopiFile:
    """The same file, with an edit token minted for `user`."""
    return file.with_token(token_for(file.host, file, user=user))


def test_a_user_without_access_gets_404(guarded_host: WopiHost, file_name: str) -> None:
    """bob holds an edit token for alice's file but no grant: every operation is 404, as for a missing file
    (storage does not reveal that the file exists), and the file is unchanged."""
    file = open_file(guarded_host, file_name, DOCUMENT, user="alice")
    before = file.state()
    bob = as_user(file, "bob")
    assert bob.check_file_info().status_code == 404
    assert bob.get_file().status_code == 404
    assert bob.put_file(b"bob was here").status_code == 404
    assert bob.lock("bob-lock").status_code == 404
    assert file.state() == before


def test_a_viewer_cannot_change_the_file(guarded_host: WopiHost, file_name: str) -> None:
    """A viewer grantee with an edit token may read, but CheckFileInfo says read-only, and PutFile, Lock, RenameFile,
    DeleteFile and PutRelativeFile are refused; nothing changes."""
    folder = alices_folder(guarded_host, "viewer-" + file_name)
    file = alices_file_in(guarded_host, folder, file_name, DOCUMENT)
    share(guarded_host, file, "bob", pb.ROLE_VIEWER)
    before, names_before = file.state(), names_in(guarded_host, folder)
    bob = as_user(file, "bob")
    info = bob.info()
    assert info["UserCanWrite"] is False and info["ReadOnly"] is True
    assert info["UserCanRename"] is False and info["UserCanNotWriteRelative"] is True
    assert bob.contents() == DOCUMENT
    assert bob.lock("bob-lock").status_code == 401
    assert bob.put_file(b"bob was here").status_code == 401
    assert bob.rename("bobs name").status_code == 401
    assert bob.delete().status_code == 401
    relative = bob.put_relative({"X-WOPI-SuggestedTarget": ".wopitest"}, b"bob's copy")
    assert relative.status_code == 404, relative  # storage: bob may not even see the folder
    assert file.state() == before and names_in(guarded_host, folder) == names_before


def test_an_editor_can_save_until_the_grant_is_revoked(guarded_host: WopiHost, file_name: str) -> None:
    """An editor grantee saves; once alice revokes the grant, bob's next save is refused (404: he may no longer
    even read it) and the contents stay as he last saved them."""
    file = open_file(guarded_host, file_name, DOCUMENT, user="alice")
    share(guarded_host, file, "bob", pb.ROLE_EDITOR)
    bob = as_user(file, "bob")
    assert bob.info()["UserCanWrite"] is True
    assert bob.lock("bob-lock").status_code == 200
    assert bob.put_file(b"bob's save", lock="bob-lock").status_code == 200
    unshare(guarded_host, file, "bob")
    assert bob.put_file(b"after the revocation", lock="bob-lock").status_code == 404
    assert file.contents() == b"bob's save"


def test_put_relative_cannot_overwrite_a_sibling_the_user_may_not_write(guarded_host: WopiHost, file_name: str) -> None:
    """The review's finding, with access control: bob edits one of alice's files and asks PutRelativeFile to
    overwrite a sibling he may only view. Refused (409, as for a name taken), and the sibling is unchanged."""
    source = open_file(guarded_host, file_name, DOCUMENT, user="alice")
    sibling = open_file(guarded_host, "sibling-" + file_name, b"the sibling", user="alice")
    share(guarded_host, source, "bob", pb.ROLE_EDITOR)
    share(guarded_host, sibling, "bob", pb.ROLE_VIEWER)
    before = sibling.state()
    headers = {"X-WOPI-RelativeTarget": "sibling-" + file_name, "X-WOPI-OverwriteRelativeTarget": "True"}
    response = as_user(source, "bob").put_relative(headers, b"overwritten by bob")
    assert response.status_code == 409, response
    assert "X-WOPI-ValidRelativeTarget" in response.headers
    assert sibling.state() == before


def test_put_relative_token_is_limited_to_what_storage_allows(guarded_host: WopiHost, file_name: str) -> None:
    """The token PutRelativeFile returns for the new file carries no more than storage lets the user do there."""
    source = open_file(guarded_host, file_name, DOCUMENT, user="alice")
    share(guarded_host, source, "bob", pb.ROLE_EDITOR)
    response = as_user(source, "bob").put_relative({"X-WOPI-SuggestedTarget": ".wopitest"}, b"bob's copy")
    assert response.status_code == 200, response
    created = WopiFile.from_url(guarded_host, response.json()["Url"])
    assert created.info()["UserCanWrite"] is True  # bob owns what he created


def sessions(host: WopiHost, body: dict[str, object]) -> object:
    return http.post(f"{host.url}/api/v1/sessions", json=body, headers={"Authorization": f"Bearer {API_KEY}"})


def test_sessions_api_refuses_what_storage_does_not_allow(guarded_host: WopiHost, file_name: str) -> None:
    """The sessions API stats the file as the user: 404 for a user who may not read it, 403 (JSON) for an edit
    session to a viewer, and a view session for the viewer."""
    file = open_file(guarded_host, file_name, DOCUMENT, user="alice")
    body = {"file_id": file.file_id, "user_id": "bob", "permission": "edit"}
    assert sessions(guarded_host, body).status_code == 404  # type: ignore[attr-defined]
    share(guarded_host, file, "bob", pb.ROLE_VIEWER)
    refused = sessions(guarded_host, body)
    assert refused.status_code == 403 and "error" in refused.json()  # type: ignore[attr-defined]
    viewing = sessions(guarded_host, {**body, "permission": "view"})
    assert viewing.status_code == 200  # type: ignore[attr-defined]
    assert WopiFile.from_session(guarded_host, viewing.json()).info()["UserCanWrite"] is False  # type: ignore[attr-defined]


def test_healthz_needs_no_principal(guarded_host: WopiHost) -> None:
    """/healthz probes storage with GetCapabilities: with access control, a probe naming an item would fail."""
    assert http.get(f"{guarded_host.url}/healthz").status_code == 200


# ---- groups, and the host page's tokens ----


@pytest.fixture(scope="module")
def proxied_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    """Storage enforcing access control behind an identity proxy that names the user and their groups, with an
    editor (Office's discovery: separate view and edit frames for .docx)."""
    base = Path(tmp_path_factory.mktemp("wopi-proxied"))
    with DiscoveryServer(samples.office()) as discovery:
        environment = {
            "WOPI_IDENTITY_HEADER": "X-Forwarded-User",
            "WOPI_GROUPS_HEADER": "X-Forwarded-Groups",
            "WOPI_API_KEY": API_KEY,
            "WOPI_DISCOVERY_URL": discovery.url,
        }
        with WopiHost(base, storage_args=("--access-control",), **environment) as host:
            yield host


def share_with_group(host: WopiHost, file: WopiFile, group: str, role: pb.Role.ValueType) -> None:
    request = pb.GrantAccessRequest(file_id=file.file_id, grantee=pb.Grantee(group_id=group), role=role)
    _storage_call(host, "GrantAccess", request)


def host_page(host: WopiHost, file: WopiFile, action: str, user: str, groups: str | None = None) -> object:
    headers = {"X-Forwarded-User": user, **({"X-Forwarded-Groups": groups} if groups is not None else {})}
    return http.get(f"{host.url}/host/{file.file_id}?action={action}", headers=headers)


def page_token(host: WopiHost, page: object) -> AccessToken:
    """The access token the host page posts to the editor, verified with the host's key."""
    found = re.search(r'name="access_token" value="([0-9A-Za-z]+)"', page.text)  # type: ignore[attr-defined]
    assert found, "the host page holds no access token"
    return issuer_of(host).verify(found.group(1))


def test_a_group_grant_reaches_the_groups_members(proxied_host: WopiHost, file_name: str) -> None:
    """alice shares with the group `team` as editor: bob, whom the proxy names as a member, gets an edit token
    that carries the group, and storage lets him save with it; without the group he gets nothing."""
    name = file_name.replace(".wopitest", ".docx")
    file = alices_file_in(proxied_host, alices_folder(proxied_host, "group-" + file_name), name, DOCUMENT)
    share_with_group(proxied_host, file, "team", pb.ROLE_EDITOR)
    assert host_page(proxied_host, file, "edit", "bob").status_code == 404  # type: ignore[attr-defined]
    page = host_page(proxied_host, file, "edit", "bob", groups="staff, team")
    assert page.status_code == 200  # type: ignore[attr-defined]
    token = page_token(proxied_host, page)
    assert token.user.groups == ("staff", "team") and Permission.EDIT in token.permissions
    raw = re.search(r'name="access_token" value="([0-9A-Za-z]+)"', page.text).group(1)  # type: ignore[attr-defined,union-attr]
    bob = file.with_token(raw)
    assert bob.info()["UserCanWrite"] is True
    assert bob.lock("bob-lock").status_code == 200
    assert bob.put_file(b"saved by a member of team", lock="bob-lock").status_code == 200
    assert file.contents() == b"saved by a member of team"


def test_the_host_page_gives_a_viewer_a_view_token(proxied_host: WopiHost, file_name: str) -> None:
    """A viewer who opens the edit link gets a token that can only view, and no edit link or edit share link on
    the page: the token never grants more than storage allows."""
    folder = alices_folder(proxied_host, "view-" + file_name)
    file = alices_file_in(proxied_host, folder, file_name.replace(".wopitest", ".docx"), DOCUMENT)
    share(proxied_host, file, "bob", pb.ROLE_VIEWER)
    page = host_page(proxied_host, file, "edit", "bob")
    assert page.status_code == 200  # type: ignore[attr-defined]
    assert page_token(proxied_host, page).permissions == frozenset({Permission.VIEW})
    assert "wordviewerframe" in page.text and "wordeditorframe" not in page.text  # type: ignore[attr-defined]
    assert '"editUrl":null' in page.text.replace(" ", "")  # type: ignore[attr-defined]
    assert "action=edit" not in page.text  # type: ignore[attr-defined]
    owners = page_token(proxied_host, host_page(proxied_host, file, "edit", "alice"))
    assert owners.permissions == frozenset(Permission)  # the owner: everything an edit token can hold


def test_sessions_api_carries_groups(proxied_host: WopiHost, file_name: str) -> None:
    """The sessions API takes the user's groups; the token it answers acts with them. Malformed groups are 400."""
    file = alices_file_in(proxied_host, alices_folder(proxied_host, "api-" + file_name), file_name, DOCUMENT)
    share_with_group(proxied_host, file, "readers", pb.ROLE_VIEWER)
    body: dict[str, object] = {"file_id": file.file_id, "user_id": "carol", "permission": "view"}
    assert sessions(proxied_host, body).status_code == 404  # type: ignore[arg-type,attr-defined]
    answer = sessions(proxied_host, {**body, "groups": ["readers"]})  # type: ignore[arg-type]
    assert answer.status_code == 200  # type: ignore[attr-defined]
    assert WopiFile.from_session(proxied_host, answer.json()).contents() == DOCUMENT  # type: ignore[attr-defined]
    edit = sessions(proxied_host, {**body, "groups": ["readers"], "permission": "edit"})  # type: ignore[arg-type]
    assert edit.status_code == 403  # type: ignore[attr-defined]
    for bad in ("readers", ["has space"], ["a,b"], [""], [7], ["g" * 257], [f"{n}" + "g" * 199 for n in range(6)]):
        refused = sessions(proxied_host, {**body, "groups": bad})  # type: ignore[arg-type]
        assert refused.status_code == 400, bad  # type: ignore[attr-defined]


def test_too_many_groups_is_a_readable_refusal(proxied_host: WopiHost) -> None:
    """Group ids that would not fit in an access token: a page that says so, not a broken editor later."""
    groups = ",".join(f"group-{number:04}" for number in range(200))
    response = http.get(f"{proxied_host.url}/", headers={"X-Forwarded-User": "bob", "X-Forwarded-Groups": groups})
    assert response.status_code == 403
    assert "too many groups" in response.text


def test_the_host_page_closes_to_what_the_user_may_see(proxied_host: WopiHost, file_name: str) -> None:
    """The editor's Close leads to the document's folder; for a file shared on its own, whose folder the user may
    not read, to Shared with me. Edit links follow storage, not the page's action: an editor's view page still
    offers Edit."""
    folder = alices_folder(proxied_host, "close-" + file_name)
    file = alices_file_in(proxied_host, folder, file_name.replace(".wopitest", ".docx"), DOCUMENT)
    share(proxied_host, file, "bob", pb.ROLE_EDITOR)

    def config(user: str, action: str) -> str:
        page = host_page(proxied_host, file, action, user)
        assert page.status_code == 200  # type: ignore[attr-defined]
        return page.text.replace(" ", "")  # type: ignore[attr-defined,no-any-return]

    assert f'"closeUrl":"{proxied_host.url}/shared"' in config("bob", "view")
    assert f'"closeUrl":"{proxied_host.url}/?container={folder}"' in config("alice", "view")
    assert f'"editUrl":"{proxied_host.url}/host/{file.file_id}?action=edit"' in config("bob", "view")
