"""The interceptor keeps each method's wrapped handler after its first call: what it keeps must never carry one
call's verdict or principal into the next (interceptors.py, principal.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from tests.contract.inprocess import InProcessAdapter
from wopi_proto.storage_v1 import storage_pb2 as pb
from wopi_proto.storage_v1 import storage_pb2_grpc as pb_grpc


@pytest.fixture
def adapter(tmp_path: Path) -> Iterator[InProcessAdapter]:
    with InProcessAdapter("memory", tmp_path) as running:
        yield running


def metadata(secret: str, user_id: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {secret}"), ("x-wopi-principal-id", user_id)]


def test_a_wrong_secret_is_refused_after_right_ones(adapter: InProcessAdapter) -> None:
    """The same method, called with the secret, without it, and with it again: only the calls with it succeed."""
    with grpc.insecure_channel(adapter.target) as channel:
        stub = pb_grpc.StorageServiceStub(channel)
        for _ in range(3):
            stub.GetUserInfo(pb.GetUserInfoRequest(), metadata=metadata(adapter.secret, "user-a"))
            with pytest.raises(grpc.RpcError) as refused:
                stub.GetUserInfo(pb.GetUserInfoRequest(), metadata=metadata("wrong", "user-a"))
            assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_each_call_acts_for_its_own_principal(adapter: InProcessAdapter) -> None:
    """Users whose calls alternate each read and write their own user info, and a malformed principal is refused
    every time, also after well-formed ones."""
    with grpc.insecure_channel(adapter.target) as channel:
        stub = pb_grpc.StorageServiceStub(channel)
        users = ["user-a", "user-b", "user-c"]
        for user in users:
            stub.SetUserInfo(
                pb.SetUserInfoRequest(user_info=f"info of {user}"), metadata=metadata(adapter.secret, user)
            )
        for _ in range(2):
            for user in users:
                answer = stub.GetUserInfo(pb.GetUserInfoRequest(), metadata=metadata(adapter.secret, user))
                assert answer.user_info == f"info of {user}"
            with pytest.raises(grpc.RpcError) as refused:
                stub.GetUserInfo(pb.GetUserInfoRequest(), metadata=metadata(adapter.secret, "has space"))
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
