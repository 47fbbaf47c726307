"""The WOPI ecosystem over real HTTP (wopi_frontend/routes/ecosystem.py): GetEcosystem from a file and from a
container, CheckEcosystem, GetRootContainer and GetFileWopiSrc with the ecosystem token they trade; and a host
with the container operations off (WOPI_CONTAINERS=false), where none of them, nor any container operation, is
answered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
import pytest

from tests.contract.client import StorageClient
from tests.frontend.servers import WopiHost
from tests.frontend.wopi import http, issuer_of, open_file
from wopi_frontend.types import PERMISSION_SETS, ContainerId, Principal
from wopi_proto.storage_v1 import storage_pb2 as pb

USER = "ecosystem-user"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    with WopiHost(Path(tmp_path_factory.mktemp("ecosystem")), WOPI_DEV_USER=USER) as running:
        yield running


@pytest.fixture(scope="module")
def storage(host: WopiHost) -> Iterator[StorageClient]:
    with grpc.insecure_channel(host.storage.target) as channel:
        yield StorageClient(channel, host.storage.secret, user_id=USER)


def token_in(url: str) -> str:
    return parse_qs(urlsplit(url).query)["access_token"][0]


def ecosystem_url(host: WopiHost, name: str, *, permission: str = "edit") -> str:
    file = open_file(host, name, user=USER, permission=permission)
    answer = http.get(f"{file.wopi_src}/ecosystem_pointer", params={"access_token": file.access_token})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["Url"])


def ecosystem_token(host: WopiHost, user: str = USER, permission: str = "edit") -> str:
    token, _ = issuer_of(host).issue_for_ecosystem(Principal(user, user), PERMISSION_SETS[permission])
    return token


def native_name_to_wopi_src(host: WopiHost, value: str, token: str = "") -> Any:
    headers = {"X-WOPI-Override": "GET_WOPI_SRC_WITH_ACCESS_TOKEN", "X-WOPI-HostNativeFileName": value}
    params = {"access_token": token or ecosystem_token(host)}
    return http.post(f"{host.url}/wopi/ecosystem", params=params, headers=headers)


def test_a_file_leads_to_the_ecosystem_and_on_to_the_root(host: WopiHost, storage: StorageClient) -> None:
    url = ecosystem_url(host, "start.docx")
    assert url.startswith(f"{host.url}/wopi/ecosystem?access_token=")
    check = http.get(url)
    assert check.status_code == 200 and check.json() == {"SupportsContainers": True}
    parts = urlsplit(url)
    root = http.get(f"{host.url}{parts.path}/root_container_pointer?{parts.query}")
    assert root.status_code == 200, root.text
    pointer = root.json()["ContainerPointer"]
    root_id = storage.call("GetRootContainer", pb.GetRootContainerRequest()).container_id  # type: ignore[attr-defined]
    assert pointer["Url"].startswith(f"{host.url}/wopi/containers/{root_id}?access_token=")
    children = http.get(pointer["Url"].replace("?", "/children?", 1)).json()
    assert "start.docx" in [child["Name"] for child in children["ChildFiles"]]


def test_a_container_leads_to_the_ecosystem(host: WopiHost, storage: StorageClient) -> None:
    root_id = storage.call("GetRootContainer", pb.GetRootContainerRequest()).container_id  # type: ignore[attr-defined]
    token, _ = issuer_of(host).issue_for_container(Principal(USER, USER), ContainerId(root_id), PERMISSION_SETS["view"])
    answer = http.get(f"{host.url}/wopi/containers/{root_id}/ecosystem_pointer", params={"access_token": token})
    assert answer.status_code == 200
    traded = issuer_of(host).verify(token_in(answer.json()["Url"]))
    assert traded.is_for_ecosystem() and traded.permissions == PERMISSION_SETS["view"]  # no more than it came with


def test_an_ecosystem_token_opens_no_file_and_no_container(host: WopiHost, storage: StorageClient) -> None:
    file = open_file(host, "not-by-ecosystem.txt", user=USER)
    token = token_in(ecosystem_url(host, "ecosystem-source.txt"))
    assert http.get(file.wopi_src, params={"access_token": token}).status_code == 401
    root_id = storage.call("GetRootContainer", pb.GetRootContainerRequest()).container_id  # type: ignore[attr-defined]
    assert http.get(f"{host.url}/wopi/containers/{root_id}", params={"access_token": token}).status_code == 401
    # and a file's token is no ecosystem token
    for path in ("/wopi/ecosystem", "/wopi/ecosystem/root_container_pointer"):
        assert http.get(f"{host.url}{path}", params={"access_token": file.access_token}).status_code == 401
    assert http.get(f"{host.url}/wopi/ecosystem", params={"access_token": token + "x"}).status_code == 401


def test_get_file_wopi_src_turns_our_links_into_a_wopi_src(host: WopiHost) -> None:
    file = open_file(host, "linked.docx", b"linked", user=USER)
    info = file.info()
    token = token_in(ecosystem_url(host, "wopisrc-source.txt", permission="view"))
    for link in (info["HostEditUrl"], info["HostViewUrl"], file.wopi_src):
        answer = native_name_to_wopi_src(host, link, token)
        assert answer.status_code == 200, (link, answer.text)
        url = answer.json()["Url"]
        assert url.startswith(f"{file.wopi_src}?access_token=")
        opened = http.get(url)
        assert opened.status_code == 200 and opened.json()["BaseFileName"] == "linked.docx"
        assert opened.json()["UserCanWrite"] is False  # the view bound of the ecosystem token it came from


@pytest.mark.parametrize(
    "value",
    [
        "http://evil.example/host/abc",  # not this host
        "{host}/browse/files/abc",  # not a document link
        "{host}/host/bad%2Fid",
        "{host}/host/" + "x" * 300,
        "{host}/host/ffffffffffffffffffffffff",  # no such file
    ],
)
def test_get_file_wopi_src_of_anything_else_is_not_found(host: WopiHost, value: str) -> None:
    assert native_name_to_wopi_src(host, value.format(host=host.url)).status_code == 404


def test_get_file_wopi_src_of_someone_elses_file_is_not_found(host: WopiHost) -> None:
    theirs = open_file(host, "theirs.docx", user="somebody-else")
    answer = native_name_to_wopi_src(host, theirs.wopi_src)
    assert answer.status_code == 404


def test_get_file_wopi_src_refuses_bad_requests(host: WopiHost) -> None:
    params = {"access_token": ecosystem_token(host)}
    missing = http.post(
        f"{host.url}/wopi/ecosystem", params=params, headers={"X-WOPI-Override": "GET_WOPI_SRC_WITH_ACCESS_TOKEN"}
    )
    assert missing.status_code == 400
    latin1 = http.post(
        f"{host.url}/wopi/ecosystem",
        params=params,
        headers={
            "X-WOPI-Override": "GET_WOPI_SRC_WITH_ACCESS_TOKEN",
            "X-WOPI-HostNativeFileName": f"{host.url}/host/é".encode("latin-1"),
        },
    )
    assert latin1.status_code == 400  # not ASCII
    assert native_name_to_wopi_src(host, host.url + "/host/" + "a" * 3000).status_code == 400
    other = http.post(f"{host.url}/wopi/ecosystem", params=params, headers={"X-WOPI-Override": "SOMETHING_ELSE"})
    assert other.status_code == 501


@pytest.fixture(scope="module")
def flat_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WopiHost]:
    base = Path(tmp_path_factory.mktemp("no-containers"))
    with WopiHost(base, WOPI_DEV_USER=USER, WOPI_CONTAINERS="false") as running:
        yield running


def test_with_containers_off_a_token_reaches_its_one_file_only(flat_host: WopiHost) -> None:
    file = open_file(flat_host, "alone.docx", user=USER)
    info = file.info()
    assert info["SupportsContainers"] is False and info["SupportsEcosystem"] is False
    root, _ = issuer_of(flat_host).issue_for_container(
        Principal(USER, USER), ContainerId("a" * 24), PERMISSION_SETS["edit"]
    )
    ecosystem = ecosystem_token(flat_host)
    base = flat_host.url
    for method, path, token in [
        ("GET", f"{file.wopi_src}/ancestry", file.access_token),
        ("GET", f"{file.wopi_src}/ecosystem_pointer", file.access_token),
        ("GET", f"{base}/wopi/containers/{'a' * 24}", root),
        ("POST", f"{base}/wopi/containers/{'a' * 24}", root),
        ("GET", f"{base}/wopi/containers/{'a' * 24}/children", root),
        ("GET", f"{base}/wopi/containers/{'a' * 24}/ancestry", root),
        ("GET", f"{base}/wopi/ecosystem", ecosystem),
        ("GET", f"{base}/wopi/ecosystem/root_container_pointer", ecosystem),
        ("POST", f"{base}/wopi/ecosystem", ecosystem),
    ]:
        answer = http.request(method, path, params={"access_token": token}, headers={"X-WOPI-Override": "DELETE"})
        assert answer.status_code == 501, (method, path)
    assert http.get(file.wopi_src, params={"access_token": file.access_token}).status_code == 200
