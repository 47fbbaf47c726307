"""Microsoft's WOPI validator suite (`TestCases.xml`, wopi-validator-core 2.0.6) parsed into plain dataclasses.

The files are read from the shared folder, never copied into the repository: `WOPI_VALIDATOR_CASES` names the
XML file, else `$WOPI_SHARED_DIR/wopi/validator/TestCases.xml`, `WOPI_SHARED_DIR` defaulting to the `shared`
folder beside the repository. The JSON schemas are the `JsonSchemas/` folder beside the XML file.

Parsing follows the C# factories (ConfigParser, TestCaseFactory, RequestFactory, ValidatorFactory,
StateFactory): a request without a `<Validators>` element gets the default validator (status 200); a request
with one gets exactly the validators listed (plus the implicit exception check), no status check of its own.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]

# TestCaseFactory.DoesTestCategoryMatchTargetTestCategory: the CLI's default `-e All` takes every case.
CATEGORIES = ("All", "WopiCore", "OfficeOnline", "OfficeNativeClient", "WopiCoauth")


def shared_dir() -> Path:
    return Path(os.environ.get("WOPI_SHARED_DIR", REPOSITORY.parent / "shared"))


def cases_path() -> Path:
    override = os.environ.get("WOPI_VALIDATOR_CASES")
    return Path(override) if override else shared_dir() / "wopi" / "validator" / "TestCases.xml"


def schemas_dir(cases: Path) -> Path:
    beside = cases.parent / "JsonSchemas"
    return beside if beside.is_dir() else shared_dir() / "wopi" / "validator" / "JsonSchemas"


@dataclass(frozen=True)
class Resource:
    """A `<File>` resource. Its content is not a real document: ResourceManager writes the string
    ResourceId + FilePath + Name (UTF-8, no BOM) as the content, except for `ZeroByteFile.wopitest`, empty."""

    id: str
    name: str
    file_path: str

    @property
    def content(self) -> bytes:
        if self.name == "ZeroByteFile.wopitest":
            return b""
        return (self.id + self.file_path + self.name).encode("utf-8")


@dataclass(frozen=True)
class Spec:
    """A validator, property or nested element as written in the XML: tag, attributes, children, text."""

    tag: str
    attrs: dict[str, str]
    children: tuple[Spec, ...] = ()
    text: str = ""

    def get(self, name: str) -> str | None:
        return self.attrs.get(name)

    def flag(self, name: str, default: bool) -> bool:
        """`(bool?)definition.Attribute(name) ?? default`: XML booleans are true/false/1/0."""
        value = self.attrs.get(name)
        if value is None:
            return default
        value = value.strip()
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        raise ValueError(f"{self.tag}: {name}={value!r} is not an xs:boolean")


@dataclass(frozen=True)
class StateSpec:
    name: str
    source: str
    source_type: str  # "JsonBody" (the default) or "Header"


@dataclass(frozen=True)
class RequestSpec:
    kind: str  # the element name: CheckFileInfo, Lock, PutRelativeFile, ...
    attrs: dict[str, str]
    validators: tuple[Spec, ...] | None  # None: no <Validators> element, so the default (200) applies
    state: tuple[StateSpec, ...] = ()
    mutators: tuple[Spec, ...] = ()
    body: str | None = None  # <RequestBody>, when present and not empty

    def get(self, name: str) -> str | None:
        return self.attrs.get(name)


@dataclass(frozen=True)
class TestCase:
    name: str
    category: str
    description: str
    requests: tuple[RequestSpec, ...]
    cleanup: tuple[RequestSpec, ...] | None
    fail_message: str | None = None


@dataclass(frozen=True)
class TestGroup:
    name: str
    prereqs: tuple[str, ...]
    cases: tuple[TestCase, ...]
    has_delay: bool = False


@dataclass(frozen=True)
class Suite:
    path: Path
    resources: dict[str, Resource]
    prereq_cases: dict[str, TestCase]
    groups: tuple[TestGroup, ...] = field(default=())

    def group(self, name: str) -> TestGroup:
        for group in self.groups:
            if group.name == name:
                return group
        raise KeyError(name)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _spec(element: ET.Element) -> Spec:
    return Spec(
        _local(element.tag),
        dict(element.attrib),
        tuple(_spec(child) for child in element),
        "".join(element.itertext()),
    )


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def condense(text: str) -> str:
    """TestCaseFactory.CondenseMultiLineString: trim every line, single newlines become spaces."""
    text = re.sub(r"^[ \t]+|[ \t]+$", "", text.strip(), flags=re.MULTILINE)
    text = re.sub(r"(\r\n){2,}|\n{2,}", "|-DOUBLE-|", text)
    text = re.sub(r"(\r\n)+|\n+", " ", text)
    return text.replace("|-DOUBLE-|", "\n")


def _request(element: ET.Element) -> RequestSpec:
    validators = _child(element, "Validators")
    state = _child(element, "SaveState")
    mutators = _child(element, "Mutators")
    body = _child(element, "RequestBody")
    body_text = "".join(body.itertext()) if body is not None else ""
    return RequestSpec(
        kind=_local(element.tag),
        attrs=dict(element.attrib),
        validators=None if validators is None else tuple(_spec(child) for child in validators),
        state=()
        if state is None
        else tuple(
            StateSpec(
                entry.get("Name", ""),
                entry.get("Source", ""),
                # StateFactory: an unknown SourceType silently means JsonBody
                "Header" if (entry.get("SourceType") or "").lower() == "header" else "JsonBody",
            )
            for entry in state
        ),
        mutators=() if mutators is None else tuple(_spec(child) for child in mutators),
        body=body_text or None,
    )


def _test_case(element: ET.Element) -> TestCase:
    name = element.get("Name", "")
    category = element.get("Category") or ""
    if not category:
        raise ValueError(f"The category of {name} TestCase is empty")
    if category.lower() not in (known.lower() for known in CATEGORIES):
        raise ValueError(f"The category of {name} TestCase is invalid")
    requests = _child(element, "Requests")
    cleanup = _child(element, "CleanupRequests")
    description = _child(element, "Description")
    return TestCase(
        name=name,
        category=category,
        description=condense("".join(description.itertext())) if description is not None else "",
        requests=tuple(_request(child) for child in requests) if requests is not None else (),
        cleanup=None if cleanup is None else tuple(_request(child) for child in cleanup),
        fail_message=element.get("FailMessage"),
    )


def _matches(case: ET.Element, category: str) -> bool:
    own = (case.get("Category") or "").lower()
    return category.lower() == "all" or own == "wopicore" or own == category.lower()


def load_suite(path: Path | None = None, category: str = "All") -> Suite:
    path = path or cases_path()
    root = ET.parse(path).getroot()
    resources_element = _child(root, "Resources")
    resources = {
        file.get("Id", ""): Resource(file.get("Id", ""), file.get("Name", ""), file.get("FilePath", ""))
        for file in (_children(resources_element, "File") if resources_element is not None else [])
    }
    prereq_element = _child(root, "PrereqCases")
    prereqs = {
        case.name: case
        for case in (
            _test_case(element)
            for element in (_children(prereq_element, "TestCase") if prereq_element is not None else [])
            if _matches(element, category)
        )
    }
    groups = []
    for group in _children(root, "TestGroup"):
        names_element = _child(group, "PrereqTests")
        prereq_names = tuple(
            (entry.text or "")
            for entry in (_children(names_element, "PrereqTest") if names_element is not None else [])
        )
        cases_element = _child(group, "TestCases")
        cases = tuple(
            _test_case(element)
            for element in (_children(cases_element, "TestCase") if cases_element is not None else [])
            if _matches(element, category)
        )
        groups.append(
            TestGroup(
                name=group.get("Name", ""),
                prereqs=prereq_names,
                cases=cases,
                has_delay=(group.get("HasDelay") or "").strip() in ("true", "1"),
            )
        )
    return Suite(path, resources, prereqs, tuple(groups))
