"""Who is using the file browser and the host page.

The WOPI routes know their user from the access token. The pages people open in their browser (`/`, `/host/...`,
`/browse/...`) learn it in one of two ways, set in the settings:

- `identity_header` (WOPI_IDENTITY_HEADER, e.g. `X-Forwarded-User`): a trusted reverse proxy authenticates
  people and names the user in this header. Its display name, when the proxy sends one, comes from the matching
  `-Name` header: `X-Forwarded-User` -> `X-Forwarded-Name`, `Remote-User` -> `Remote-Name` (a name ending in
  `-User` has that ending replaced; any other gets `-Name` appended). The front-end must then be reachable only
  through that proxy, which must strip both headers from what clients send.
  The user's groups, when the proxy sends them, come from `groups_header` (WOPI_GROUPS_HEADER, e.g.
  `X-Forwarded-Groups`): comma-separated group ids, which the proxy must strip from clients' requests too.
- `dev_user` (WOPI_DEV_USER): in development, one fixed user, granted only to a browser that opened the login
  link printed at start-up (`dev_login.py`; `dev_login_secret`). Without a secret the pages refuse everyone,
  unless `dev_login_required` is switched off, in which case everyone who reaches the port is that user.

When the header is configured it is the only source: a request without it is refused even if `dev_user` is set,
so a misrouted request never falls back to the development user.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from starlette.requests import Request

from wopi_frontend import dev_login
from wopi_frontend.settings import FrontendSettings
from wopi_frontend.text import MAX_DISPLAY_NAME, clean_display_name
from wopi_frontend.types import Principal

USER_ID = re.compile(r"[\x21-\x7e]{1,256}")  # as storage's x-wopi-principal-id: printable ASCII, no spaces
GROUP_ID = re.compile(r"[\x21-\x2b\x2d-\x7e]{1,256}")  # as storage's x-wopi-principal-groups: no space, no comma
# Groups travel in every access token, and a token must stay under tokens.MAX_TOKEN_LENGTH characters (WOPI
# clients put it in URLs): this many characters of group ids (joined by commas) leave room for the rest.
MAX_GROUPS_TEXT = 1024
logger = logging.getLogger(__name__)


class TooManyGroups(ValueError):
    """The group ids add up to more than MAX_GROUPS_TEXT characters."""


def parse_groups(values: list[str]) -> tuple[str, ...]:
    """Group ids from header values (comma-separated; several header lines count as one list): trimmed,
    duplicates dropped, in the order given. An id storage would refuse (a space inside, too long) is left out
    with a warning: leaving a group out can only take access away, never give it."""
    groups: dict[str, None] = {}
    for value in values:
        for part in value.split(","):
            group = part.strip()
            if not group:
                continue
            if GROUP_ID.fullmatch(group):
                groups[group] = None
            else:
                logger.warning("a group id that storage cannot take was left out: %r", group[:64])
    if sum(len(group) + 1 for group in groups) - 1 > MAX_GROUPS_TEXT:
        raise TooManyGroups(f"the group ids add up to more than {MAX_GROUPS_TEXT} characters")
    return tuple(groups)


@dataclass(frozen=True)
class IdentityMissing(Exception):
    """Nobody could be identified. `title` and `explanation` are plain text for the page that says so."""

    title: str
    explanation: str
    status_code: int = 403


def display_name_header(identity_header: str) -> str:
    """The header holding the display name that goes with `identity_header`."""
    if identity_header.lower().endswith("-user"):
        return identity_header[: -len("-user")] + "-Name"
    return identity_header + "-Name"


def _single(request: Request, name: str) -> str | None:
    values = request.headers.getlist(name)
    if len(values) != 1:
        return None  # absent, or repeated (ambiguous: refused)
    return values[0]


def _decode_name(raw: str) -> str:
    """Header values arrive as latin-1; proxies send UTF-8 names as raw bytes, so they are decoded again."""
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        text = raw
    return clean_display_name(text)[:MAX_DISPLAY_NAME]


def identify(request: Request, settings: FrontendSettings) -> Principal:
    """The person making this request, or IdentityMissing with what to do about it."""
    header = settings.identity_header
    if header:
        user_id = _single(request, header)
        if user_id is None or not USER_ID.fullmatch(user_id):
            raise IdentityMissing(
                "You are not signed in",
                f"This server takes the signed-in user from the {header} request header, set by the reverse "
                "proxy in front of it, and this request had no usable value in it (missing, repeated, or not "
                "1 to 256 printable ASCII characters). Open the site through the proxy, or ask its administrator "
                "to check the proxy's configuration.",
            )
        name = _single(request, display_name_header(header))
        groups: tuple[str, ...] = ()
        if settings.groups_header:
            try:
                groups = parse_groups(request.headers.getlist(settings.groups_header))
            except TooManyGroups:
                raise IdentityMissing(
                    "Your account is in too many groups",
                    f"The {settings.groups_header} header names groups whose ids add up to more than "
                    f"{MAX_GROUPS_TEXT} characters, more than fit in the access token an office editor carries. "
                    "Ask the administrator to have the proxy send only the groups documents are shared with.",
                ) from None
        return Principal(user_id, _decode_name(name) if name else user_id, groups)
    if settings.dev_user:
        if dev_login.enabled(settings):
            if not dev_login.has_session(request, settings):
                raise IdentityMissing(
                    "Open the login link",
                    "This development server lets in only the browser that opened its login link. The link is "
                    "printed in the terminal where `wopi-host run` (or `wopi-host frontend`) is running, and "
                    f"starts with {settings.base_url}{dev_login.LOGIN_PATH}?token= . Each run prints a new one.",
                    status_code=401,
                )
        elif settings.dev_login_required:
            raise IdentityMissing(
                "Sign-in is not configured",
                "WOPI_DEV_USER is set, but without a login secret: nobody can prove to be that user. Start the "
                "server with `wopi-host run` or `wopi-host frontend`, which make one and print the login link, "
                "or set WOPI_DEV_LOGIN_SECRET (at least 32 characters).",
            )
        return Principal(settings.dev_user, settings.dev_user)
    raise IdentityMissing(
        "Sign-in is not configured",
        "This server does not know who you are, so it cannot show documents. Its administrator can either put "
        "an authenticating reverse proxy in front of it and set WOPI_IDENTITY_HEADER to the header that proxy "
        "sets (for example X-Forwarded-User), or, for development on one machine, set WOPI_DEV_USER to a user "
        "name that everyone will share.",
    )
