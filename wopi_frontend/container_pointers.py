"""A container as WOPI points at it from another answer ({"Name", "Url"}: EnumerateAncestors of a file or a
container, EnumerateChildren, CreateChildContainer), its Url carrying a token traded from the caller's: the same
user, no more than that token grants nor than storage lets the user do with the container, and no longer."""

from __future__ import annotations

from wopi_frontend.context import WopiContext
from wopi_frontend.tokens import AccessToken
from wopi_frontend.types import ContainerId
from wopi_proto.storage_v1 import storage_pb2 as pb


def container_url(context: WopiContext, container_id: str) -> str:
    return f"{context.settings.base_url}/wopi/containers/{container_id}"


def container_pointer(context: WopiContext, info: pb.ContainerInfo, token: AccessToken) -> dict[str, object]:
    """{"Name", "Url"} of a container, its Url with a token traded from `token`."""
    traded = context.tokens.trade(token, container_id=ContainerId(info.container_id))
    return {
        "Name": display_name(context, info),
        "Url": f"{container_url(context, info.container_id)}?access_token={traded}",
    }


def display_name(context: WopiContext, info: pb.ContainerInfo) -> str:
    """The root container has no name of its own in storage: it is shown as the host's brand."""
    return info.name or context.settings.brand_name
