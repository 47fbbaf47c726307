"""One-time messages shown after a form's redirect (post/redirect/get): what was done, or why it was not.

The message travels to the next page in a cookie, signed with HMAC(key, user, message) under a key derived from
the token key. Cookies are not private to an origin: a sibling host (`evil.example.org` beside
`docs.example.org`) can set one for us. Unsigned, such a cookie would make the file browser show any text of
theirs, in our page's voice; signed, a cookie we did not make, or made for another user, shows nothing. On an https
public URL the cookie is also Secure and named `__Host-` (host-only, Path=/), like the CSRF cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from wopi_frontend.settings import FrontendSettings
from wopi_frontend.types import Principal

Kind = Literal["ok", "error"]
MAX_TEXT = 500  # characters: at most 2 KB of UTF-8 in base64, well under browsers' 4 KB per cookie
MAX_AGE = 60  # seconds: the message is for the page the redirect leads to


@dataclass(frozen=True)
class FlashMessage:
    kind: Kind
    text: str


def _encode(data: bytes) -> str:
    # Unpadded: "=" is not a legal cookie character, and a quoted value is one more thing to get wrong.
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FlashCookie:
    def __init__(self, settings: FrontendSettings) -> None:
        self._key = hashlib.sha256(b"wopi-host flash\x00" + settings.token_key.encode()).digest()
        self._secure = settings.public_url.startswith("https:")
        # The __Host- prefix makes browsers refuse the cookie unless Secure, host-only and Path=/.
        self.cookie_name = "__Host-wopi_flash" if self._secure else "wopi_flash"

    def _mac(self, user: Principal, payload: bytes) -> bytes:
        return hmac.new(self._key, user.user_id.encode() + b"\x00" + payload, hashlib.sha256).digest()

    def set(self, response: Response, user: Principal, kind: Kind, text: str) -> None:
        """Leave `text` for `user`'s next page."""
        payload = json.dumps([kind, text[:MAX_TEXT]], ensure_ascii=False, separators=(",", ":")).encode()
        value = f"{_encode(payload)}.{_encode(self._mac(user, payload))}"
        response.set_cookie(
            self.cookie_name, value, max_age=MAX_AGE, path="/", httponly=True, samesite="lax", secure=self._secure
        )

    def read(self, request: Request, user: Principal) -> FlashMessage | None:
        """The message left for `user` by their last action; None without one, or when the cookie is not ours.
        The page that reads it must `clear` it."""
        encoded_payload, _, encoded_mac = request.cookies.get(self.cookie_name, "").partition(".")
        try:
            payload, mac = _decode(encoded_payload), _decode(encoded_mac)
        except ValueError:  # not base64 (binascii.Error is a ValueError), or not ASCII
            return None
        if not payload or not hmac.compare_digest(mac, self._mac(user, payload)):
            return None
        kind, text = json.loads(payload)  # ours, as signed: well-formed
        return FlashMessage(kind, text)

    def clear(self, request: Request, response: Response) -> None:
        """Delete the cookie, if the request had one (good or not: it is shown at most once)."""
        if self.cookie_name in request.cookies:
            response.delete_cookie(self.cookie_name, path="/", httponly=True, samesite="lax", secure=self._secure)


@lru_cache(maxsize=8)
def flash_for(settings: FrontendSettings) -> FlashCookie:
    """One per settings object (the app's settings never change while it runs)."""
    return FlashCookie(settings)
