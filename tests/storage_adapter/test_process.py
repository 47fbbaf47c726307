"""The `wopi-storage` process as an operator runs it: reflection and health answer (as grpcurl shows), it
stops cleanly on SIGTERM, and it bounds what one caller may hold (stalled uploads, concurrent writes of one
file, health watchers)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.contract.client import StorageClient, error_info, expect_error, file_state
from tests.contract.process import AdapterProcess
from wopi_proto.storage_v1 import storage_pb2 as pb

GRPCURL = shutil.which("grpcurl") or str(Path(sys.executable).parent / "grpcurl")


@pytest.fixture
def adapter(tmp_path: Path) -> AdapterProcess:
    process = AdapterProcess("filesystem", tmp_path / "root", tmp_path / "adapter.log").start()
    yield process
    process.stop()


def grpcurl(*args: str) -> str:
    result = subprocess.run([GRPCURL, "-plaintext", *args], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_reflection_lists_the_storage_service(adapter: AdapterProcess) -> None:
    services = grpcurl(adapter.target, "list").split()
    assert "wopi.storage.v1.StorageService" in services
    assert "grpc.health.v1.Health" in services
    methods = grpcurl(adapter.target, "list", "wopi.storage.v1.StorageService").split()
    assert "wopi.storage.v1.StorageService.WriteFile" in methods


def test_health_reports_serving(adapter: AdapterProcess) -> None:
    for service in ("", "wopi.storage.v1.StorageService"):
        answer = grpcurl("-d", f'{{"service": "{service}"}}', adapter.target, "grpc.health.v1.Health/Check")
        assert '"status": "SERVING"' in answer


def test_calls_without_the_secret_are_refused(adapter: AdapterProcess) -> None:
    result = subprocess.run(
        [GRPCURL, "-plaintext", adapter.target, "wopi.storage.v1.StorageService/GetRootContainer"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "Unauthenticated" in result.stderr
    answer = grpcurl(
        "-H",
        f"authorization: Bearer {adapter.secret}",
        "-H",
        "x-wopi-principal-id: operator",  # access control is on: every call names its principal
        adapter.target,
        "wopi.storage.v1.StorageService/GetRootContainer",
    )
    assert "container" in answer


def test_a_unix_socket_serves_the_same_service_and_still_needs_the_secret(tmp_path: Path) -> None:
    """`--listen unix:PATH` (what `wopi-host run` uses): health, the secret check, and contents both ways."""
    socket_dir = Path(tempfile.mkdtemp(prefix="wopi-sock-"))  # short: a socket path is at most 107 bytes
    adapter = AdapterProcess(
        "filesystem", tmp_path / "root", tmp_path / "adapter.log", listen=f"unix:{socket_dir / 'storage.sock'}"
    )
    try:
        with adapter, grpc.insecure_channel(adapter.target) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.RpcError) as refused:
                StorageClient(channel, None).call("GetRootContainer", pb.GetRootContainerRequest())
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
            client = StorageClient(channel, adapter.secret, user_id="operator")
            root = client.call("GetRootContainer", pb.GetRootContainerRequest()).container_id
            contents = os.urandom(3 * 1024 * 1024 + 5)
            info = client.create_file(root, "over-the-socket.bin", contents)  # in chunks of 1 MiB
            assert client.read_file(info.file_id)[1] == contents
    finally:
        shutil.rmtree(socket_dir, ignore_errors=True)


def test_sigterm_stops_cleanly(adapter: AdapterProcess) -> None:
    assert adapter.stop(signal.SIGTERM) == 0
    assert "shutting down" in adapter.log_tail()


def test_second_process_on_the_same_root_is_refused(adapter: AdapterProcess, tmp_path: Path) -> None:
    second = AdapterProcess("filesystem", tmp_path / "root", tmp_path / "second.log")
    with pytest.raises(RuntimeError, match="exited with 1"):
        second.start(timeout=20)
    assert "another" in second.log_tail()


# ---- access control, on by default ----


def files_seen(client: StorageClient, container_id: str) -> dict[str, str]:
    """The files of a container that `client`'s principal sees: name → id."""
    return {item.file.name: item.file.file_id for item in client.children(container_id) if item.HasField("file")}


