"""The validators of wopi-validator-core (src/WopiValidator.Core/Validators) and ValidatorFactory.

A request whose definition has no `<Validators>` element is checked by the default ResponseCodeValidator(200);
one that has it is checked by exactly what it lists, plus the ExceptionValidator. Every response is also
checked by the mandatory ContentLengthValidator. A validator returns its error messages; none means it passed.
The messages are the C# ones.
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Protocol

import jsonschema

from tests.validator import dotnet, jtoken
from tests.validator.cases import Resource, Spec
from tests.validator.jtoken import ConversionError, ConversionFormatError, JsonFailure
from tests.validator.properties import JsonProperty, json_property
from tests.validator.requests import Response

State = Mapping[str, str | None]


class Validator(Protocol):
    name: str

    def validate(self, response: Response, resources: Mapping[str, Resource], state: State) -> list[str]: ...


class ExceptionValidator:
    """A transport failure (wrapped as status 306 with X-WOPI-ValidatorError) fails the request."""

    name = "ExceptionValidator"

    def validate(self, response: Response, resources: Mapping[str, Resource], state: State) -> list[str]:
        if response.status == 306 and "X-WOPI-ValidatorError" in response.headers:
            return [response.headers["X-WOPI-ValidatorError"]]
        return []


class ContentLengthValidator:
    """Mandatory on every request: a Content-Length header, when present, must match the body."""

    name = "ContentLengthValidator"

    def validate(self, response: Response, resources: Mapping[str, Resource], state: State) -> list[str]:
        declared = response.headers.get("Content-Length")
        if declared is None:
            return []
        try:
            expected = jtoken.parse_integer(declared, 32)
        except (ConversionFormatError, ConversionError) as error:
            return [f"Content-Length '{declared}' cannot be read (Int32.Parse: {error})"]
        if len(response.body) != expected:
            return [
                f"Actual content length '{len(response.body)}' of response does not match value in header "
                f"content-length '{expected}'"
            ]
        return []


class ResponseCodeValidator:
    name = "ResponseCodeValidator"

    def __init__(self, expected: int) -> None:
        self.expected = expected

    def validate(self, response: Response, resources: Mapping[str, Resource], state: State) -> list[str]:
        if response.status == self.expected:
            return []
        return [f"Incorrect StatusCode. Expected: {self.expected}, Actual: {response.status}"]


class ResponseHeaderValidator:
    name = "ResponseHeaderValidator"

    def __init__(
        self,
        header: str,
        expected: str | None,
        expected_state_key: str | None,
        comparator: str | None = "=",
        is_required: bool = True,
        should_match: bool = True,
    ) -> None:
        self.header = header
        self.expected = expected
        self.expected_state_key = expected_state_key
        self.comparator = comparator if comparator and comparator.strip() else "="
        self.is_required = is_required
        self.should_match = should_match

    def validate(self, response: Response, resources: Mapping[str, Resource], state: State) -> list[str]:
        if self.header not in response.headers:
            return [f"'{self.header}' header is not present on the response"] if self.is_required else []
        value = response.headers[self.header]
        key = self.expected_state_key
        expected = state[key] if key is not None and state.get(key) else self.expected
        if self.comparator == "=":
            return self._equal(value, expected)
        if self.comparator in ("<", "<=", ">", ">="):
            return self._compare(value, expected)
        return [f"Comparator '{self.comparator}' is not valid"]

    def _equal(self, value: str, expected: str | None) -> list[str]:
        if expected is None:
            return []
        if not self.should_match and not value and expected == "":
            return [f"'{self.header}' header value should be any non empty string."]
        matches = value.casefold() == expected.casefold()  # String.Equals(..., OrdinalIgnoreCase)
        if self.should_match and not matches:
            return [
                f"'{self.header}' header value is different than expected. Expected: '{expected}', Actual: '{value}'"
            ]
        if not self.should_match and matches:
            return [f"'{self.header}' header value should not be : '{expected}'"]
        return []

    def _compare(self, value: str, expected: str | None) -> list[str]:
        try:
            actual = jtoken.parse_integer(value, 32)
        except (ConversionFormatError, ConversionError):
            return [f"'{self.header}' header is present, but its value '{value}' can not be parsed to integer"]
        try:
            wanted = jtoken.parse_integer(expected or "", 32)
        except (ConversionFormatError, ConversionError):
            return [f"expected value '{expected}' can not be parsed to integer"]
        holds = {
            "<": actual < wanted,
            "<=": actual <= wanted,
            ">": actual > wanted,
            ">=": actual >= wanted,
        }[self.comparator]
        return [] if holds else [f"headerVal:{actual} {self.comparator} comparedValue:{wanted} comparison failed"]


class AndValidator:
    name = "And"

    def __init__(self, validators: Sequence[Validator]) -> None:
        self.validators = list(validators)

    def validate(self, response: Response, resources: Mapping[str, Resource], state: State) -> list[str]:
        return [error for validator in self.validators for error in validator.validate(response, resources, state)]


class OrValidator:
    name = "Or"

    def __init__(self, validators: Sequence[Validator]) -> None:
        self.validators = list(validators)

    def validate(self, response: Response, resources: Mapping[str, Resource], state: State) -> list[str]:
        results = [validator.validate(response, resources, state) for validator in self.validators]
        if any(not errors for errors in results):
            return []
        return [error for errors in results for error in errors]


def lock_mismatch_validator(expected_lock: str) -> AndValidator:
    """LockMismatchValidator: 409, and X-WOPI-Lock equal to the expected lock (required unless it is "")."""
    validator = AndValidator(
        [
            ResponseCodeValidator(409),
            ResponseHeaderValidator("X-WOPI-Lock", expected_lock, None, is_required=bool(expected_lock)),
        ]
    )
    validator.name = "LockMismatchValidator"
    return validator


class ResponseContentValidator:
    """The body must equal a resource's content (ExpectedResourceId) or ExpectedBodyContent (UTF-8)."""

    name = "ResponseContentValidator"

    def __init__(self, resource_id: str | None, body: str | None) -> None:
        if resource_id and body:
            raise ValueError("Both expectedBodyContent and resourceId are not null/empty.")
        self.resource_id = resource_id
        self.body = body

    def validate(self, response: Response, resources: Mapping[str, Resource], state: State) -> list[str]:
        if self.body:
            expected = self.body.encode("utf-8")
        elif self.resource_id and self.resource_id in resources:
            expected = resources[self.resource_id].content
        else:
            return [f"ArgumentException: Resource with resourceId '{self.resource_id}' doesn't exist."]
        if response.body == expected:
            return []
        return [
            "Response body does not match expected content. "
            f"Expected stream length: {len(expected)}, actual stream length: {len(response.body)}"
        ]


