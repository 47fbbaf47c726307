"""Microsoft's WOPI validator suite over real HTTP: one test per test group, plus checks on the whole run.

Every group must end without unexpected failures (failures pinned in known_failures.txt excepted, and a
pinned case that stops failing is an error too). Every group needs at least one passed case and no skipped one,
except the groups in MAY_SKIP, for what this host does not offer (WOPI+ co-authoring), which their prerequisites
skip.
"""

from __future__ import annotations

import pytest

from tests.validator import cases, report
from tests.validator.runner import RunResult, Status

# Groups whose prerequisites may skip them, and why that is expected of this host.
MAY_SKIP = {
    "CoauthLocks": "needs WOPI+ co-authoring",
    "IncrementalFileTransferErrorCases": "needs incremental file transfer",
    "IncrementalFileTransferWithFullFileChunkingScheme": "needs incremental file transfer",
    "IncrementalFileTransferWithZipChunkingScheme": "needs incremental file transfer",
    "RenameFileWithCoauthLockSupported": "needs WOPI+ co-authoring",
    "CoauthLockExpiration": "needs WOPI+ co-authoring (and is a delay group)",
}


def _group_names() -> list[str]:
    try:
        return [group.name for group in cases.load_suite().groups]
    except OSError:
        return ["<suite not found>"]  # the validator_suite fixture fails with the details


def _describe(results: list) -> str:
    lines = []
    for result in results:
        lines.append(f"{result.full_name}: {result.message}")
        lines.extend(f"    {error}" for error in result.errors)
        lines.extend(f"    | {record.line()}" for record in result.requests)
    return "\n".join(lines)


@pytest.mark.parametrize("group", _group_names())
def test_group(group: str, validator_suite: cases.Suite, validator_run: RunResult) -> None:
    results = validator_run.by_group().get(group, [])
    pinned = report.load_known_failures()
    unexpected = [r for r in results if r.status is Status.FAIL and r.full_name not in pinned]
    assert not unexpected, f"unexpected validator failures in {group}:\n{_describe(unexpected)}"
    stale = [entry for entry in report.verdict(validator_run, pinned).stale if entry.startswith(f"{group}.")]
    assert not stale, "pinned in known_failures.txt but not failing:\n" + "\n".join(stale)
    skipped = [r for r in results if r.status is Status.SKIPPED]
    if group in MAY_SKIP:
        return
    assert any(r.status is Status.PASS for r in results), f"{group}: no case passed\n{_describe(skipped)}"
    if skipped:
        pytest.fail(f"{group} must not be skipped:\n{_describe(skipped)}")


def test_known_failures_name_real_cases(validator_suite: cases.Suite) -> None:
    names = {f"{group.name}.{case.name}" for group in validator_suite.groups for case in group.cases}
    unknown = sorted(set(report.load_known_failures()) - names)
    assert not unknown, f"known_failures.txt names cases the suite does not have: {unknown}"


def test_the_run_passed_something(validator_run: RunResult) -> None:
    assert validator_run.count(Status.PASS) > 0, "nothing passed: every case was skipped or failed"
    assert validator_run.seconds < 60, f"the validator run took {validator_run.seconds:.0f} s"
