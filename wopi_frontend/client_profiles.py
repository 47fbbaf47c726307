"""Which WOPI client this host serves, and the conventions that follow from it.

Microsoft's Office for the web is the reference. Collabora Online and ONLYOFFICE speak WOPI with extensions
(shared/wopi/CLIENT_EXTENSIONS.md): a save-conflict check on PutFile (X-COOL-WOPI-Timestamp /
X-LOOL-WOPI-Timestamp answered with 409 {"COOLStatusCode": 1010}), LastModifiedTime in the PutFile response,
save hints (IsModifiedByUser, IsAutosave, IsExitSave), and CheckFileInfo properties of their own. Nothing here
changes what Microsoft's clients and validator see: those extensions are off in the Office profile.

The save-conflict check is the exception: it does not depend on the profile. Office never sends the timestamp
headers, so a save that carries one comes from a client that keeps LastModifiedTime, whichever client the
discovery looked like; ignoring the header there would let a stale save overwrite a newer one. Such a save is
checked, and answered with the new LastModifiedTime, under every profile (`answers_last_modified`).

The setting `wopi_client` picks the profile; "auto" reads it from the discovery:
* ONLYOFFICE: an action's urlsrc path contains `/hosting/wopi/` (its editors live at
  `/hosting/wopi/{word,cell,slide,...}/{view,edit}`).
* Collabora Online: otherwise, an app named after a MIME type or the `Capabilities` app, or a urlsrc of
  Collabora's editor page (`cool.html`, `/browser/`, or the older `loleaflet.html`, `/loleaflet/`).
* Office for the web: anything else, and while no discovery is loaded.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from wopi_frontend.discovery import Discovery


class WopiClient(enum.StrEnum):
    OFFICE = "office"
    COLLABORA = "collabora"
    ONLYOFFICE = "onlyoffice"


@dataclass(frozen=True)
class ClientProfile:
    client: WopiClient
    # PutFile and PutRelativeFile: answer with {"LastModifiedTime": ...}, which the client keeps for the next
    # save's timestamp check (a save carrying X-COOL/X-LOOL-WOPI-Timestamp is answered so under any profile).
    last_modified_in_responses: bool
    # CheckFileInfo: the client's own properties (see `extra_check_file_info`).
    collabora_properties: bool
    onlyoffice_properties: bool
    # CheckFileInfo of an empty file: TemplateSource, the URL of a blank document of its type, which the client
    # opens instead and saves over the empty file (Collabora and ONLYOFFICE; Office fills an empty file itself,
    # with its editnew action).
    template_source: bool


PROFILES: dict[WopiClient, ClientProfile] = {
    WopiClient.OFFICE: ClientProfile(WopiClient.OFFICE, False, False, False, False),
    WopiClient.COLLABORA: ClientProfile(WopiClient.COLLABORA, True, True, False, True),
    WopiClient.ONLYOFFICE: ClientProfile(WopiClient.ONLYOFFICE, True, False, True, True),
}

# The save-conflict check's request headers (Collabora sends both names; ONLYOFFICE the legacy one).
SAVE_TIMESTAMP_HEADERS = ("X-COOL-WOPI-Timestamp", "X-LOOL-WOPI-Timestamp")

_COLLABORA_PAGES = ("cool.html", "loleaflet.html")
_COLLABORA_PATHS = ("/browser/", "/loleaflet/")


def detect_client(discovery: Discovery) -> WopiClient:
    """The client that published `discovery` (rules in the module docstring)."""
    paths = [urlsplit(action.urlsrc).path.lower() for action in discovery.actions]
    if any("/hosting/wopi/" in path for path in paths):
        return WopiClient.ONLYOFFICE
    if any(action.mime or action.app == "Capabilities" for action in discovery.actions):
        return WopiClient.COLLABORA
    if any(path.endswith(_COLLABORA_PAGES) or any(part in path for part in _COLLABORA_PATHS) for path in paths):
        return WopiClient.COLLABORA
    return WopiClient.OFFICE


def profile_for(setting: str, discovery: Discovery | None) -> ClientProfile:
    """The profile for the `wopi_client` setting ("auto", "office", "collabora" or "onlyoffice")."""
    if setting != "auto":
        return PROFILES[WopiClient(setting)]
    return PROFILES[detect_client(discovery) if discovery is not None else WopiClient.OFFICE]


def answers_last_modified(profile: ClientProfile, request_headers: Mapping[str, str]) -> bool:
    """Whether a PutFile / PutRelativeFile answers {"LastModifiedTime": ...}: for the clients that keep it, and for
    any request that carried X-COOL/X-LOOL-WOPI-Timestamp (only those clients send it). `request_headers` looks
    names up case-insensitively (Starlette's Headers)."""
    return profile.last_modified_in_responses or any(name in request_headers for name in SAVE_TIMESTAMP_HEADERS)


def extra_check_file_info(profile: ClientProfile, *, is_owner: bool, can_write: bool) -> dict[str, object]:
    """CheckFileInfo properties only this client reads. All are harmless to the others (the validator's schema
    allows additional properties); they are sent only to the client that uses them, to keep the document lean."""
    extra: dict[str, object] = {}
    if profile.collabora_properties:
        extra.update(
            {
                # Collabora shows UserExtraInfo's avatar and mail in the user list; this host knows neither.
                "UserExtraInfo": {},
                # Collabora's admin features (and the replacement for UserExtraInfo.is_admin): nobody here.
                "IsAdminUser": False,
                # Lets the owner close the document for every editor (e.g. after a bad change).
                "EnableOwnerTermination": is_owner and can_write,
            }
        )
    if profile.onlyoffice_properties:
        extra.update(
            {
                # Track changes: whoever may edit may also review.
                "SupportsReviewing": True,
                "UserCanReview": can_write,
                "UserCanOnlyComment": False,
            }
        )
    return extra
