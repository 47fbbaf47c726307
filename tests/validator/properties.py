"""The JSON property checks of JsonResponseContentValidator (JsonContentValidator.cs and the property part of
ValidatorFactory): BooleanProperty, IntegerProperty, LongProperty, StringProperty, StringRegexProperty,
AbsoluteUrlProperty, ArrayProperty, ResponseBodyProperty and ArrayLengthProperty.

Each check gets the token `SelectToken(Name)` found (MISSING when none) and the saved state, and returns
(valid, message) with the C# message. Values are compared after Newtonsoft's `Value<T>()` conversion.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from tests.validator import dotnet, jtoken
from tests.validator.cases import Spec
from tests.validator.jtoken import MISSING, ConversionError, ConversionFormatError

State = Mapping[str, str | None]


class JsonProperty:
    """IJsonPropertyValidator: a (key, value) check, where the value is the token `SelectToken(key)` found."""

    def __init__(self, key: str, is_required: bool) -> None:
        self.key = key
        self.is_required = is_required

    def check(self, value: Any, state: State) -> tuple[bool, str]:
        raise NotImplementedError


class EqualityProperty(JsonProperty):
    """JsonPropertyEqualityValidator<T>: required-ness, then ExpectedStateKey (if saved and non-empty) over
    ExpectedValue, then `Value<T>()` equality."""

    kind = "string"
    type_name = "System.String"

    def __init__(self, key: str, is_required: bool, expected: Any, has_expected: bool, state_key: str | None) -> None:
        super().__init__(key, is_required)
        self.expected = expected
        self.has_expected = has_expected
        self.state_key = state_key

    def check(self, value: Any, state: State) -> tuple[bool, str]:
        if jtoken.is_null_or_empty(value):
            return (False, "Required property missing") if self.is_required else (True, "")
        expected = self.expected
        from_state = False
        saved = state.get(self.state_key) if self.state_key is not None else None
        if saved:
            try:
                expected = jtoken.change_type(saved, self.kind)
                from_state = True
            except ConversionFormatError:
                if not self.has_expected:
                    return False, f"ExpectedStateValue should be of type : {self.type_name}"
        if not self.has_expected and not from_state:
            return True, ""
        valid, message = self.compare(value, expected)
        if from_state and not valid:
            message += f" (expected value from saved state '{self.state_key}': '{saved}')"
        return valid, message

    def compare(self, value: Any, expected: Any) -> tuple[bool, str]:
        try:
            typed = jtoken.convert(value, self.kind)
            formatted = jtoken.format_value(typed, self.kind)
            valid = typed == expected
        except ConversionFormatError:
            formatted = jtoken.as_string(value) or ""
            valid = False
        return valid, f"Expected: '{jtoken.format_value(self.expected, self.kind)}', Actual: '{formatted}'"


class BooleanProperty(EqualityProperty):
    kind = "bool"
    type_name = "System.Boolean"


class IntegerProperty(EqualityProperty):
    kind = "int"
    type_name = "System.Int32"


class LongProperty(EqualityProperty):
    kind = "long"
    type_name = "System.Int64"


class StringProperty(EqualityProperty):
    def __init__(self, *args: Any, ends_with: str | None = None, ignore_case: bool = False) -> None:
        super().__init__(*args)
        self.ends_with = ends_with
        self.ignore_case = ignore_case

    def _fold(self, text: str) -> str:
        return text.casefold() if self.ignore_case else text

    def check(self, value: Any, state: State) -> tuple[bool, str]:
        valid, message = super().check(value, state)
        if not valid:
            return False, message
        if not self.ends_with or not self.ends_with.strip():
            return True, ""
        if value is MISSING:  # the C# dereferences the missing token here
            return False, "NullReferenceException: the property is missing, so EndsWith cannot be checked"
        actual = jtoken.as_string(value) or ""
        if not self._fold(actual).endswith(self._fold(self.ends_with)):
            return False, f"Expected to end with: '{self.ends_with}', Actual: '{actual}'"
        return True, ""

    def compare(self, value: Any, expected: Any) -> tuple[bool, str]:
        if not self.ignore_case:
            return super().compare(value, expected)
        actual = jtoken.as_string(value) or ""
        valid = expected is not None and actual.casefold() == expected.casefold()
        return valid, f"Expected: '{expected} (case-insensitive)', Actual: '{actual}'"


class StringRegexProperty(JsonProperty):
    def __init__(self, key: str, is_required: bool, pattern: str, should_match: bool, ignore_case: bool) -> None:
        super().__init__(key, is_required)
        self.pattern = pattern
        self.regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
        self.should_match = should_match

    def check(self, value: Any, state: State) -> tuple[bool, str]:
        if value is MISSING and not self.is_required:
            return True, ""
        if value is MISSING:
            return False, "NullReferenceException: required property missing"
        actual = jtoken.as_string(value)
        if not actual:
            return False, f"Value null doesn't match the expected regular expression '{self.pattern}'"
        matched = self.regex.search(actual) is not None
        if self.should_match and not matched:
            return False, f"Value '{actual}' doesn't match the expected regular expression '{self.pattern}'"
        if not self.should_match and matched:
            return False, f"Value '{actual}' matched the regular expression, but should not '{self.pattern}'"
        return True, ""


class AbsoluteUrlProperty(JsonProperty):
    def __init__(self, key: str, is_required: bool, must_include_access_token: bool) -> None:
        super().__init__(key, is_required)
        self.must_include_access_token = must_include_access_token

    def check(self, value: Any, state: State) -> tuple[bool, str]:
        if jtoken.is_null_or_empty(value):
            return (False, "Value is required but not provided.") if self.is_required else (True, "")
        url = jtoken.as_string(value) or ""
        if not dotnet.is_absolute_uri(url):
            return False, f"Cannot parse {url} as absolute URL"
        if self.must_include_access_token and dotnet.get_query_parameter(url, "access_token") is None:
            return False, f"URL '{url}' does not include the 'access_token' query parameter"
        return True, ""


class ArrayProperty(EqualityProperty):
    """ContainsValue: the array (read as strings) contains the value, compared OrdinalIgnoreCase."""

    def compare(self, value: Any, expected: Any) -> tuple[bool, str]:
        if not isinstance(value, list) or any(isinstance(item, list | dict) for item in value):
            raise ConversionError(f"JsonSerializationException: cannot read {jtoken.type_name(value)} as List<string>")
        items = [jtoken.as_string(item) for item in value]
        valid = expected is not None and any(
            item is not None and item.casefold() == expected.casefold() for item in items
        )
        return valid, f"Expected: '{self.expected}', Actual: '{json.dumps(items)}'"


class ResponseBodyProperty(EqualityProperty):
    """The property deep-equals the relaxed-JSON ExpectedValue, "*" matching anything, arrays ordered by
    CoauthLockId (coauth tables)."""

    def check(self, value: Any, state: State) -> tuple[bool, str]:
        if value is MISSING:
            return (False, "Value is required but not provided.") if self.is_required else (True, "")
        expected = jtoken.relaxed_json(self.expected or "")
        wildcards: set[str] = set()
        _omit(expected, wildcards, replace=False)
        actual = json.loads(json.dumps(value))
        _omit(actual, wildcards, replace=True)
        expected, actual = _sorted(expected), _sorted(actual)
        if expected == actual:
            return True, ""
        return False, f"\nExpected: '{json.dumps(expected)}', \nActual: '{json.dumps(actual)}'"


def _omit(node: Any, wildcards: set[str], replace: bool) -> None:
    objects = (
        [node]
        if isinstance(node, dict)
        else [child for child in node if isinstance(child, dict)]
        if isinstance(node, list)
        else []
    )
    for obj in objects:
        for name in list(obj):
            if replace and name in wildcards:
                obj[name] = "*"
            elif obj[name] == "*":
                wildcards.add(name)
            _omit(obj[name], wildcards, replace)


def _sorted(node: Any) -> Any:
    if isinstance(node, list) and node:
        return sorted(node, key=lambda item: str(item.get("CoauthLockId")) if isinstance(item, dict) else "")
    return node


class ArrayLengthProperty(EqualityProperty):
    kind = "int"

    def check(self, value: Any, state: State) -> tuple[bool, str]:
        if value is MISSING:
            return (False, "Value is required but not provided.") if self.is_required else (True, "")
        if not isinstance(value, list):
            if self.is_required:
                return False, f"Value is of '{jtoken.type_name(value)}' type and is not an array type"
            return True, ""
        if len(value) == self.expected:
            return True, ""
        return False, f"Expected array to be of length '{self.expected}', Actual: '{len(value)}'"


# --- the factory ----------------------------------------------------------------------------------------------


def _bool_value(spec: Spec) -> bool:
    return spec.flag("ExpectedValue", False)


def _int_value(spec: Spec, bits: int) -> int:
    value = spec.get("ExpectedValue")
    return jtoken.parse_integer(value, bits) if value is not None else 0


def json_property(spec: Spec) -> JsonProperty:
    """ValidatorFactory.GetJsonPropertyValidator."""
    key = spec.get("Name") or ""
    expected = spec.get("ExpectedValue")
    has_expected = expected is not None
    required = spec.flag("IsRequired", False)
    state_key = spec.get("ExpectedStateKey")
    ignore_case = spec.flag("IgnoreCase", False)
    builders: dict[str, Callable[[], JsonProperty]] = {
        "BooleanProperty": lambda: BooleanProperty(key, required, _bool_value(spec), has_expected, state_key),
        "IntegerProperty": lambda: IntegerProperty(key, required, _int_value(spec, 32), has_expected, state_key),
        "LongProperty": lambda: LongProperty(key, required, _int_value(spec, 64), has_expected, state_key),
        "StringProperty": lambda: StringProperty(
            key, required, expected, has_expected, state_key, ends_with=spec.get("EndsWith"), ignore_case=ignore_case
        ),
        "StringRegexProperty": lambda: StringRegexProperty(
            key, required, expected or "", spec.flag("ShouldMatch", True), ignore_case
        ),
        "AbsoluteUrlProperty": lambda: AbsoluteUrlProperty(key, required, spec.flag("MustIncludeAccessToken", False)),
        "ArrayProperty": lambda: ArrayProperty(
            key, required, spec.get("ContainsValue"), spec.get("ContainsValue") is not None, state_key
        ),
        "ResponseBodyProperty": lambda: ResponseBodyProperty(key, required, expected, has_expected, state_key),
        "ArrayLengthProperty": lambda: ArrayLengthProperty(
            key, required, _int_value(spec, 32), has_expected, state_key
        ),
    }
    if spec.tag not in builders:
        raise ValueError(f"Unknown property type: '{spec.tag}'")
    return builders[spec.tag]()
