"""The host page at /host/{file_id}: where HostViewUrl, HostEditUrl and share links lead.

Until a WOPI client's discovery is configured there is no editor to frame, so the page says so plainly.
"""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from wopi_frontend.context import context_of
from wopi_frontend.errors import NotFound
from wopi_frontend.requests import file_id_of
from wopi_frontend.storage_client import StorageCallError

NO_CACHE = {"Cache-Control": "no-cache, no-store", "Expires": "-1", "Pragma": "no-cache"}


async def host_page(request: Request) -> Response:
    file_id = file_id_of(request)
    context = context_of(request)
    action = request.query_params.get("action", "view")
    try:
        info = await context.storage.stat_file(file_id)
    except StorageCallError as error:
        raise NotFound("no such file") from error
    name = html.escape(info.name)
    brand = html.escape(context.settings.brand_name)
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name} - {brand}</title></head>
<body><h1>{name}</h1>
<p>No office editor is configured for this {brand} yet, so this document cannot be opened for
{html.escape(action)} in the browser.</p></body></html>"""
    return HTMLResponse(body, headers=NO_CACHE)
