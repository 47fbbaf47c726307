"""The run's verdict and its report: a per-group table, then every failure with its validator messages.

Known failures are pinned in `known_failures.txt` (one `Group.TestCase` per line, `#` comments), and checked
both ways: a failure that is not pinned is unexpected, and a pinned case that does not fail (it passed, was
skipped, or no longer exists) makes the pin stale. Either one fails the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.validator.runner import CaseResult, RunResult, Status

KNOWN_FAILURES = Path(__file__).with_name("known_failures.txt")


def load_known_failures(path: Path = KNOWN_FAILURES) -> dict[str, str]:
    """`Group.TestCase` -> the comment block above it (why it is pinned)."""
    pinned: dict[str, str] = {}
    comment: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            comment = []
        elif line.startswith("#"):
            comment.append(line.lstrip("# "))
        else:
            pinned[line] = " ".join(comment)
    return pinned


@dataclass(frozen=True)
class Verdict:
    unexpected: list[CaseResult]  # failures not pinned
    known: list[CaseResult]  # pinned and failing, as expected
    stale: list[str]  # pinned but not failing: "<name>: passed|skipped|not in the suite"

    @property
    def ok(self) -> bool:
        return not self.unexpected and not self.stale


def verdict(run: RunResult, pinned: dict[str, str]) -> Verdict:
    by_name = {result.full_name: result for result in run.results}
    unexpected = [r for r in run.results if r.status is Status.FAIL and r.full_name not in pinned]
    known = [r for r in run.results if r.status is Status.FAIL and r.full_name in pinned]
    stale = []
    for name in pinned:
        result = by_name.get(name)
        if result is None:
            stale.append(f"{name}: not in the suite")
        elif result.status is not Status.FAIL:
            stale.append(
                f"{name}: {result.status.value.lower()} ({result.message})"
                if result.message
                else f"{name}: {result.status.value.lower()}"
            )
    return Verdict(unexpected, known, stale)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths) + "  " + "-" * len(row[-1]))
    return lines


def render(
    run: RunResult, pinned: dict[str, str], cases_file: Path, alternate_runs: dict[str, str] | None = None
) -> str:
    """`alternate_runs`: group -> the configuration it ran in, when not the main one (conftest.ALTERNATE_RUNS)."""
    alternate_runs = alternate_runs or {}
    result = verdict(run, pinned)
    rows = [["Group", "Passed", "Failed", "Skipped", "Notes"]]
    for group, results in run.by_group().items():
        counts = {status: sum(1 for r in results if r.status is status) for status in Status}
        notes = [f"run with {alternate_runs[group]}"] if group in alternate_runs else []
        known = sum(1 for r in results if r.status is Status.FAIL and r.full_name in pinned)
        if known:
            notes.append(f"{known} known failure(s) pinned")
        reasons = sorted({r.message for r in results if r.status is Status.SKIPPED})
        notes.extend(f"skipped: {reason}" for reason in reasons)
        rows.append(
            [group, str(counts[Status.PASS]), str(counts[Status.FAIL]), str(counts[Status.SKIPPED]), "; ".join(notes)]
        )
    rows.append(["TOTAL", str(run.count(Status.PASS)), str(run.count(Status.FAIL)), str(run.count(Status.SKIPPED)), ""])

    lines = [
        f"WOPI validator suite: {cases_file}",
        f"Target: {run.target.wopi_src} ({run.seconds:.1f} s)",
        "",
        *_table(rows),
        "",
    ]
    for title, failures in (("Unexpected failures", result.unexpected), ("Known failures (pinned)", result.known)):
        lines.append(f"{title}: {len(failures)}")
        for failure in failures:
            lines.append(f"  {failure.full_name}: {failure.message}")
            lines.extend(f"      {error}" for error in failure.errors)
            lines.extend(f"      | {record.line()}" for record in failure.requests)
        lines.append("")
    lines.append(f"Stale pins in known_failures.txt: {len(result.stale)}")
    lines.extend(f"  {entry}" for entry in result.stale)
    skipped = [r for r in run.results if r.status is Status.SKIPPED and r.errors]
    reasons: dict[str, tuple[str, ...]] = {}
    for r in skipped:
        reasons.setdefault(r.message, r.errors)
    if reasons:
        lines += ["", "Why prerequisites failed (first case of each):"]
        for message, errors in reasons.items():
            lines.append(f"  {message}: {' | '.join(errors)}")
    return "\n".join(lines) + "\n"
