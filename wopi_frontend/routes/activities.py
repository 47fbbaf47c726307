"""AddActivities (POST /wopi/files/{id}, X-WOPI-Override: ADD_ACTIVITIES): what happened in the document, recorded
by storage for the people who can see it (activities.py reads the WOPI JSON).

Adding activities needs the token's EDIT and storage's write permission (a viewer cannot put words in someone's
mouth in the document's history); storage keeps each file's most recent ones and the file browser lists them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wopi_frontend import activities
from wopi_frontend.context import context_of
from wopi_frontend.errors import NotImplementedByHost
from wopi_frontend.requests import small_body
from wopi_frontend.tokens import AccessToken
from wopi_frontend.types import FileId

STORAGE_BATCH = 50  # activities per AddActivities call: storage's bound (proto AddActivitiesRequest)


async def add_activities(request: Request, file_id: FileId, token: AccessToken) -> Response:
    context = context_of(request)
    if not (await context.storage.capabilities()).activities:
        raise NotImplementedByHost("this storage keeps no activities")
    reported = activities.parse(await small_body(request, activities.MAX_BODY_BYTES))
    recordable = [entry.activity for entry in reported if entry.activity is not None]
    if recordable:
        for start in range(0, len(recordable), STORAGE_BATCH):
            await context.storage.add_activities(file_id, recordable[start : start + STORAGE_BATCH], token.user)
    else:  # nothing to record, but the file must still be one the user may add activities to
        await context.storage.stat_file(file_id, token.user)
    return JSONResponse(activities.responses(reported))
