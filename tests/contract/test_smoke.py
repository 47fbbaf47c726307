from tests.contract.client import StorageClient
from tests.contract.conftest import Workspace


def test_create_and_read_back(client: StorageClient, workspace: Workspace) -> None:
    created = client.create_file(workspace.container_id, workspace.name("hello.txt"), b"hello")
    info, data = client.read_file(created.file_id)
    assert data == b"hello"
    assert info.version == created.version
