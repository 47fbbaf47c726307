"""The .NET behaviours the validator inherits and a WOPI host sees on the wire: how names are UTF-7 encoded,
how the access token is escaped into the URL, how query parameters are read back, what counts as an absolute
URL, and how a response body is read as text.

Each function names the .NET method it reproduces (wopi-validator-core's UrlHelper, System.Text.UTF7Encoding,
System.Web.HttpUtility, System.Uri, System.IO.StreamReader).
"""

from __future__ import annotations

import codecs
import re
import urllib.parse

_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# UTF7Encoding's directChars. Encoding.UTF7 is `new UTF7Encoding()`, allowOptionals=false, so the "optional
# direct" characters (!"#$%&*;<=>@[]^_`{|}) are base64-encoded: "_" becomes "+AF8-".
_DIRECT = frozenset("\t\n\r '(),-./0123456789:?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def utf7_encode(text: str) -> str:
    """`Encoding.UTF7.GetBytes(text)` as ASCII. Unlike Python's codec, .NET always closes a base64 run with
    "-", encodes "+" outside a run as "+-", and encodes each UTF-16 code unit (surrogates separately)."""
    units = text.encode("utf-16-le")
    out: list[str] = []
    bits = 0
    bit_count = -1  # -1: not in a base64 run
    for index in range(0, len(units), 2):
        unit = units[index] | (units[index + 1] << 8)
        char = chr(unit)
        if unit < 0x80 and char in _DIRECT:
            if bit_count >= 0:
                if bit_count > 0:
                    out.append(_BASE64[(bits << (6 - bit_count)) & 0x3F])
                out.append("-")
                bit_count = -1
            out.append(char)
        elif bit_count < 0 and char == "+":
            out.append("+-")
        else:
            if bit_count < 0:
                out.append("+")
                bit_count = 0
            bits = ((bits << 16) | unit) & 0xFFFFFFFF
            bit_count += 16
            while bit_count >= 6:
                bit_count -= 6
                out.append(_BASE64[(bits >> bit_count) & 0x3F])
    if bit_count >= 0:
        if bit_count > 0:
            out.append(_BASE64[(bits << (6 - bit_count)) & 0x3F])
        out.append("-")
    return "".join(out)


_URL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!*()")


def http_utility_url_encode_bytes(data: bytes) -> str:
    """`HttpUtility.UrlEncode(bytes)`: space becomes "+", the safe set stays, the rest is %xx (lower case)."""
    out = []
    for byte in data:
        char = chr(byte)
        if char == " ":
            out.append("+")
        elif char in _URL_SAFE:
            out.append(char)
        else:
            out.append(f"%{byte:02x}")
    return "".join(out)


def http_utility_url_encode(text: str | None) -> str | None:
    """`HttpUtility.UrlEncode(string)`, UTF-8."""
    return None if text is None else http_utility_url_encode_bytes(text.encode("utf-8", "surrogatepass"))


def http_utility_url_decode(text: str) -> str:
    """`HttpUtility.UrlDecode(string)`: "+" is a space, %XX are UTF-8 bytes, %uXXXX a UTF-16 unit."""
    out = bytearray()
    index = 0
    while index < len(text):
        char = text[index]
        if char == "+":
            out += b" "
        elif char == "%" and re.fullmatch(r"[0-9A-Fa-f]{2}", text[index + 1 : index + 3]):
            out.append(int(text[index + 1 : index + 3], 16))
            index += 2
        elif char == "%" and re.fullmatch(r"[uU][0-9A-Fa-f]{4}", text[index + 1 : index + 6]):
            out += chr(int(text[index + 2 : index + 6], 16)).encode("utf-8", "surrogatepass")
            index += 5
        else:
            out += char.encode("utf-8", "surrogatepass")
        index += 1
    return out.decode("utf-8", "replace")


def unescape_data_string(text: str) -> str:
    """`Uri.UnescapeDataString`: every valid %XX sequence decoded as UTF-8; "+" stays."""
    return urllib.parse.unquote(text)


def utf7_header(name: str) -> str:
    """UrlHelper.GetUTF7EncodedUnescapedDataString: `Uri.UnescapeDataString(HttpUtility.UrlEncode(name,
    Encoding.UTF7))`, used for X-WOPI-SuggestedTarget and X-WOPI-RelativeTarget. The round trip leaves the
    UTF-7 text, except that a space (a direct UTF-7 character) comes out as "+"."""
    if not name:
        return name
    return unescape_data_string(http_utility_url_encode_bytes(utf7_encode(name).encode("ascii")))


def utf7_raw(name: str) -> str:
    """`Encoding.UTF8.GetString(Encoding.UTF7.GetBytes(name))`, used for X-WOPI-RequestedName."""
    return utf7_encode(name)


def url_key_value_encode(value: str | None) -> str | None:
    """UrlHelper.UrlKeyValueEncode, the "aggressive" encoder used for access_token in URLs built from the
    WopiSrc: every character but [0-9A-Za-z] becomes %XX (upper case) of its UTF-8 bytes. A lone surrogate
    is dropped, as the C# does (fInvalidUnicode)."""
    if not value:
        return value
    out = []
    index = 0
    while index < len(value):
        char = value[index]
        code = ord(char)
        if char.isascii() and char.isalnum():
            out.append(char)
        elif code < 0xD800 or code > 0xDFFF:
            out.extend(f"%{byte:02X}" for byte in char.encode("utf-8"))
        elif code <= 0xDBFF and index + 1 < len(value) and 0xDC00 <= ord(value[index + 1]) <= 0xDFFF:
            pair = (value[index] + value[index + 1]).encode("utf-16-le", "surrogatepass").decode("utf-16-le")
            out.extend(f"%{byte:02X}" for byte in pair.encode("utf-8"))
            index += 1
        index += 1
    return "".join(out)


def _param_index(url: str, name: str) -> int:
    lowered = url.lower()
    for prefix in ("?", "&"):
        found = lowered.find(prefix + name.lower() + "=")
        if found != -1:
            return found
    return -1


def get_query_parameter(url: str | None, name: str) -> str | None:
    """UrlHelper.GetQueryParameterValue: the first `?name=` (else `&name=`) anywhere in the string, case-
    insensitively, up to the next & or #, URL-decoded; None when absent."""
    if url is None:
        return None
    start = _param_index(url, name)
    if start == -1:
        return None
    value_start = start + len(name) + 2
    end = min((i for i in (url.find("&", value_start), url.find("#", value_start)) if i != -1), default=len(url))
    return http_utility_url_decode(url[value_start:end])


def append_or_replace_query_parameter(url: str, name: str, value: str | None) -> str:
    """UrlHelper.AppendOrReplaceQueryParameter (HttpUtility.UrlEncode of name and value)."""
    encoded_name = http_utility_url_encode(name) or ""
    encoded_value = http_utility_url_encode(value) or ""
    start = _param_index(url, encoded_name)
    if start != -1:
        value_start = start + len(encoded_name) + 2
        ends = [i for i in (url.find("&", value_start), url.find("#", value_start)) if i != -1]
        rest = url[min(ends) :] if ends else ""
        return url[: start + 1] + encoded_name + "=" + encoded_value + rest
    prefix = "&" if "?" in url else "?"
    hash_at = url.find("#")
    if hash_at == -1:
        return f"{url}{prefix}{encoded_name}={encoded_value}"
    return f"{url[:hash_at]}{prefix}{encoded_name}={encoded_value}{url[hash_at:]}"


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(.*)", re.DOTALL)
_AUTHORITY_SCHEMES = frozenset({"http", "https", "ftp", "ws", "wss", "file", "net.tcp", "net.pipe", "gopher", "nntp"})
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^\s/?#@:\[\]\\]*)(?::(\d*))?")


def is_absolute_uri(value: str) -> bool:
    """`Uri.TryCreate(value, UriKind.Absolute, out _)`, approximately: a scheme of two or more characters; for
    the schemes .NET parses with an authority, "//" and a well-formed host and port. .NET escapes stray
    characters in the path and query itself, so those do not make a URL invalid. Deviation: .NET also
    accepts implicit file paths ("C:\\x", "\\\\server\\share", and "/x" on Unix); they are refused here."""
    text = value.strip(" \t\r\n\f\v")
    match = _SCHEME.fullmatch(text)
    if match is None or len(match.group(1)) < 2:
        return False
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme not in _AUTHORITY_SCHEMES:
        return bool(rest) or scheme in ("mailto", "news", "urn")
    rest = rest.replace("\\", "/")
    if not rest.startswith("//"):
        return False
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
    host_port = authority.rsplit("@", 1)[-1]
    host = _HOST.fullmatch(host_port)
    if host is None:
        return False
    if not host.group(1):
        return scheme == "file"
    port = host.group(2)
    return port is None or port == "" or (port.isdigit() and int(port) <= 65535)


def read_text(body: bytes) -> str:
    """`new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true).ReadToEnd()`."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return body[len(bom) :].decode(encoding, "replace")
    return body.decode("utf-8", "replace")
