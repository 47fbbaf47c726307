"""The Newtonsoft.Json behaviours the validator's JSON checks rely on: `JObject.Load`, `SelectToken`, and the
conversions of `JToken.Value<T>()` (a JSON string "true" reads as a boolean, 1.0 as an integer, and so on)."""

from __future__ import annotations

import json
import math
import re
from typing import Any


class Missing:
    """`SelectToken` found nothing (C# null), as opposed to a JSON null."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING = Missing()


class JsonFailure(Exception):
    """Newtonsoft's JsonReaderException / JsonException."""


class ConversionFormatError(Exception):
    """System.FormatException from Convert.ChangeType: the validators catch it and report a mismatch."""


class ConversionError(Exception):
    """An InvalidCastException / OverflowException: the C# validators do not catch these (the run would
    crash); the interpreter reports them as validation failures instead."""


def parse_object(text: str) -> dict[str, Any]:
    """`JObject.Load` (DateParseHandling.None): the document must be a JSON object."""
    try:
        value = json.loads(text)
    except ValueError as error:
        raise JsonFailure(f"JsonReaderException: {error}") from None
    if not isinstance(value, dict):
        raise JsonFailure(
            f"JsonReaderException: Error reading JObject from JsonReader. Current JsonReader item is {type_name(value)}"
        )
    return value


def type_name(value: Any) -> str:
    """The JTokenType name of a value."""
    if value is None:
        return "Null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    return "Object"


_SEGMENT = re.compile(r"\.?([^.\[\]]+)|\[\s*(-?\d*)\s*(?::\s*(-?\d*)\s*)?\]|\['([^']*)'\]")


def select_token(root: Any, path: str) -> Any:
    """`JToken.SelectToken(path)` for the paths the suite uses (`Name`, `A.B`, `List[0]`, `List[-1:].Url`):
    MISSING when nothing matches, JsonFailure when the path matches several tokens."""
    current: list[Any] = [root]
    position = 0
    while position < len(path):
        match = _SEGMENT.match(path, position)
        if match is None or match.end() == position:
            raise JsonFailure(f"JsonException: Unexpected character while parsing path: {path[position:]!r}")
        position = match.end()
        name = match.group(1) if match.group(1) is not None else match.group(4)
        following: list[Any] = []
        for token in current:
            if name is not None:
                if isinstance(token, dict) and name in token:
                    following.append(token[name])
            elif isinstance(token, list):
                start, stop, is_slice = match.group(2), match.group(3), ":" in match.group(0)
                if is_slice:
                    following.extend(token[int(start) if start else None : int(stop) if stop else None])
                elif start:
                    index = int(start)
                    if -len(token) <= index < len(token) and index >= 0:
                        following.append(token[index])
        current = following
    if not current:
        return MISSING
    if len(current) > 1:
        raise JsonFailure("JsonException: Path returned multiple tokens.")
    return current[0]


def is_null_or_empty(value: Any) -> bool:
    """JsonPropertyValidator.IsActualValueNullOrEmpty: absent, null, "", [] or {}."""
    return value is MISSING or value is None or value in ("", [], {})


def dotnet_double(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def as_string(value: Any) -> str | None:
    """`Value<string>()`."""
    if value is None or value is MISSING:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return dotnet_double(value)
    if isinstance(value, str):
        return value
    raise ConversionError(f"Cannot cast {type_name(value)} to a string value")


def parse_bool(text: str) -> bool:
    """`bool.Parse` (what Convert.ChangeType uses for strings)."""
    stripped = text.strip(" \t\r\n\x00")
    if stripped.lower() == "true":
        return True
    if stripped.lower() == "false":
        return False
    raise ConversionFormatError(f"String '{text}' was not recognized as a valid Boolean.")


_INTEGER = re.compile(r"[ \t\r\n\f\v]*[+-]?\d+[ \t\r\n\f\v]*")


def parse_integer(text: str, bits: int) -> int:
    """`int.Parse` / `long.Parse` with NumberStyles.Integer."""
    if not _INTEGER.fullmatch(text):
        raise ConversionFormatError(f"The input string '{text}' was not in a correct format.")
    return _checked(int(text.strip()), bits)


def _checked(number: int, bits: int) -> int:
    if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        raise ConversionError(f"Value was either too large or too small for an Int{bits}.")
    return number


def as_bool(value: Any) -> bool:
    """`Value<bool>()`."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return parse_bool(value)
    raise ConversionError(f"Cannot convert {type_name(value)} to Boolean")


def as_integer(value: Any, bits: int) -> int:
    """`Value<int>()` (bits=32) and `Value<long>()` (bits=64)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return _checked(value, bits)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ConversionError(f"Value was either too large or too small for an Int{bits}.")
        return _checked(round(value), bits)  # Convert.ToInt32/64 round half to even, as Python's round
    if isinstance(value, str):
        return parse_integer(value, bits)
    raise ConversionError(f"Cannot convert {type_name(value)} to Int{bits}")


def convert(value: Any, kind: str) -> Any:
    """`Value<T>()` for the kinds the property validators compare: string, bool, int, long."""
    if kind == "string":
        return as_string(value)
    if kind == "bool":
        return as_bool(value)
    if kind == "int":
        return as_integer(value, 32)
    if kind == "long":
        return as_integer(value, 64)
    raise ValueError(kind)


def change_type(text: str, kind: str) -> Any:
    """`Convert.ChangeType(savedState[key], typeof(T))`: a saved (string) state value read as T."""
    if kind == "string":
        return text
    if kind == "bool":
        return parse_bool(text)
    return parse_integer(text, 32 if kind == "int" else 64)


def format_value(value: Any, kind: str) -> str:
    """How the C# formats a typed value in its messages (bool.ToString is "True"/"False")."""
    if kind == "bool":
        return "True" if value else "False"
    return "" if value is None else str(value)


def relaxed_json(text: str) -> Any:
    """`JToken.Parse` of the suite's relaxed JSON (single quotes, unquoted property names), as used by
    ResponseBodyProperty: `[{CoauthLockId:'Client1', ...}]`."""
    converted = re.sub(r"'((?:[^'\\]|\\.)*)'", lambda m: json.dumps(m.group(1)), text)
    converted = re.sub(r"([{,]\s*)([A-Za-z_][A-Za-z0-9_]*)\s*:", r'\1"\2":', converted)
    try:
        return json.loads(converted)
    except ValueError as error:
        raise JsonFailure(f"JsonReaderException: {error}") from None
