"""Running the suite as the validator CLI does (Program.Execute, TestCaseExecutor): groups in file order, all
against the same `.wopitest` file.

For every test case the group's prerequisite cases run first, in order; the first one that does not pass
makes the case *Skipped* ("Prerequisites failed"), and the later prerequisites are not run. A case then runs
its requests in order with a fresh saved state (`OriginalAccessToken`, `OriginalWopiSrc`). After each request
the mandatory ContentLengthValidator and the request's validators run; the request's SaveState entries are
saved (even when validation failed); the first request with a validation failure fails the case and ends it.
The CleanupRequests always run afterwards, unvalidated, their errors swallowed.
"""

from __future__ import annotations

import enum
import json
import re
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.validator import jtoken, validators
from tests.validator.cases import StateSpec, Suite, TestCase, TestGroup
from tests.validator.jtoken import MISSING, ConversionError, JsonFailure
from tests.validator.proofs import Signer
from tests.validator.requests import Response, Sender, Target, ValidatorCrash, prepare


class Status(enum.StrEnum):
    PASS = "Pass"
    FAIL = "Fail"
    SKIPPED = "Skipped"


@dataclass(frozen=True)
class RequestRecord:
    name: str
    method: str
    url: str
    status: int  # 0: not sent (an exception while building or sending it)
    errors: tuple[str, ...] = ()
    cleanup: bool = False

    def line(self) -> str:
        mark = " (cleanup)" if self.cleanup else ""
        return f"{self.name}{mark}: {self.method} {self.url} -> {self.status or 'not sent'}"


@dataclass(frozen=True)
class CaseResult:
    group: str
    name: str
    status: Status
    message: str = ""
    errors: tuple[str, ...] = ()
    requests: tuple[RequestRecord, ...] = ()

    @property
    def full_name(self) -> str:
        return f"{self.group}.{self.name}"


@dataclass
class RunResult:
    target: Target
    results: list[CaseResult] = field(default_factory=list)
    seconds: float = 0.0

    def by_group(self) -> dict[str, list[CaseResult]]:
        grouped: dict[str, list[CaseResult]] = {}
        for result in self.results:
            grouped.setdefault(result.group, []).append(result)
        return grouped

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.status is status)


_TOKEN = re.compile(r"(access_token=)[^&#\s]*", re.IGNORECASE)


def redact(url: str) -> str:
    return _TOKEN.sub(r"\1…", url)


def state_value(entry: StateSpec, response: Response) -> str | None:
    """StateEntry.GetValue: a header (None when absent or empty), or `SelectToken(Source)` in the JSON body
    (an array as its JSON text, anything unreadable as None)."""
    if entry.source_type == "Header":
        return response.headers.get(entry.source) or None
    text = response.text
    if not response.is_text or not text:
        return None
    try:
        token = jtoken.select_token(jtoken.parse_object(text), entry.source)
        if token is MISSING:
            return None
        if isinstance(token, list):
            return json.dumps(token, indent=2)
        return jtoken.as_string(token)
    except (JsonFailure, ConversionError):
        return None


class Runner:
    def __init__(
        self,
        suite: Suite,
        target: Target,
        sender: Sender,
        schemas: Path,
        *,
        include_delay: bool = False,
        signer: Signer | None = None,
    ) -> None:
        self.suite = suite
        self.target = target
        self.sender = sender
        self.schemas = schemas
        self.include_delay = include_delay
        self.signer = signer  # proof keys (validator pull request #145); None: the released CLI, unsigned

    def run(self, groups: Collection[str] | None = None) -> RunResult:
        """Every group in file order, or only those named in `groups`."""
        started = time.monotonic()
        run = RunResult(self.target)
        for group in self.suite.groups:
            if groups is None or group.name in groups:
                run.results.extend(self.run_group(group))
        run.seconds = time.monotonic() - started
        return run

    def run_group(self, group: TestGroup) -> Iterator[CaseResult]:
        missing = [name for name in group.prereqs if name not in self.suite.prereq_cases]
        if missing:  # TestCaseFactory.GetPrereqTests throws: the real CLI stops before running anything
            raise ValueError(f"Could not find a prereq test case named {missing[0]} (group {group.name})")
        prereqs = [self.suite.prereq_cases[name] for name in group.prereqs]
        for case in group.cases:
            if group.has_delay and not self.include_delay:
                yield CaseResult(
                    group.name,
                    case.name,
                    Status.SKIPPED,
                    "delay group (HasDelay=true): run only with --include-delaytests",
                )
                continue
            yield self.run_case(group.name, case, prereqs)

    def run_case(self, group: str, case: TestCase, prereqs: list[TestCase]) -> CaseResult:
        """TestCaseExecutor.Execute."""
        for prereq in prereqs:
            result = self.execute(group, prereq)
            if result.status is not Status.PASS:
                reason = f"Prerequisites failed: {prereq.name}"
                return CaseResult(group, case.name, Status.SKIPPED, reason, result.errors, result.requests)
        return self.execute(group, case)

    def execute(self, group: str, case: TestCase) -> CaseResult:
        """TestCaseExecutor.ExecuteTestCase."""
        state: dict[str, str | None] = {
            "OriginalAccessToken": self.target.access_token,
            "OriginalWopiSrc": self.target.wopi_src,
        }
        records: list[RequestRecord] = []
        outcome: CaseResult | None = None
        try:
            for spec in case.requests:
                try:
                    prepared = prepare(spec, self.target, state, self.suite.resources, self.signer)
                    response = self.sender.send(prepared)
                except ValidatorCrash as crash:
                    records.append(RequestRecord(spec.kind, "-", "-", 0, (str(crash),)))
                    outcome = CaseResult(
                        group,
                        case.name,
                        Status.FAIL,
                        f"{spec.kind} request failed.",
                        (f"{crash} [the C# validator throws here and aborts the whole run]",),
                        (),
                    )
                    break
                checks = [*validators.MANDATORY, *validators.for_request(spec.validators, self.schemas)]
                errors = tuple(
                    error for check in checks for error in check.validate(response, self.suite.resources, state)
                )
                records.append(
                    RequestRecord(prepared.name, prepared.method, redact(prepared.url or ""), response.status, errors)
                )
                for entry in spec.state:
                    state[entry.name] = state_value(entry, response)
                if errors:
                    message = (
                        case.fail_message
                        if case.fail_message and case.fail_message.strip()
                        else f"{spec.kind} request failed."
                    )
                    outcome = CaseResult(group, case.name, Status.FAIL, message, errors, ())
                    break
        finally:
            self.cleanup(case, state, records)
        if outcome is None:
            return CaseResult(group, case.name, Status.PASS, requests=tuple(records))
        return CaseResult(group, case.name, outcome.status, outcome.message, outcome.errors, tuple(records))

    def cleanup(self, case: TestCase, state: Mapping[str, str | None], records: list[RequestRecord]) -> None:
        """TestCaseExecutor.RunCleanupRequests: no validation, every exception swallowed."""
        for spec in case.cleanup or ():
            try:
                prepared = prepare(spec, self.target, state, self.suite.resources, self.signer)
                response = self.sender.send(prepared)
                records.append(
                    RequestRecord(
                        prepared.name, prepared.method, redact(prepared.url or ""), response.status, cleanup=True
                    )
                )
            except ValidatorCrash as crash:
                records.append(RequestRecord(spec.kind, "-", "-", 0, (str(crash),), cleanup=True))