class FramesValidator:
    """Incremental file transfer frames: not implemented by this interpreter (its groups need WOPI+)."""

    name = "FramesValidator"

    def validate(self, response: Response, resources: Mapping[str, Resource], state: State) -> list[str]:
        return ["FramesValidator: not implemented by this interpreter (incremental file transfer)"]


# --- JSON schemas ---------------------------------------------------------------------------------------------

_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    """NJsonSchema's "uri": `Uri.TryCreate(value, UriKind.Absolute)`."""
    return not isinstance(value, str) or dotnet.is_absolute_uri(value)


@_FORMATS.checks("date-time")
def _is_date_time(value: object) -> bool:
    """NJsonSchema's "date-time": `DateTime.TryParse`, approximated by ISO 8601 and RFC 1123 dates."""
    if not isinstance(value, str):
        return True
    text = value.strip()
    try:
        datetime.fromisoformat(text)
        return True
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text) is not None
    except (TypeError, ValueError, IndexError):
        return False


# jsonschema keyword -> NJsonSchema ValidationErrorKind, spaced as the C# prints it
_KINDS = {
    "required": "Property Required",
    "oneOf": "Not One Of",
    "anyOf": "Not Any Of",
    "allOf": "Not All Of",
    "not": "Excluded Schema Validates",
    "enum": "Not In Enumeration",
    "maxLength": "String Too Long",
    "minLength": "String Too Short",
    "minimum": "Number Too Small",
    "maximum": "Number Too Big",
    "pattern": "Pattern Mismatch",
    "additionalProperties": "Unknown Properties",
    "items": "Array Item Not Valid",
}
_TYPE_KINDS = {"string": "String", "integer": "Integer", "boolean": "Boolean", "array": "Array", "object": "Object"}
_FORMAT_KINDS = {"uri": "Uri Expected", "date-time": "Date Time Expected"}


@cache
def _load_schema(path: Path) -> jsonschema.Draft4Validator:
    schema = json.loads(path.read_text(encoding="utf-8-sig"))
    return jsonschema.Draft4Validator(schema, format_checker=_FORMATS)


