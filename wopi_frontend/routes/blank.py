"""GET /blank/{type}: a blank document of one type (docx, xlsx, pptx, odt, ods, odp; blank_documents.py), the
URL CheckFileInfo names as TemplateSource for an empty file, so that Collabora Online and ONLYOFFICE start the
document from a valid file of its type and save it over the empty one.

The blank documents hold nothing of anyone's, the same bytes for everybody: no token is asked for, and they may
be cached.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from wopi_frontend.blank_documents import BLANK_EXTENSIONS, blank_document
from wopi_frontend.errors import NotFound
from wopi_frontend.routes.page_support import mime_type_of


async def get_blank_document(request: Request) -> Response:
    extension = "." + request.path_params["extension"]
    if extension not in BLANK_EXTENSIONS:
        raise NotFound("no blank document of this type")
    headers = {
        "Cache-Control": "public, max-age=86400",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": f'attachment; filename="blank{extension}"',
    }
    media_type = mime_type_of(f"blank{extension}") or "application/octet-stream"
    return Response(blank_document(extension), media_type=media_type, headers=headers)
