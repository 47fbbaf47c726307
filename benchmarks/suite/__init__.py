"""The performance suite of issue 10: every hot path of the host, on every backend, beside the bare shape's
ceilings, in one run (`make benchmark`, or `python -m benchmarks.suite --help`). Written to docs/performance.md.

Modules, one job each: `ceilings` (the reference servers, started as processes), `hosts` (a running host per
backend, with its files), `load` (wrk and curl), `listing` (a 10,000-file folder), `memory` (peak RSS while a
large file goes up and down), `machine` (what it ran on), `report` (the table), `run` (the order of it all).
"""
