"""Names in WOPI headers (X-WOPI-SuggestedTarget, X-WOPI-RelativeTarget, X-WOPI-RequestedName) are UTF-7."""

from __future__ import annotations


class InvalidName(ValueError):
    pass


def decode(header: str) -> str:
    """Decode a UTF-7 header value. A value that is not ASCII is raw UTF-8 from a client that does not encode
    (Starlette hands header bytes over as latin-1); one that does not decode as UTF-7 is taken as it is (a client
    that sent `C++.docx` unencoded). Python's decoder lets some invalid input through as lone surrogates: those
    are refused, never stored."""
    try:
        decoded = header.encode("ascii").decode("utf-7")
    except UnicodeDecodeError:
        decoded = header
    except UnicodeEncodeError:
        try:
            decoded = header.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            decoded = header
    try:
        decoded.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidName("the name is not valid UTF-7 (it decodes to a lone surrogate)") from None
    return decoded


def encode(name: str) -> str:
    """For X-WOPI-ValidRelativeTarget: UTF-7, which is plain ASCII for plain ASCII names."""
    return name.encode("utf-7").decode("ascii")