class JsonSchemaValidator:
    name = "JsonSchemaValidator"

    def __init__(self, schema_id: str, schemas: Path) -> None:
        path = schemas / f"{schema_id}.json"
        if not path.is_file():
            raise ValueError(f"Schema with ID '{schema_id}' not found.")
        self.schema_id = schema_id
        self.checker = _load_schema(path)

    def validate(self, response: Response, resources: Mapping[str, Resource], state: State) -> list[str]:
        text = response.text
        if not response.is_text:
            return [
                "NotSupportedException: The JsonSchemaValidator can only be used on requests that have a JSON response."
            ]
        if not text:
            return ["Couldn't read response content."]
        try:
            document = json.loads(text)
        except ValueError as error:
            return [f"Invalid JSON: {error}"]
        grouped: dict[str, list[str]] = {}
        for error in sorted(self.checker.iter_errors(document), key=lambda e: list(e.absolute_path)):
            grouped.setdefault(_kind(error), []).append(_property(error))
        return [f"{kind}: {', '.join(properties)}" for kind, properties in grouped.items()]


def _kind(error: jsonschema.ValidationError) -> str:
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, str) else "/".join(error.validator_value)
        return f"{_TYPE_KINDS.get(wanted, wanted.title())} Expected"
    if error.validator == "format":
        return _FORMAT_KINDS.get(str(error.validator_value), "Format Not Valid")
    return _KINDS.get(str(error.validator), str(error.validator))


def _property(error: jsonschema.ValidationError) -> str:
    if error.validator == "required":
        match = re.match(r"'(.*)' is a required property", error.message)
        if match:
            return match.group(1)
    path = ".".join(str(part) for part in error.absolute_path)
    return f"{path} ({error.message})" if path else error.message


class JsonResponseContentValidator:
    name = "JsonContentValidator"

    def __init__(self, properties: Sequence[JsonProperty], should_exist: bool = True) -> None:
        self.properties = list(properties)
        self.should_exist = should_exist

    def validate(self, response: Response, resources: Mapping[str, Resource], state: State) -> list[str]:
        text = response.text
        if not response.is_text or not text:
            return ["Response body should exist, but couldn't read resource content."] if self.should_exist else []
        if not self.should_exist:
            return ["Response body shouldn't exist."]
        try:
            document = jtoken.parse_object(text)
            errors = []
            for prop in self.properties:
                value = jtoken.select_token(document, prop.key)
                try:
                    valid, message = prop.check(value, state)
                except ConversionError as error:
                    valid, message = False, f"{error} (the C# validator throws here)"
                if not valid:
                    errors.append(f"Incorrect value for '{prop.key}' property. {message}")
            return errors
        except JsonFailure as error:
            if str(error).startswith("JsonReaderException"):
                return [
                    f"{self.name}: JsonReaderException thrown while parsing JSON. Are you sure the response is JSON?"
                ]
            return [f"{self.name}: JsonException thrown while parsing JSON content: '{error}'"]


# --- the factory ----------------------------------------------------------------------------------------------


def validator(spec: Spec, schemas: Path) -> Validator:
    """ValidatorFactory.GetValidator."""
    tag = spec.tag
    if tag == "And":
        return AndValidator([validator(child, schemas) for child in spec.children])
    if tag == "Or":
        return OrValidator([validator(child, schemas) for child in spec.children])
    if tag == "LockMismatchValidator":
        return lock_mismatch_validator(spec.get("ExpectedLock") or "")
    if tag == "ResponseCodeValidator":
        return ResponseCodeValidator(jtoken.parse_integer(spec.get("ExpectedCode") or "", 32))
    if tag == "ResponseHeaderValidator":
        return ResponseHeaderValidator(
            spec.get("Header") or "",
            spec.get("ExpectedValue"),
            spec.get("ExpectedStateKey"),
            spec.get("Comparator"),
            spec.flag("IsRequired", True),
            spec.flag("ShouldMatch", True),
        )
    if tag == "JsonResponseContentValidator":
        return JsonResponseContentValidator(
            [json_property(child) for child in spec.children], spec.flag("ShouldExist", True)
        )
    if tag == "JsonSchemaValidator":
        return JsonSchemaValidator(spec.get("Schema") or "", schemas)
    if tag == "ResponseContentValidator":
        return ResponseContentValidator(spec.get("ExpectedResourceId"), spec.get("ExpectedBodyContent"))
    if tag == "FramesValidator":
        return FramesValidator()
    raise ValueError(f"Unknown validator: '{tag}'")


def for_request(specs: tuple[Spec, ...] | None, schemas: Path) -> list[Validator]:
    """RequestFactory: the default ResponseCodeValidator(200) without <Validators>; else the ExceptionValidator
    and the listed ones."""
    if specs is None:
        return [ResponseCodeValidator(200)]
    return [ExceptionValidator(), *(validator(spec, schemas) for spec in specs)]


MANDATORY: tuple[Validator, ...] = (ContentLengthValidator(),)