def test_access_control_is_on_by_default_and_keeps_what_was_there(tmp_path: Path) -> None:
    """A root served without access control, then with the defaults: a file alice made is hers alone; one put in
    the folder by hand (no owner) stays editable by everyone identified. `--access-control false` switches it off
    again, and the grants made meanwhile are still in force once it is back on."""
    root, log = tmp_path / "root", tmp_path / "adapter.log"

    def serve(*args: str) -> AdapterProcess:
        return AdapterProcess("filesystem", root, log, args)

    with serve("--access-control", "false") as before, grpc.insecure_channel(before.target) as channel:
        alice = StorageClient(channel, before.secret, user_id="alice")
        assert not alice.call("GetCapabilities", pb.GetCapabilitiesRequest()).access_control  # type: ignore[attr-defined]
        top = alice.call("GetRootContainer", pb.GetRootContainerRequest()).container_id  # type: ignore[attr-defined]
        alices = alice.create_file(top, "alices.docx", OLD).file_id
    (root / "copied.docx").write_bytes(OLD)

    with serve() as upgraded, grpc.insecure_channel(upgraded.target) as channel:
        alice = StorageClient(channel, upgraded.secret, user_id="alice")
        bob = StorageClient(channel, upgraded.secret, user_id="bob")
        assert bob.call("GetCapabilities", pb.GetCapabilitiesRequest()).access_control  # type: ignore[attr-defined]
        assert alice.stat(alices).permissions.manage_sharing
        with expect_error(grpc.StatusCode.NOT_FOUND):
            bob.stat(alices)
        assert files_seen(alice, top).keys() == {"alices.docx", "copied.docx"}
        seen_by_bob = files_seen(bob, top)
        assert seen_by_bob.keys() == {"copied.docx"}
        assert bob.write_file(seen_by_bob["copied.docx"], b"bob's").size == 5
        viewer = pb.GrantAccessRequest(file_id=alices, grantee=pb.Grantee(user_id="bob"), role=pb.ROLE_VIEWER)
        alice.call("GrantAccess", viewer)

    with serve("--access-control", "false") as switched_off, grpc.insecure_channel(switched_off.target) as channel:
        bob = StorageClient(channel, switched_off.secret, user_id="bob")
        assert bob.write_file(alices, b"bob's too").size == 9  # everyone may do everything, as before

    with serve() as back_on, grpc.insecure_channel(back_on.target) as channel:
        bob = StorageClient(channel, back_on.secret, user_id="bob")
        assert bob.stat(alices).permissions == pb.Permissions(read=True)
        with expect_error(grpc.StatusCode.PERMISSION_DENIED):
            bob.write_file(alices, b"no longer")


# ---- limits per caller ----

OLD = b"the old contents"
BOUND = 30  # seconds: what is still held this long was not released
PARTIAL = b"partial write " * 64


@pytest.fixture
def limited_adapter(tmp_path: Path) -> Iterator[AdapterProcess]:
    """An adapter with a 1-second stream idle timeout and at most 5 health watchers."""
    extra = ("--stream-idle-timeout", "1", "--max-health-watchers", "5")
    process = AdapterProcess("filesystem", tmp_path / "root", tmp_path / "adapter.log", extra).start()
    yield process
    process.stop()


@pytest.fixture
def client(limited_adapter: AdapterProcess) -> Iterator[StorageClient]:
    with grpc.insecure_channel(limited_adapter.target) as channel:
        yield StorageClient(channel, limited_adapter.secret)


