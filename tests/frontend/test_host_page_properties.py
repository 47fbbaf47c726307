"""CheckFileInfo's properties for the host page (PostMessage, Close, Download, Share), and the discovery settings
as an operator gives them."""

from __future__ import annotations

import pytest

from tests.frontend.servers import WopiHost
from tests.frontend.test_operations import DOCUMENT
from tests.frontend.wopi import open_file
from wopi_frontend import cli
from wopi_frontend.context import WopiContext
from wopi_frontend.settings import FrontendSettings

POST_MESSAGE_FLAGS = (
    "ClosePostMessage",
    "EditModePostMessage",
    "EditNotificationPostMessage",
    "FileSharingPostMessage",
    "FileVersionPostMessage",
)


def test_host_page_properties(wopi_host: WopiHost, file_name: str) -> None:
    file = open_file(wopi_host, file_name, DOCUMENT)
    info = file.info()
    base = wopi_host.url
    assert info["PostMessageOrigin"] == base  # scheme://host:port of the public URL: the host page's origin
    assert all(info[flag] is True for flag in POST_MESSAGE_FLAGS)
    assert info["CloseUrl"] == info["BreadcrumbFolderUrl"]  # the folder the file is in
    assert info["CloseUrl"].startswith(base + "/")
    assert info["DownloadUrl"] == f"{base}/browse/download/{file.file_id}"
    assert info["FileSharingUrl"] == file.get_share_url("ReadWrite").json()["ShareUrl"] == info["HostEditUrl"]
    assert info["HostViewUrl"] == f"{base}/host/{file.file_id}?action=view"


@pytest.mark.parametrize(
    ("public_url", "origin"),
    [
        ("https://wopi.example.org", "https://wopi.example.org"),
        ("https://WOPI.Example.org:443/office/", "https://wopi.example.org"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://[::1]:80", "http://[::1]"),
    ],
)
def test_post_message_origin_is_written_as_browsers_write_origins(public_url: str, origin: str) -> None:
    settings = FrontendSettings(public_url=public_url, token_key="k" * 32)
    assert WopiContext(settings, None, None).origin == origin  # type: ignore[arg-type]


def test_discovery_settings() -> None:
    environ = {"WOPI_TOKEN_KEY": "k" * 32, "WOPI_DISCOVERY_URL": ""}
    assert FrontendSettings.from_environ(environ).discovery_url is None  # empty: unset (compose passes "")
    environ["WOPI_DISCOVERY_URL"] = "http://collabora:9980/hosting/discovery"
    assert FrontendSettings.from_environ(environ).discovery_url == "http://collabora:9980/hosting/discovery"
    with pytest.raises(ValueError, match="discovery_url"):
        FrontendSettings.from_environ({**environ, "WOPI_DISCOVERY_URL": "file:///etc/passwd"})
    args = cli.build_parser().parse_args(["run", "--discovery-url", "http://localhost:9980/hosting/discovery"])
    assert args.discovery_url == "http://localhost:9980/hosting/discovery"
