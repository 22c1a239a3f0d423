"""Benchmark: Snowplow loads against the sandbox, for several extract worker counts.

For each worker count (dlt's `EXTRACT__WORKERS`) and each repeat, a fresh sandbox with a fixed
per-request latency is started on 127.0.0.1 with the clock at a fixed instant, then:

1. a full first load (7 days of history: every window, the steps of every run, the logs of
   failed steps) goes into a fresh DuckDB file in a fresh temporary directory;
2. the clock moves to one hour after that instant and an incremental load follows, into the
   same pipeline.

Each load is timed (whole load, and dlt's extract phase alone); the sandbox's recorded requests
are counted by kind, and the rows written per table are taken from dlt's normalize step. The
medians (with min and max) over the repeats are printed as Markdown on stdout; progress goes to
stderr. Method, results and interpretation: bench/README.md.

    python -m bench.bench_snowplow_load [--latency-ms 20] [--workers 1,2,4,8,16] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt
import pendulum
import time_machine
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.cli import positive_int
from jobpulse.pipelines.pipeline import build_pipeline
from jobpulse.pipelines.sandboxes import environment
from jobpulse.sources.snowplow import snowplow_source
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox

# The instant the load tests use: its history holds runs in progress and failed steps.
FIXED_NOW = pendulum.datetime(2026, 3, 2, 12, 30, 0)
INCREMENT = pendulum.duration(hours=1)
WORKERS_ENV = "EXTRACT__WORKERS"
KINDS = ("token", "runs listing", "run detail", "steps", "step detail")
PARALLEL_KINDS = ("steps", "step detail")  # fetched by the parallelized transformers
TABLES = ("snowplow_job_runs", "snowplow_job_steps", "snowplow_step_logs", "load_gaps")


# --- measuring one load ------------------------------------------------------------------------


class GaugedSandbox(SnowplowSandbox):
    """The sandbox, also recording the CPU time its answers took (HTTP parsing and writing
    aside, so a lower bound). The kit counts the requests in flight and their peak."""

    def __init__(self, *, latency_seconds: float) -> None:
        super().__init__(latency_seconds=latency_seconds)
        self._gauge_lock = threading.Lock()
        self.cpu_seconds = 0.0

    def reset_gauges(self) -> None:
        with self._gauge_lock:
            self.peak_in_flight = self.in_flight
            self.cpu_seconds = 0.0

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        cpu_started = time.thread_time()  # the injected latency is a sleep: no CPU
        try:
            return super().wsgi_app(environ, start_response)
        finally:
            cpu = time.thread_time() - cpu_started
            with self._gauge_lock:
                self.cpu_seconds += cpu


@dataclass(frozen=True)
class LoadResult:
    """What one load cost and wrote."""

    seconds: float
    extract_seconds: float
    cpu_seconds: float  # of the whole process: client, dlt and the in-process sandbox
    sandbox_cpu_seconds: float  # of that, the sandbox's answers (a lower bound)
    requests: tuple[int, ...]  # per kind, in the order of KINDS
    error_responses: int
    peak_in_flight: int
    rows: tuple[int, ...]  # rows written per table, in the order of TABLES

    @property
    def total_requests(self) -> int:
        return sum(self.requests)


@dataclass(frozen=True)
class Sample:
    """One repeat for one worker count: a first load, then an incremental one."""

    workers: int
    first: LoadResult
    incremental: LoadResult


def request_kind(path: str) -> str:
    """The kind of a recorded (percent-decoded) request path; step names may hold "/"."""
    if path.endswith("/token"):
        return "token"
    _, found, rest = path.partition("/jobs/v1/runs")
    if not found:
        return "other"
    if rest == "":
        return "runs listing"
    parts = rest.split("/", 3)  # "", run id, "steps", step name
    if len(parts) == 2:
        return "run detail"
    if parts[2] == "steps":
        return "steps" if len(parts) == 3 else "step detail"
    return "other"


def make_pipeline(directory: Path) -> Pipeline:
    """A pipeline whose working directory and DuckDB file are both under `directory`."""
    return build_pipeline(
        "snowplow",
        dlt.destinations.duckdb(str(directory / "bench.duckdb")),
        pipelines_dir=str(directory / "pipelines"),
        pipeline_prefix="bench_",
    )


def timed_load(pipeline: Pipeline, sandbox: GaugedSandbox) -> LoadResult:
    """One load of every Snowplow resource (default settings) from `sandbox`, measured."""
    first_request = len(sandbox.requests)
    sandbox.reset_gauges()
    cpu_started = time.process_time()
    started = time.perf_counter()
    pipeline.extract(snowplow_source(**sandbox.source_settings()))
    extracted = time.perf_counter()
    normalized = pipeline.normalize()
    pipeline.load()
    finished = time.perf_counter()
    cpu_seconds = time.process_time() - cpu_started
    recorded = sandbox.requests[first_request:]
    kinds = Counter(request_kind(request.path) for request in recorded)
    if set(kinds) - set(KINDS):
        raise RuntimeError(f"unexpected requests: {kinds}")
    row_counts = normalized.row_counts
    return LoadResult(
        seconds=finished - started,
        extract_seconds=extracted - started,
        cpu_seconds=cpu_seconds,
        sandbox_cpu_seconds=sandbox.cpu_seconds,
        requests=tuple(kinds[kind] for kind in KINDS),
        error_responses=sum(1 for request in recorded if request.status >= 400),
        peak_in_flight=sandbox.peak_in_flight,
        rows=tuple(row_counts.get(table, 0) for table in TABLES),
    )


def run_sample(workers: int, latency_seconds: float) -> Sample:
    """A first load at FIXED_NOW and an incremental one at FIXED_NOW + INCREMENT, from scratch."""
    sandbox = GaugedSandbox(latency_seconds=latency_seconds)
    with (
        tempfile.TemporaryDirectory(prefix="jobpulse-bench-") as directory,
        environment({WORKERS_ENV: str(workers)}),
        time_machine.travel(FIXED_NOW, tick=True) as clock,
        sandbox,
    ):
        pipeline = make_pipeline(Path(directory))
        first = timed_load(pipeline, sandbox)
        # To the instant, not by an offset: the history seen does not depend on the first
        # load's duration, so every worker count's second load does the same work.
        clock.move_to(FIXED_NOW + INCREMENT)
        incremental = timed_load(pipeline, sandbox)
    return Sample(workers, first, incremental)


def run_all(
    workers: Sequence[int],
    repeat: int,
    latency_seconds: float,
    log: Callable[[str], None],
) -> list[Sample]:
    """Every worker count once per round, `repeat` rounds, after one untimed warm-up sample.

    The warm-up pays the one-off costs (imports, first DuckDB connection, the sandbox's cache of
    planned runs) outside the measurements. Interleaving the worker counts spreads any drift of
    the machine over all of them.
    """
    log("warm-up (not measured) ...")
    run_sample(max(workers), 0.0)
    samples: list[Sample] = []
    for round_number in range(1, repeat + 1):
        for count in workers:
            sample = run_sample(count, latency_seconds)
            samples.append(sample)
            log(
                f"round {round_number}/{repeat}, workers={count}: first load "
                f"{sample.first.seconds:.2f} s ({sample.first.total_requests} requests), "
                f"incremental {sample.incremental.seconds:.2f} s "
                f"({sample.incremental.total_requests} requests)"
            )
    return samples


# --- reporting -----------------------------------------------------------------------------------


def spread(values: Sequence[float]) -> str:
    """`median (min-max)` in seconds, or the value alone for a single repeat."""
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    align = ["---:" if index else "---" for index in range(len(header))]
    lines = [header, align, *[[str(cell) for cell in row] for row in rows]]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def by_workers(samples: Sequence[Sample]) -> dict[int, list[Sample]]:
    grouped: dict[int, list[Sample]] = {}
    for sample in samples:
        grouped.setdefault(sample.workers, []).append(sample)
    return grouped


def first_load_table(samples: Sequence[Sample]) -> str:
    grouped = by_workers(samples)
    baseline_workers = min(grouped)
    baseline = grouped[baseline_workers]
    base_wall = statistics.median(s.first.seconds for s in baseline)
    base_extract = statistics.median(s.first.extract_seconds for s in baseline)
    rows = []
    for workers, group in grouped.items():
        wall = [s.first.seconds for s in group]
        extract = [s.first.extract_seconds for s in group]
        rest = [s.first.seconds - s.first.extract_seconds for s in group]
        cpu = [s.first.cpu_seconds for s in group]
        sandbox_cpu = [s.first.sandbox_cpu_seconds for s in group]
        rows.append(
            [
                workers,
                spread(wall),
                spread(extract),
                spread(rest),
                spread(cpu),
                spread(sandbox_cpu),
                f"{base_wall / statistics.median(wall):.2f}x",
                f"{base_extract / statistics.median(extract):.2f}x",
                max(s.first.peak_in_flight for s in group),
            ]
        )
    header = [
        "workers",
        "load s",
        "extract s",
        "normalize + load s",
        "CPU s",
        "of which sandbox s",
        f"speed-up (load) vs {baseline_workers}",
        f"speed-up (extract) vs {baseline_workers}",
        "peak concurrent requests",
    ]
    return markdown_table(header, rows)


def incremental_table(samples: Sequence[Sample]) -> str:
    rows = []
    for workers, group in by_workers(samples).items():
        rows.append(
            [
                workers,
                spread([s.incremental.seconds for s in group]),
                spread([s.incremental.extract_seconds for s in group]),
                max(s.incremental.total_requests for s in group),
                max(s.incremental.peak_in_flight for s in group),
            ]
        )
    header = ["workers", "load s", "extract s", "requests", "peak concurrent requests"]
    return markdown_table(header, rows)


def _distinct(
    samples: Sequence[Sample], pick: Callable[[Sample], tuple[int, ...]]
) -> dict[tuple[int, ...], list[int]]:
    """Each distinct value of `pick` over the samples, with the worker counts that produced it."""
    found: dict[tuple[int, ...], list[int]] = {}
    for sample in samples:
        counts = found.setdefault(pick(sample), [])
        if sample.workers not in counts:
            counts.append(sample.workers)
    return found


def _label(load: str, workers: list[int], all_workers: set[int]) -> str:
    if set(workers) == all_workers:
        return load
    return f"{load} (workers {', '.join(map(str, workers))})"


def requests_table(samples: Sequence[Sample]) -> str:
    all_workers = {s.workers for s in samples}
    rows = []
    loads: list[tuple[str, Callable[[Sample], tuple[int, ...]]]] = [
        ("first load", lambda s: s.first.requests),
        ("incremental (+1 h)", lambda s: s.incremental.requests),
    ]
    for load, pick in loads:
        for counts, workers in _distinct(samples, pick).items():
            total = sum(counts)
            parallel = sum(counts[KINDS.index(kind)] for kind in PARALLEL_KINDS)
            share = f"{100 * parallel / total:.1f} %" if total else "n/a"
            rows.append([_label(load, workers, all_workers), *counts, total, share])
    header = ["load", *KINDS, "total", "steps + step detail"]
    return markdown_table(header, rows)


def rows_table(samples: Sequence[Sample]) -> str:
    all_workers = {s.workers for s in samples}
    rows = []
    loads: list[tuple[str, Callable[[Sample], tuple[int, ...]]]] = [
        ("first load", lambda s: s.first.rows),
        ("incremental (+1 h)", lambda s: s.incremental.rows),
    ]
    for load, pick in loads:
        for counts, workers in _distinct(samples, pick).items():
            rows.append([_label(load, workers, all_workers), *counts])
    return markdown_table(["load", *TABLES], rows)


def serial_floor(samples: Sequence[Sample], latency_seconds: float) -> str:
    """The latency that no worker count can hide, next to what a serial client would wait."""
    counts = samples[0].first.requests
    serial = sum(n for kind, n in zip(KINDS, counts, strict=True) if kind not in PARALLEL_KINDS)
    total = sum(counts)
    return (
        f"Latency alone, first load: {total} requests x {latency_seconds * 1000:g} ms = "
        f"{total * latency_seconds:.2f} s if fetched one at a time; the {serial} requests made "
        f"outside the worker pool (token, listings, run detail) cost "
        f"{serial * latency_seconds:.2f} s whatever the worker count."
    )


def report(
    samples: Sequence[Sample],
    latency_seconds: float,
    repeat: int,
    load_average: str,
) -> str:
    errors = sum(s.first.error_responses + s.incremental.error_responses for s in samples)
    settings = [
        f"- latency injected per request: {latency_seconds * 1000:g} ms; repeats: {repeat}",
        f"- fixed instant: {FIXED_NOW.to_iso8601_string()}; incremental load at +1 h",
        f"- machine: {os.cpu_count()} logical CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, dlt {dlt.__version__}",
        f"- HTTP error responses during measured loads: {errors}",
        "- times: median (min-max) over the repeats, in seconds; CPU s: CPU time of the "
        "whole process (jobpulse, dlt and the sandbox share it); of which sandbox: CPU time "
        "of the sandbox's answers, HTTP parsing and writing aside (a lower bound)",
        f"- 1-minute load average before / after the measurements: {load_average}",
    ]
    sections = [
        "\n".join(settings),
        "### First load (7 days of history)\n\n" + first_load_table(samples),
        serial_floor(samples, latency_seconds),
        "### Incremental load, one hour later\n\n" + incremental_table(samples),
        "### Requests per load, by kind\n\n" + requests_table(samples),
        "### Rows written per load\n\n" + rows_table(samples),
    ]
    return "\n\n".join(sections)


# --- command line ------------------------------------------------------------------------------


def worker_counts(text: str) -> list[int]:
    """`1,2,4` -> [1, 2, 4]; every count must be a positive whole number."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        message = f"not a comma-separated list of integers: {text}"
        raise argparse.ArgumentTypeError(message) from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"worker counts must be positive: {text}")
    return list(dict.fromkeys(counts))


def non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_snowplow_load",
        description=(
            "Time a full first Snowplow load (7 days) and a 1-hour incremental load against "
            "the loopback sandbox with injected latency, for several dlt extract worker counts, "
            "and print a Markdown report."
        ),
    )
    parser.add_argument(
        "--latency-ms",
        type=non_negative_float,
        default=20.0,
        help="latency the sandbox adds to every request, in milliseconds (default: 20)",
    )
    parser.add_argument(
        "--workers",
        type=worker_counts,
        default=[1, 2, 4, 8, 16],
        help="comma-separated EXTRACT__WORKERS values; the smallest is the speed-up baseline "
        "(default: 1,2,4,8,16)",
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=3,
        help="measured samples per worker count (default: 3)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    latency_seconds = args.latency_ms / 1000

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    load_before = os.getloadavg()[0]
    with environment({"RUNTIME__DLTHUB_TELEMETRY": "false"}):
        samples = run_all(args.workers, args.repeat, latency_seconds, log)
    load_average = f"{load_before:.2f} / {os.getloadavg()[0]:.2f}"
    print(report(samples, latency_seconds, args.repeat, load_average))
    return 0


if __name__ == "__main__":
    sys.exit(main())
