"""Authentication (the shared secret) and the public services: grpc.health.v1.Health and server reflection."""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.contract.client import StorageClient, expect_error, expect_on_each
from tests.contract.conftest import AdapterAddress, Workspace
from wopi_proto.storage_v1 import storage_pb2 as pb

SERVICE = "wopi.storage.v1.StorageService"


def wrong_credentials(secret: str, user_id: str) -> dict[str, list[tuple[str, str]]]:
    """Metadata that must not authenticate: no authorization entry, or a wrong one."""
    principal = ("x-wopi-principal-id", user_id)
    return {
        "missing": [principal],
        "wrong-secret": [("authorization", f"Bearer wrong-{secret}"), principal],
        "secret-with-suffix": [("authorization", f"Bearer {secret}x"), principal],
        "secret-prefix": [("authorization", f"Bearer {secret[:-1]}"), principal],
        "no-scheme": [("authorization", secret), principal],
        "empty-bearer": [("authorization", "Bearer "), principal],
    }


def secret_of(adapter_address: AdapterAddress) -> str:
    if adapter_address.secret is None:
        pytest.skip("no shared secret configured for this adapter (--storage-secret)")
    return adapter_address.secret


def test_calls_without_the_secret_are_unauthenticated(
    client: StorageClient, adapter_address: AdapterAddress, workspace: Workspace
) -> None:
    """A missing or wrong shared secret is UNAUTHENTICATED, on unary and streaming RPCs alike, and changes nothing."""
    secret = secret_of(adapter_address)
    user_id = f"contract-user-{uuid.uuid4().hex}"
    name = workspace.name("unauthenticated.txt")
    listing = pb.ListChildrenRequest(container_id=workspace.container_id)
    calls: dict[str, object] = {}
    for label, metadata in wrong_credentials(secret, user_id).items():
        calls[f"GetCapabilities, {label}"] = lambda m=metadata: client.call(
            "GetCapabilities", pb.GetCapabilitiesRequest(), metadata=m
        )
        calls[f"ListChildren, {label}"] = lambda m=metadata: list(client.call("ListChildren", listing, metadata=m))  # type: ignore[call-overload]
        calls[f"CreateFile, {label}"] = lambda m=metadata: client.create_file(
            workspace.container_id, name, b"x", metadata=m
        )
        calls[f"SetUserInfo, {label}"] = lambda m=metadata: client.call(
            "SetUserInfo", pb.SetUserInfoRequest(user_info="stolen"), metadata=m
        )
    expect_on_each(calls, grpc.StatusCode.UNAUTHENTICATED)
    with expect_error(grpc.StatusCode.NOT_FOUND):
        client.call("LookupChild", pb.LookupChildRequest(container_id=workspace.container_id, name=name))
    user_info = client.call("GetUserInfo", pb.GetUserInfoRequest(), metadata=client.metadata(user_id=user_id))
    assert user_info.user_info == ""  # type: ignore[attr-defined]


def test_authentication_comes_before_validation(client: StorageClient, adapter_address: AdapterAddress) -> None:
    """An unauthenticated caller learns nothing about the request: a malformed one is UNAUTHENTICATED too."""
    secret_of(adapter_address)
    with expect_error(grpc.StatusCode.UNAUTHENTICATED):
        client.call("StatFile", pb.StatFileRequest(file_id="../etc"), metadata=[("x-wopi-principal-id", "someone")])
    with expect_error(grpc.StatusCode.UNAUTHENTICATED):
        client.call("GetUserInfo", pb.GetUserInfoRequest(), metadata=[])


@pytest.mark.parametrize("service", ["", SERVICE])
def test_health_check_is_serving_without_the_secret(channel: grpc.Channel, service: str) -> None:
    """grpc.health.v1.Health answers SERVING for the server and for the storage service, without any secret."""
    answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def reflect(
    channel: grpc.Channel, request: reflection_pb2.ServerReflectionRequest
) -> reflection_pb2.ServerReflectionResponse:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    responses = list(stub.ServerReflectionInfo(iter([request]), timeout=10))
    assert len(responses) == 1
    return responses[0]


def test_reflection_lists_the_storage_service_without_the_secret(channel: grpc.Channel) -> None:
    """Server reflection, without any secret, lists wopi.storage.v1.StorageService (so grpcurl works)."""
    answer = reflect(channel, reflection_pb2.ServerReflectionRequest(list_services=""))
    assert SERVICE in [service.name for service in answer.list_services_response.service]


def test_reflection_describes_the_storage_service(channel: grpc.Channel) -> None:
    """Server reflection returns the file that defines wopi.storage.v1.StorageService, with its RPCs."""
    answer = reflect(channel, reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE))
    methods = set()
    for serialized in answer.file_descriptor_response.file_descriptor_proto:
        descriptor = descriptor_pb2.FileDescriptorProto.FromString(serialized)
        for service in descriptor.service:
            if f"{descriptor.package}.{service.name}" == SERVICE:
                methods |= {method.name for method in service.method}
    expected = {method.name for method in pb.DESCRIPTOR.services_by_name["StorageService"].methods}
    assert methods == expected
