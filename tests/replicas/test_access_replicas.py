"""Access control across replicas: two `wopi-storage` processes with `--access-control` on one PostgreSQL
database (sql; s3 on SeaweedFS with its metadata there). Grants live in the database and every check reads them
in the transaction of the call it guards, so a grant or a revocation made through one replica is in force through
the other on the very next call, over real gRPC. No waiting: the next call must already see it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import grpc
import pytest

from tests.contract.client import StorageClient, expect_error
from tests.replicas.services import StorageService, backend_settings, start_all
from wopi_proto.storage_v1 import storage_pb2 as pb


@pytest.fixture(scope="module", params=["sql-postgresql", "s3-seaweedfs-postgresql"])
def replicas(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[StorageService, StorageService]]:
    """Two storage replicas enforcing access control on one fresh database (and, for s3, one fresh bucket)."""
    base = tmp_path_factory.mktemp(f"access-replicas-{request.param}")
    settings = backend_settings(request.param, request, base)
    settings.args.append("--access-control")
    services = [StorageService(settings, base / f"storage-{n}.log") for n in (1, 2)]
    try:
        start_all(services)
        yield services[0], services[1]
    finally:
        for service in services:
            service.stop()


def as_user(client: StorageClient, user_id: str) -> StorageClient:
    return StorageClient(client.channel, client.secret, user_id=user_id)


def stat(client: StorageClient, file_id: str) -> pb.FileInfo:
    return client.call("StatFile", pb.StatFileRequest(file_id=file_id))  # type: ignore[return-value]


def test_grant_and_revoke_through_one_replica_are_in_force_through_the_other(
    replicas: tuple[StorageService, StorageService],
) -> None:
    one, two = replicas
    owner, reader = f"owner-{secrets.token_hex(4)}", f"reader-{secrets.token_hex(4)}"
    with one.client() as client_one, two.client() as client_two:
        owner_one, reader_one = as_user(client_one, owner), as_user(client_one, reader)
        owner_two, reader_two = as_user(client_two, owner), as_user(client_two, reader)
        assert owner_one.call("GetCapabilities", pb.GetCapabilitiesRequest()).access_control  # type: ignore[attr-defined]
        root = owner_one.call("GetRootContainer", pb.GetRootContainerRequest())
        folder = owner_one.call(
            "CreateContainer",
            pb.CreateContainerRequest(parent_container_id=root.container_id, name=owner),  # type: ignore[attr-defined]
        )
        file = owner_one.create_file(folder.container_id, "shared.docx", b"contents")  # type: ignore[attr-defined]
        with expect_error(grpc.StatusCode.NOT_FOUND):  # a stranger's: not visible through either replica
            stat(reader_two, file.file_id)

        grantee = pb.Grantee(user_id=reader)
        owner_one.call(
            "GrantAccess",
            pb.GrantAccessRequest(container_id=folder.container_id, grantee=grantee, role=pb.ROLE_VIEWER),  # type: ignore[attr-defined]
        )
        seen = stat(reader_two, file.file_id)  # the next call through the other replica: inherited from the folder
        assert seen.permissions.read and not seen.permissions.write
        with expect_error(grpc.StatusCode.PERMISSION_DENIED):
            reader_two.write_file(file.file_id, b"not allowed")

        owner_two.call(
            "GrantAccess",
            pb.GrantAccessRequest(file_id=file.file_id, grantee=grantee, role=pb.ROLE_EDITOR),
        )
        assert stat(reader_one, file.file_id).permissions.write
        reader_one.write_file(file.file_id, b"edited")
        listed = owner_one.call("ListGrants", pb.ListGrantsRequest(file_id=file.file_id)).grants  # type: ignore[attr-defined]
        assert [(g.grantee.user_id, g.role) for g in listed] == [(reader, pb.ROLE_EDITOR), (reader, pb.ROLE_VIEWER)]

        owner_two.call("RevokeAccess", pb.RevokeAccessRequest(file_id=file.file_id, grantee=grantee))
        owner_two.call("RevokeAccess", pb.RevokeAccessRequest(container_id=folder.container_id, grantee=grantee))
        with expect_error(grpc.StatusCode.NOT_FOUND):  # revoked through two: gone through one at once
            stat(reader_one, file.file_id)
        with expect_error(grpc.StatusCode.NOT_FOUND):
            reader_one.write_file(file.file_id, b"after the revocation")
        assert owner_one.read_file(file.file_id)[1] == b"edited"
