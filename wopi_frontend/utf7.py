"""Names in WOPI headers (X-WOPI-SuggestedTarget, X-WOPI-RelativeTarget, X-WOPI-RequestedName) are UTF-7."""

from __future__ import annotations


class InvalidName(ValueError):
    pass


def decode(header: str) -> str:
    """Decode a UTF-7 header value. A value that is not ASCII is taken as it is (some clients send UTF-8).
    Python's decoder lets some invalid input through as lone surrogates: those are refused, never stored."""
    try:
        raw = header.encode("ascii")
    except UnicodeEncodeError:
        decoded = header
    else:
        try:
            decoded = raw.decode("utf-7")
        except UnicodeDecodeError:
            raise InvalidName("the name is not valid UTF-7") from None
    try:
        decoded.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidName("the name is not valid UTF-7 (it decodes to a lone surrogate)") from None
    return decoded


def encode(name: str) -> str:
    """For X-WOPI-ValidRelativeTarget: UTF-7, which is plain ASCII for plain ASCII names."""
    return name.encode("utf-7").decode("ascii")
