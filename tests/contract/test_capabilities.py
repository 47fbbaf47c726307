"""GetCapabilities: the limits every caller derives its behaviour from must be within the proto's bounds."""

from tests.contract.client import StorageClient
from wopi_proto.storage_v1 import storage_pb2 as pb

MIB = 1024 * 1024


def test_adapter_name_is_set(caps: pb.Capabilities) -> None:
    """Capabilities.adapter_name is a short name for logs, so it is never empty."""
    assert caps.adapter_name.strip()


def test_max_chunk_size_is_positive_and_at_most_3_mib(caps: pb.Capabilities) -> None:
    """Contents travel in chunks of at most max_chunk_size, which is at most 3 MiB."""
    assert 0 < caps.max_chunk_size <= 3 * MIB


def test_max_lock_id_length_is_between_256_and_1024(caps: pb.Capabilities) -> None:
    """A lock id may be 1 to max_lock_id_length characters, and that limit is 256 to 1024."""
    assert 256 <= caps.max_lock_id_length <= 1024


def test_max_lock_ttl_is_positive(caps: pb.Capabilities) -> None:
    """Every lock is taken with a TTL of more than 0 and at most max_lock_ttl, so max_lock_ttl is positive."""
    assert caps.max_lock_ttl.ToTimedelta().total_seconds() > 0


def test_max_name_length_is_at_least_255_bytes(caps: pb.Capabilities) -> None:
    """Every adapter accepts names of up to 255 UTF-8 bytes (the common file-system limit WOPI names fit in)."""
    assert caps.max_name_length >= 255


def test_size_and_count_limits_are_not_negative(caps: pb.Capabilities) -> None:
    """max_file_size and max_versions_kept use 0 for 'no limit'; neither is negative, nor is the user info limit."""
    assert caps.max_file_size >= 0
    assert caps.max_versions_kept >= 0
    assert caps.max_user_info_length >= 0


def test_capabilities_are_the_same_on_every_call(client: StorageClient, caps: pb.Capabilities) -> None:
    """Callers read the capabilities once at start-up, so they must not change from call to call."""
    assert client.call("GetCapabilities", pb.GetCapabilitiesRequest()) == caps
