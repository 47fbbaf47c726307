"""The suite's figures as Markdown: one table of every load (medians, p50/p99, ratios to the ceilings), the folder
listing and memory tables, and the machine; written to docs/performance.md with a header on reading and rerunning."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from benchmarks.suite.listing import PAGE, Listing
from benchmarks.suite.load import MIB, Measurement
from benchmarks.suite.memory import Memory


@dataclass
class Operation:
    """One row group: a load, the unit of its figure, and the ceilings its ratios divide by."""

    key: str
    label: str
    unit: str  # "req/s" or "MiB/s"
    ceilings: tuple[str, ...] = ()  # reference targets measured beside it
    ratio_to: tuple[tuple[str, str], ...] = ()  # (operation key, target) pairs: the figures ratios divide by
    size: int = 0  # a transfer's size, to show requests/s beside MiB/s
    runs: dict[str, list[Measurement]] = field(default_factory=dict)  # target -> one Measurement per round
    failures: dict[str, list[str]] = field(default_factory=dict)  # target -> why a round's load failed

    def median(self, target: str) -> Measurement | None:
        runs = self.runs.get(target)
        if not runs:
            return None
        p50s = [run.p50_ms for run in runs if run.p50_ms is not None]
        p99s = [run.p99_ms for run in runs if run.p99_ms is not None]
        return Measurement(
            statistics.median(run.value for run in runs),
            statistics.median(p50s) if p50s else None,
            statistics.median(p99s) if p99s else None,
        )


def size_label(size: int) -> str:
    return f"{size // MIB} MiB" if size >= MIB else f"{size // 1024} KiB"


def _figure(operation: Operation, measured: Measurement) -> str:
    text = (
        f"{measured.value:,.0f} {operation.unit}" if measured.value >= 10 else f"{measured.value:.1f} {operation.unit}"
    )
    if operation.unit == "MiB/s" and operation.size and operation.size < 100 * MIB and measured.p99_ms is not None:
        text += f" ({measured.value * MIB / operation.size:,.0f} req/s)"
    return text


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def load_table(operations: list[Operation], backends: list[str]) -> list[str]:
    lines = [
        "| operation | measured on | figure (median) | p50 ms | p99 ms | ratio to ceiling |",
        "|---|---|---:|---:|---:|---|",
    ]
    by_key = {operation.key: operation for operation in operations}
    for operation in operations:
        for target in (*operation.ceilings, *backends):
            measured = operation.median(target)
            failed = operation.failures.get(target, [])
            if measured is None:
                if failed:
                    lines.append(f"| {operation.label} | {target} | failed: {failed[0]} | | | |")
                continue
            ratios = []
            if target in backends:
                for key, ceiling in operation.ratio_to:
                    reference = by_key[key].median(ceiling) if key in by_key else None
                    if reference is not None and reference.value > 0:
                        ratios.append(f"{measured.value / reference.value:.2f} x {ceiling}")
            name = f"*{target}* (ceiling)" if target in operation.ceilings else target
            if failed:
                name += f" ({len(failed)} round(s) failed: {failed[0]})"
            lines.append(
                f"| {operation.label} | {name} | {_figure(operation, measured)} | {_ms(measured.p50_ms)} "
                f"| {_ms(measured.p99_ms)} | {', '.join(ratios)} |"
            )
    return lines


def listing_table(listings: dict[str, Listing]) -> list[str]:
    lines = [
        f"| backend | files | CreateFile/s (16 in flight) | ListChildrenPage: first {PAGE} ms, just after a change "
        f"| ListChildrenPage: first {PAGE} ms | ListChildren stream: first {PAGE} items ms | ListChildren stream: "
        "whole folder ms | file browser page ms (size) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, listing in listings.items():
        lines.append(
            f"| {backend} | {listing.files:,} | {listing.create_per_second:,.0f} | {listing.changed_page_ms:,.1f} "
            f"| {listing.first_page_ms:,.1f} | {listing.stream_page_ms:,.1f} | {listing.whole_ms:,.0f} "
            f"| {listing.render_ms:,.0f} ({listing.render_bytes / 1024:,.0f} KiB) |"
        )
    return lines


def memory_table(memories: dict[str, Memory]) -> list[str]:
    lines = [
        "| backend | file | storage RSS before → peak MiB | front-end RSS before → peak MiB | PutFile MiB/s "
        "| GetFile MiB/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for backend, memory in memories.items():
        lines.append(
            f"| {backend} | {size_label(memory.size)} "
            f"| {memory.storage_baseline_mib:.0f} → {memory.storage_peak_mib:.0f} "
            f"| {memory.frontend_baseline_mib:.0f} → {memory.frontend_peak_mib:.0f} | {memory.put_mib_per_second:.0f} "
            f"| {memory.get_mib_per_second:.0f} |"
        )
    return lines


def machine_table(machine: list[tuple[str, str]]) -> list[str]:
    return ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in machine)]
