"""The file browser at `/`: the documents of a container, and the actions on them."""

from __future__ import annotations

from starlette.routing import BaseRoute

ROUTES: list[BaseRoute] = []