class HeldUpload:
    """A WriteFile request stream: the header and some data, then nothing until released, then its end."""

    def __init__(self, file_id: str) -> None:
        self.file_id = file_id
        self.sent = threading.Event()
        self.release = threading.Event()

    def __iter__(self) -> Iterator[pb.WriteFileRequest]:
        yield pb.WriteFileRequest(header=pb.WriteFileHeader(file_id=self.file_id))
        yield pb.WriteFileRequest(data=PARTIAL)
        self.sent.set()
        self.release.wait(60)
        yield pb.WriteFileRequest(end=pb.ContentEnd(size=len(PARTIAL)))


def temp_files(adapter_root: Path) -> list[str]:
    return os.listdir(adapter_root / ".wopi-storage" / "tmp")


def test_stalled_upload_is_aborted_after_the_idle_timeout_and_changes_nothing(
    client: StorageClient, tmp_path: Path
) -> None:
    """An upload that stops sending mid-stream is aborted with DEADLINE_EXCEEDED after --stream-idle-timeout
    (1 s here; the bound below is generous), its temp file is removed and the file keeps its old contents."""
    root = client.call("GetRootContainer", pb.GetRootContainerRequest())
    info = client.create_file(root.container_id, "stalled.txt", OLD)  # type: ignore[attr-defined]
    before = file_state(client, info.file_id)
    upload = HeldUpload(info.file_id)
    future = client.stub.WriteFile.future(iter(upload), metadata=client.metadata(), timeout=60)
    try:
        assert upload.sent.wait(10)
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as raised:
            future.result(timeout=30)
        assert time.monotonic() - started < 30
    finally:
        upload.release.set()
    assert error_info(raised.value).code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert file_state(client, info.file_id) == before
    assert temp_files(tmp_path / "root") == []


def test_uploads_beyond_the_limit_are_unavailable(tmp_path: Path) -> None:
    """With --max-concurrent-uploads 2 and two uploads in progress, a third waits briefly, then gets UNAVAILABLE
    (retry) and changes nothing, while reads keep working; once one upload ends, uploads are accepted again.
    (The default idle timeout, 30 s, leaves the held uploads alone.)"""
    extra = ("--max-concurrent-uploads", "2")
    with AdapterProcess("filesystem", tmp_path / "root", tmp_path / "adapter.log", extra) as adapter:
        with grpc.insecure_channel(adapter.target) as channel:
            client = StorageClient(channel, adapter.secret)
            root = client.call("GetRootContainer", pb.GetRootContainerRequest())
            files = [client.create_file(root.container_id, f"file-{n}.txt", OLD) for n in range(3)]  # type: ignore[attr-defined]
            held = [HeldUpload(file.file_id) for file in files[:2]]
            futures = [
                client.stub.WriteFile.future(iter(upload), metadata=client.metadata(), timeout=60) for upload in held
            ]
            try:
                assert all(upload.sent.wait(10) for upload in held)
                before = file_state(client, files[2].file_id)
                with pytest.raises(grpc.RpcError) as raised:
                    client.write_file(files[2].file_id, b"a third upload")
                assert error_info(raised.value).code == grpc.StatusCode.UNAVAILABLE
                assert file_state(client, files[2].file_id) == before
            finally:
                for upload in held:
                    upload.release.set()
            assert [future.result(timeout=30).size for future in futures] == [len(PARTIAL)] * 2
            assert client.write_file(files[2].file_id, b"later").size == 5
        assert temp_files(tmp_path / "root") == []


VANISHING_UPLOADER = """
import sys, threading
import grpc
from wopi_proto.storage_v1 import storage_pb2 as pb, storage_pb2_grpc
target, secret, file_id, user_id = sys.argv[1:]
def messages():
    yield pb.WriteFileRequest(header=pb.WriteFileHeader(file_id=file_id))
    for _ in range(40):  # 2.5 MiB: more than the backend gathers before it starts writing a temp file
        yield pb.WriteFileRequest(data=b"partial write " * 4681)
    threading.Event().wait()  # never ends the stream
channel = grpc.insecure_channel(target)
stub = storage_pb2_grpc.StorageServiceStub(channel)
metadata = [("authorization", "Bearer " + secret), ("x-wopi-principal-id", user_id)]
call = stub.WriteFile.future(messages(), metadata=metadata)  # kept: not cancelled
print("sent", flush=True)
threading.Event().wait()
"""


