"""The bare shape of our host, with nothing of the product in it: the ceilings the benchmark suite compares with.

    python -m benchmarks.ceilings storage --listen 127.0.0.1:PORT --file BIG.bin --scratch DIR
    python -m benchmarks.ceilings web --port PORT --storage 127.0.0.1:PORT

`storage` is a tiny grpc.aio server with three methods on messages of our own contract: `Stat` answers one small
FileInfo (no work at all), `Read` streams `--file` from disk in 1 MiB ReadFileResponse messages (a plain read per
chunk, the obvious implementation), `Write` takes 1 MiB WriteFileRequest messages into a file in `--scratch` and
fsyncs it before answering (as a save must).

`web` is a Starlette app under uvicorn, configured like our front-end (httptools, the default event loop, no
access log), on one gRPC channel to `storage`: `GET /unary` makes one `Stat` call and answers small JSON,
`GET /stream` pipes `Read` into a StreamingResponse, `POST /upload` cuts the request body into 1 MiB messages
of one `Write` call. No tokens, no access control, no storage work: whatever our host does beyond this costs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from wopi_proto.storage_v1 import storage_pb2 as pb

MIB = 1024 * 1024
SERVICE = "benchmark.Ceiling"
# What a CheckFileInfo needs to know of a file, roughly: a name, a size, a version.
# Room for 1 MiB chunks and their framing (gRPC's default limit is 4 MiB for receiving, none for sending).
MESSAGE_LIMITS = [("grpc.max_receive_message_length", 8 * MIB), ("grpc.max_send_message_length", 8 * MIB)]
SMALL_INFO = pb.FileInfo(file_id="f" * 22, name="report.docx", size=12345, version="v1")


# ---- the storage side: a grpc.aio server ----


def storage_handler(big_file: Path, scratch: Path) -> grpc.GenericRpcHandler:
    async def stat(request: pb.StatFileRequest, context: grpc.aio.ServicerContext) -> pb.FileInfo:
        return SMALL_INFO

    async def read(
        request: pb.ReadFileRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ReadFileResponse]:
        with big_file.open("rb") as source:
            while chunk := source.read(MIB):
                yield pb.ReadFileResponse(data=chunk)

    async def write(messages: AsyncIterator[pb.WriteFileRequest], context: grpc.aio.ServicerContext) -> pb.FileInfo:
        size = 0
        with (scratch / "upload.bin").open("wb") as target:
            async for message in messages:
                target.write(message.data)
                size += len(message.data)
            target.flush()
            os.fsync(target.fileno())
        return pb.FileInfo(file_id=SMALL_INFO.file_id, size=size)

    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Stat": grpc.unary_unary_rpc_method_handler(
                stat, pb.StatFileRequest.FromString, pb.FileInfo.SerializeToString
            ),
            "Read": grpc.unary_stream_rpc_method_handler(
                read, pb.ReadFileRequest.FromString, pb.ReadFileResponse.SerializeToString
            ),
            "Write": grpc.stream_unary_rpc_method_handler(
                write, pb.WriteFileRequest.FromString, pb.FileInfo.SerializeToString
            ),
        },
    )


async def serve_storage(listen: str, big_file: Path, scratch: Path) -> None:
    server = grpc.aio.server(options=MESSAGE_LIMITS)
    server.add_generic_rpc_handlers([storage_handler(big_file, scratch)])
    server.add_insecure_port(listen)
    await server.start()
    await server.wait_for_termination()


# ---- the web side: Starlette on uvicorn ----


class StorageStubs:
    """One gRPC channel to the ceiling's storage and its three methods; made in the server's event loop."""

    def __init__(self, target: str) -> None:
        self.channel = grpc.aio.insecure_channel(target, options=MESSAGE_LIMITS)
        self.stat = self.channel.unary_unary(
            f"/{SERVICE}/Stat",
            request_serializer=pb.StatFileRequest.SerializeToString,
            response_deserializer=pb.FileInfo.FromString,
        )
        self.read = self.channel.unary_stream(
            f"/{SERVICE}/Read",
            request_serializer=pb.ReadFileRequest.SerializeToString,
            response_deserializer=pb.ReadFileResponse.FromString,
        )
        self.write = self.channel.stream_unary(
            f"/{SERVICE}/Write",
            request_serializer=pb.WriteFileRequest.SerializeToString,
            response_deserializer=pb.FileInfo.FromString,
        )


def web_app(storage_target: str) -> Starlette:
    stubs: list[StorageStubs] = []  # the one set, made at start-up: a grpc.aio channel belongs to its loop

    async def unary(request: Request) -> JSONResponse:
        info = await stubs[0].stat(pb.StatFileRequest(file_id=SMALL_INFO.file_id))
        return JSONResponse({"BaseFileName": info.name, "Size": info.size, "Version": info.version})

    async def stream(request: Request) -> StreamingResponse:
        async def body() -> AsyncIterator[bytes]:
            async for message in stubs[0].read(pb.ReadFileRequest(file_id=SMALL_INFO.file_id)):
                yield message.data

        return StreamingResponse(body(), media_type="application/octet-stream")

    async def upload(request: Request) -> JSONResponse:
        async def messages() -> AsyncIterator[pb.WriteFileRequest]:
            pending = bytearray()
            async for piece in request.stream():
                pending += piece
                while len(pending) >= MIB:
                    yield pb.WriteFileRequest(data=bytes(pending[:MIB]))
                    del pending[:MIB]
            if pending:
                yield pb.WriteFileRequest(data=bytes(pending))

        info = await stubs[0].write(messages())
        return JSONResponse({"Size": info.size})

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stubs.append(StorageStubs(storage_target))
        yield
        await stubs[0].channel.close()

    routes = [
        Route("/unary", unary),
        Route("/stream", stream),
        Route("/upload", upload, methods=["POST"]),
        Route("/healthz", healthz),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def serve_web(port: int, storage_target: str) -> None:
    # As wopi_frontend/cli.py's serve_frontend, less its timeouts and limits: httptools, loop "auto" (uvloop when
    # installed), no access log.
    config = uvicorn.Config(
        web_app(storage_target), host="127.0.0.1", port=port, access_log=False, log_level="warning", http="httptools"
    )
    uvicorn.Server(config).run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    storage = commands.add_parser("storage")
    storage.add_argument("--listen", required=True)
    storage.add_argument("--file", type=Path, required=True)
    storage.add_argument("--scratch", type=Path, required=True)
    web = commands.add_parser("web")
    web.add_argument("--port", type=int, required=True)
    web.add_argument("--storage", required=True)
    args = parser.parse_args()
    if args.command == "storage":
        asyncio.run(serve_storage(args.listen, args.file, args.scratch))
    else:
        serve_web(args.port, args.storage)
    return 0


if __name__ == "__main__":
    sys.exit(main())
