"""Per-user information (WOPI PutUserInfo): GetUserInfo and SetUserInfo, keyed by the principal."""

from __future__ import annotations

import uuid

import grpc

from tests.contract.client import StorageClient, assert_bad_request, expect_error
from wopi_proto.storage_v1 import storage_pb2 as pb


def new_user() -> str:
    """A user id no earlier run has used, so its info starts empty even on a shared adapter."""
    return f"contract-user-{uuid.uuid4().hex}"


def get_info(client: StorageClient, user_id: str) -> str:
    request = pb.GetUserInfoRequest()
    return client.call("GetUserInfo", request, metadata=client.metadata(user_id=user_id)).user_info  # type: ignore[attr-defined,no-any-return]


def set_info(client: StorageClient, user_id: str, value: str) -> str:
    request = pb.SetUserInfoRequest(user_info=value)
    return client.call("SetUserInfo", request, metadata=client.metadata(user_id=user_id)).user_info  # type: ignore[attr-defined,no-any-return]


def test_user_info_is_empty_for_a_new_user(client: StorageClient) -> None:
    """GetUserInfo of a user who never stored anything is empty, not an error."""
    assert get_info(client, new_user()) == ""


def test_user_info_round_trips(client: StorageClient) -> None:
    """SetUserInfo stores the string verbatim (Unicode too); GetUserInfo returns it."""
    user = new_user()
    value = '{"theme": "dark", "greeting": "Привет 文件 ✓ 😀", "quote": "it\'s & <ok>"}'
    assert set_info(client, user, value) == value
    assert get_info(client, user) == value


def test_user_info_is_per_user(client: StorageClient) -> None:
    """User info belongs to the principal: one user's string is not another's."""
    alice, bob = new_user(), new_user()
    set_info(client, alice, "alice's info")
    assert get_info(client, bob) == ""
    set_info(client, bob, "bob's info")
    assert get_info(client, alice) == "alice's info"
    assert get_info(client, bob) == "bob's info"


def test_set_user_info_replaces_the_earlier_value(client: StorageClient) -> None:
    """SetUserInfo replaces any earlier string, including with the empty string."""
    user = new_user()
    set_info(client, user, "first, and longer than the second")
    set_info(client, user, "second")
    assert get_info(client, user) == "second"
    set_info(client, user, "")
    assert get_info(client, user) == ""


def test_user_info_of_max_length_is_accepted(client: StorageClient, caps: pb.Capabilities) -> None:
    """A string of exactly max_user_info_length characters (multi-byte ones too) is stored."""
    user = new_user()
    # Two-byte characters, so that an adapter counting bytes instead of characters shows (within message limits).
    value = ("é" if caps.max_user_info_length <= 1024 * 1024 else "e") * caps.max_user_info_length
    assert set_info(client, user, value) == value
    assert get_info(client, user) == value


def test_user_info_over_max_length_is_resource_exhausted(client: StorageClient, caps: pb.Capabilities) -> None:
    """A string longer than max_user_info_length is RESOURCE_EXHAUSTED, and the earlier value is kept."""
    user = new_user()
    set_info(client, user, "kept")
    with expect_error(grpc.StatusCode.RESOURCE_EXHAUSTED):
        set_info(client, user, "x" * (caps.max_user_info_length + 1))
    assert get_info(client, user) == "kept"


def test_user_info_without_principal_is_invalid_argument(client: StorageClient) -> None:
    """GetUserInfo and SetUserInfo require the principal: without x-wopi-principal-id, INVALID_ARGUMENT."""
    anonymous = client.metadata(user_id="")
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        client.call("GetUserInfo", pb.GetUserInfoRequest(), metadata=anonymous)
    assert_bad_request(error, "x-wopi-principal-id")
    with expect_error(grpc.StatusCode.INVALID_ARGUMENT) as error:
        client.call("SetUserInfo", pb.SetUserInfoRequest(user_info="nobody's"), metadata=anonymous)
    assert_bad_request(error, "x-wopi-principal-id")
