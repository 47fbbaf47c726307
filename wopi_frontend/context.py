"""What every route needs, built once by `create_app` and kept on `app.state.wopi`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import Request

from wopi_frontend.settings import FrontendSettings
from wopi_frontend.storage_client import StorageClient
from wopi_frontend.tokens import TokenIssuer


@dataclass
class WopiContext:
    settings: FrontendSettings
    storage: StorageClient
    tokens: TokenIssuer

    def wopi_src(self, file_id: str) -> str:
        return f"{self.settings.base_url}/wopi/files/{file_id}"

    def host_page_url(self, file_id: str, action: str) -> str:
        return f"{self.settings.base_url}/host/{quote(file_id)}?action={action}"

    def browser_url(self, container_id: str = "") -> str:
        return f"{self.settings.base_url}/" + (f"?container={quote(container_id)}" if container_id else "")


def context_of(request: Request) -> WopiContext:
    return request.app.state.wopi  # type: ignore[no-any-return]