def test_caller_that_vanishes_mid_upload_is_dropped_by_keepalive(tmp_path: Path) -> None:
    """A caller frozen mid-upload (SIGSTOP: its kernel keeps the TCP connection up, but nothing answers HTTP/2
    pings) loses its connection to the server's keepalive (1 s + 1 s here), well before the idle timeout (600 s
    here): its upload is cancelled, the temp file removed, and the file unchanged."""
    extra = ("--keepalive-time", "1", "--keepalive-timeout", "1", "--stream-idle-timeout", "600")
    adapter = AdapterProcess("filesystem", tmp_path / "root", tmp_path / "adapter.log", extra)
    with adapter, grpc.insecure_channel(adapter.target) as channel:
        client = StorageClient(channel, adapter.secret)
        root = client.call("GetRootContainer", pb.GetRootContainerRequest())
        info = client.create_file(root.container_id, "vanishing.txt", OLD)  # type: ignore[attr-defined]
        before = file_state(client, info.file_id)
        uploader = subprocess.Popen(
            [sys.executable, "-c", VANISHING_UPLOADER, adapter.target, adapter.secret, info.file_id, client.user_id],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert uploader.stdout is not None and uploader.stdout.readline().strip() == "sent"
            deadline = time.monotonic() + BOUND
            while not temp_files(tmp_path / "root"):  # the upload has reached the backend
                assert time.monotonic() < deadline, "the upload never started"
                time.sleep(0.1)
            uploader.send_signal(signal.SIGSTOP)
            deadline = time.monotonic() + BOUND
            while temp_files(tmp_path / "root"):
                assert time.monotonic() < deadline, f"the vanished caller's upload was still open after {BOUND} s"
                time.sleep(0.2)
        finally:
            uploader.kill()
            uploader.send_signal(signal.SIGCONT)
            uploader.wait(10)
            if uploader.stdout is not None:
                uploader.stdout.close()
        assert file_state(client, info.file_id) == before


def test_health_watch_streams_beyond_the_limit_are_refused(limited_adapter: AdapterProcess) -> None:
    """Health.Watch needs no secret, so open streams are bounded in all (--max-health-watchers, 5 here), over
    however many connections: the sixth and later are RESOURCE_EXHAUSTED, while Health.Check and the storage
    service keep answering; a closed watcher frees its place."""
    options = [("grpc.use_local_subchannel_pool", 1)]  # a connection per channel, as separate callers have
    channels = [grpc.insecure_channel(limited_adapter.target, options=options) for _ in range(3)]
    watches = []
    try:
        outcomes = []
        for index in range(12):
            stub = health_pb2_grpc.HealthStub(channels[index % 3])
            watch = stub.Watch(health_pb2.HealthCheckRequest(), timeout=60)
            watches.append(watch)
            try:
                outcomes.append(next(watch).status == health_pb2.HealthCheckResponse.SERVING)
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
                outcomes.append(False)
        assert outcomes == [True] * 5 + [False] * 7
        health = health_pb2_grpc.HealthStub(channels[0])
        assert (
            health.Check(health_pb2.HealthCheckRequest(), timeout=10).status == health_pb2.HealthCheckResponse.SERVING
        )
        client = StorageClient(channels[1], limited_adapter.secret)
        assert client.call("GetCapabilities", pb.GetCapabilitiesRequest())
        watches[0].cancel()
        deadline = time.monotonic() + 30
        while True:  # the cancellation reaches the adapter asynchronously: retry until it has
            again = health.Watch(health_pb2.HealthCheckRequest(), timeout=60)
            watches.append(again)
            try:
                assert next(again).status == health_pb2.HealthCheckResponse.SERVING
                break
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
                assert time.monotonic() < deadline, "a cancelled watcher never freed its place"
    finally:
        for watch in watches:
            watch.cancel()
        for channel in channels:
            channel.close()
