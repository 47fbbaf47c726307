"""The one place where storage errors become gRPC statuses with `google.rpc` details.

The table below is the error model of `proto/wopi/storage/v1/storage.proto`: one code per meaning, the same
on every RPC.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from storage_adapter import convert, errors
from wopi_proto.storage_v1 import storage_pb2 as pb

_CODES: dict[type[errors.StorageError], int] = {
    errors.NotFound: code_pb2.NOT_FOUND,
    errors.InvalidArgument: code_pb2.INVALID_ARGUMENT,
    errors.LockConflict: code_pb2.FAILED_PRECONDITION,
    errors.ContainerNotEmpty: code_pb2.FAILED_PRECONDITION,
    errors.VersionConflict: code_pb2.ABORTED,
    errors.NameConflict: code_pb2.ALREADY_EXISTS,
    errors.OutOfRange: code_pb2.OUT_OF_RANGE,
    errors.TooLarge: code_pb2.RESOURCE_EXHAUSTED,
    errors.Unsupported: code_pb2.UNIMPLEMENTED,
    errors.Unavailable: code_pb2.UNAVAILABLE,
    errors.Unauthenticated: code_pb2.UNAUTHENTICATED,
    errors.PermissionDenied: code_pb2.PERMISSION_DENIED,
}


def _detail(error: errors.StorageError) -> Message | None:
    match error:
        case errors.InvalidArgument():
            violation = error_details_pb2.BadRequest.FieldViolation(field=error.field, description=error.message)
            return error_details_pb2.BadRequest(field_violations=[violation])
        case errors.LockConflict():
            return pb.LockConflict(current_lock=convert.lock_info(error.current), reason=error.message)
        case errors.ContainerNotEmpty():
            return pb.ContainerNotEmpty(container_id=error.container_id)
        case errors.VersionConflict():
            return pb.VersionConflict(current_version=error.current_version)
        case errors.NameConflict():
            existing = convert.hidden_item(error.existing) if error.hidden else convert.item(error.existing)
            return pb.NameConflict(container_id=error.container_id, name=error.name, existing=existing)
        case errors.PermissionDenied():
            return pb.PermissionDenied(permission=error.permission)
    return None


def to_status(error: errors.StorageError) -> grpc.Status:
    code = next(code for kind, code in _CODES.items() if isinstance(error, kind))
    status = status_pb2.Status(code=code, message=error.message)
    detail = _detail(error)
    if detail is not None:
        packed = any_pb2.Any()
        packed.Pack(detail)
        status.details.append(packed)
    return rpc_status.to_status(status)


def internal_status() -> grpc.Status:
    return rpc_status.to_status(status_pb2.Status(code=code_pb2.INTERNAL, message="internal storage error"))
