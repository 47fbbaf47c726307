"""What every route needs, built once by `create_app` and kept on `app.state.wopi`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from urllib.parse import quote, urlsplit

from starlette.requests import Request

from wopi_frontend.client_profiles import ClientProfile, profile_for
from wopi_frontend.discovery import DiscoveryService
from wopi_frontend.file_url_signing import FileUrlSigner
from wopi_frontend.settings import FrontendSettings
from wopi_frontend.storage_client import StorageClient
from wopi_frontend.tokens import AccessToken, TokenIssuer


@dataclass
class WopiContext:
    settings: FrontendSettings
    storage: StorageClient
    tokens: TokenIssuer
    # The WOPI client's discovery; None when no discovery URL is configured (no editor).
    discovery: DiscoveryService | None = None

    def wopi_src(self, file_id: str) -> str:
        return f"{self.settings.base_url}/wopi/files/{file_id}"

    def host_page_url(self, file_id: str, action: str) -> str:
        return f"{self.settings.base_url}/host/{quote(file_id)}?action={action}"

    def browser_url(self, container_id: str = "") -> str:
        return f"{self.settings.base_url}/" + (f"?container={quote(container_id)}" if container_id else "")

    def folder_sharing_url(self, container_id: str) -> str:
        """The file browser's Share dialog of a folder (routes/sharing.py)."""
        return f"{self.settings.base_url}/browse/folders/{quote(container_id)}/sharing"

    def shared_url(self) -> str:
        """The file browser's Shared with me page."""
        return f"{self.settings.base_url}/shared"

    def blank_document_url(self, extension: str) -> str:
        """A blank document of a type (".docx"), for CheckFileInfo's TemplateSource (routes/blank.py)."""
        return f"{self.settings.base_url}/blank/{extension.removeprefix('.')}"

    def download_url(self, file_id: str) -> str:
        return f"{self.settings.base_url}/browse/download/{quote(file_id)}"

    def file_url(self, token: AccessToken) -> str:
        """CheckFileInfo's FileUrl for the access token's file and user: read only, short-lived (routes/file_url.py)."""
        return f"{self.settings.base_url}/wopi-file/{token.file_id}?t={self.file_url_signer.signature(token)}"

    @cached_property
    def file_url_signer(self) -> FileUrlSigner:
        return FileUrlSigner(self.settings.token_key)

    @cached_property
    def origin(self) -> str:
        """scheme://host[:port] of the public URL, as browsers write the origin of this host's pages (lower case,
        no default port): WOPI clients compare it with the pages' origin (PostMessageOrigin). Worked out once:
        the settings are frozen, and every CheckFileInfo names it."""
        parts = urlsplit(self.settings.public_url)
        scheme, host = parts.scheme.lower(), parts.netloc.rpartition("@")[2].lower()
        default_port = {"http": ":80", "https": ":443"}[scheme]
        return f"{scheme}://{host.removesuffix(default_port)}"

    @property
    def client_profile(self) -> ClientProfile:
        """The WOPI client's conventions, from the setting or (with "auto") from the current discovery."""
        current = self.discovery.current if self.discovery is not None else None
        return profile_for(self.settings.wopi_client, current)


def context_of(request: Request) -> WopiContext:
    return request.app.state.wopi  # type: ignore[no-any-return]
