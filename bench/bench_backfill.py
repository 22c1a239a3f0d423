"""Benchmark (issue 7): what a Snowplow backfill costs with jobpulse's defaults.

Every load runs `bench/load_once.py` in a process of its own (the `jobpulse load` code path:
`build_pipeline`, defaults, extract, normalize, load), so its wall time, CPU time and peak RSS
are its alone; the sandbox runs in this process, on loopback, with a fixed latency per request.
Runs, in order:

1. the `backfill` history (bench/scenarios.py, ~3,600 runs) into DuckDB at 0, 50 and 100 ms per
   request: wall, requests, ratio to the latency limit (requests x latency / 16), peak RSS, CPU
   per request, peak requests in flight, each `--repeat` times;
2. right after each 0 ms backfill, a plain sequential `requests` loop over the same URLs: CPU per
   request, compared pair by pair;
3. a no-change reload right after the first 0 ms backfill: requests, against windows + open runs;
4. the `burst` history (~10,000 runs): peak RSS;
5. the 0 ms backfill into a throwaway PostgreSQL server: the load phase next to DuckDB's.

Prints a Markdown report on stdout; progress on stderr. Method and results: bench/README.md.

    python -m bench.bench_backfill            # = make bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import duckdb

from bench.bench_snowplow_load import KINDS, markdown_table, request_kind
from bench.scenarios import SCENARIOS
from jobpulse.pipelines.cli import positive_int
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.shared.sandbox import RecordedRequest
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox
from tests.postgres_server import throwaway_postgres

REPO = Path(__file__).resolve().parent.parent
LATENCIES_MS = (0, 50, 100)
IN_FLIGHT = 16  # jobpulse's default `extract.workers`: the limit's denominator
_STEPS_MARKER = "/steps/"
_CLEARED_PREFIXES = (
    "SOURCES__", "DESTINATION__", "EXTRACT__", "NORMALIZE__", "LOAD__", "RUNTIME__",
    "DATA_WRITER__",
)  # fmt: skip


@dataclass(frozen=True)
class Child:
    """A finished subprocess: its wall time (seen from here), rusage and JSON output."""

    wall_s: float
    cpu_s: float  # user + system
    peak_rss_mb: float
    report: dict[str, Any]


@dataclass
class Load:
    label: str
    latency_ms: float
    child: Child
    requests: Counter[str] = field(default_factory=Counter)
    peak_in_flight: int = 0
    error_responses: int = 0
    recorded: list[RecordedRequest] = field(default_factory=list)

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def phase(self, name: str, key: str) -> float:
        return float(self.child.report[name][key])

    @property
    def load_wall_s(self) -> float:
        """extract + normalize + load: the load itself, interpreter start and imports aside."""
        return sum(self.phase(name, "wall_s") for name in ("extract", "normalize", "load"))

    @property
    def limit_s(self) -> float:
        return self.total_requests * self.latency_ms / 1000 / IN_FLIGHT

    @property
    def extract_cpu_ms_per_request(self) -> float:
        return 1000 * self.phase("extract", "cpu_s") / (self.total_requests or 1)


def run_child(args: Sequence[str], cwd: Path, env: dict[str, str]) -> Child:
    """Run `python args...` in `cwd`; its stdout must be one JSON object."""
    started = time.perf_counter()
    with open(cwd / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen(  # noqa: S603  # our own interpreter and modules
            [sys.executable, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=stderr
        )
        assert process.stdout is not None
        output = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{args} failed: {(cwd / 'stderr.txt').read_text()[-2000:]}")
    return Child(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, json.loads(output))


def child_environment(settings: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED_PREFIXES)}
    env.update(settings)
    env["PYTHONPATH"] = str(REPO)
    env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    return env


def load(
    label: str,
    sandbox: SnowplowSandbox,
    directory: Path,
    destination: str = "duckdb",
    settings: dict[str, str] | None = None,
) -> Load:
    first = len(sandbox.requests)
    sandbox.peak_in_flight = sandbox.in_flight
    env = child_environment(
        {
            **SOURCES["snowplow"].sandbox_settings(sandbox),
            "DLT_DATA_DIR": str(directory / "dlt"),
            **(settings or {}),
        }
    )
    args = ["-m", "bench.load_once", "--dir", str(directory), "--destination", destination]
    child = run_child(args, directory, env)
    recorded = sandbox.requests[first:]
    result = Load(label, sandbox.latency_seconds * 1000, child, recorded=recorded)
    result.requests.update(request_kind(request.path) for request in recorded)
    result.peak_in_flight = sandbox.peak_in_flight
    result.error_responses = sum(1 for request in recorded if request.status >= 400)
    return result


def plain_loop(sandbox: SnowplowSandbox, backfill: Load, directory: Path) -> Child:
    """The plain `requests` loop over the URLs `backfill` fetched, in a process of its own."""
    plan_file = directory / "urls.json"
    plan_file.write_text(json.dumps(replay_plan(sandbox, backfill.recorded)))
    return run_child(["-m", "bench.plain_loop", str(plan_file)], directory, child_environment({}))


def open_runs(directory: Path) -> int:
    with duckdb.connect(str(directory / "bench.duckdb"), read_only=True) as connection:
        row = connection.execute(
            "select count(*) from jobpulse_raw.snowplow_job_runs"
            " where state in ('RUNNING', 'WAITING')"
        ).fetchone()
    return int(row[0]) if row else 0


def replay_plan(sandbox: SnowplowSandbox, recorded: Sequence[RecordedRequest]) -> dict[str, Any]:
    """The recorded requests (token aside) as URLs again, for the plain loop."""
    urls = []
    for request in recorded:
        if request_kind(request.path) == "token":
            continue
        head, marker, step = request.path.partition(_STEPS_MARKER)
        path = quote(head) + (marker + quote(step, safe="") if marker else "")
        query = f"?{urlencode(request.query)}" if request.query else ""
        urls.append(f"{sandbox.base_url}{path}{query}")
    organization = quote(sandbox.organization_id)
    return {
        "token_url": f"{sandbox.base_url}/api/msc/v1/organizations/{organization}"
        "/credentials/v3/token",
        "token_headers": {"X-API-Key-ID": sandbox.api_key_id, "X-API-Key": sandbox.api_key},
        "urls": urls,
    }


@contextmanager
def scratch(name: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"jobpulse-bench-{name}-") as directory:
        yield Path(directory)


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


# --- the report ------------------------------------------------------------------------------


def _cpu_ms_per_request(load: Load) -> tuple[str, str]:
    process = 1000 * load.child.cpu_s / (load.total_requests or 1)
    return f"{load.extract_cpu_ms_per_request:.2f}", f"{process:.2f}"


def backfill_table(loads: Sequence[Load]) -> str:
    rows = []
    for item in loads:
        extract_cpu, process_cpu = _cpu_ms_per_request(item)
        ratio = f"{item.load_wall_s / item.limit_s:.2f}x" if item.limit_s else "n/a"
        extract_ratio = (
            f"{item.phase('extract', 'wall_s') / item.limit_s:.2f}x" if item.limit_s else "n/a"
        )
        rows.append(
            [
                item.label,
                f"{item.latency_ms:.0f}",
                item.total_requests,
                f"{item.limit_s:.2f}",
                f"{item.load_wall_s:.2f}",
                ratio,
                f"{item.phase('extract', 'wall_s'):.2f}",
                extract_ratio,
                f"{item.phase('normalize', 'wall_s'):.2f}",
                f"{item.phase('load', 'wall_s'):.2f}",
                f"{item.child.wall_s:.2f}",
                f"{item.child.peak_rss_mb:.0f}",
                extract_cpu,
                process_cpu,
                item.peak_in_flight,
                item.error_responses,
            ]
        )
    header = [
        "load", "latency ms", "requests", "limit s", "load s", "load / limit", "extract s",
        "extract / limit", "normalize s", "load phase s", "process s", "peak RSS MB",
        "extract CPU ms/request", "process CPU ms/request", "peak in flight", "HTTP errors",
    ]  # fmt: skip
    return markdown_table(header, rows)


def goals_table(loads: Sequence[Load]) -> str:
    """Per latency: the median over the samples of the load's wall time and its ratio to the
    limit (min-max in brackets), and the largest peak RSS."""
    rows = []
    for latency_ms in LATENCIES_MS:
        samples = [item for item in loads if item.latency_ms == latency_ms]
        walls = [item.load_wall_s for item in samples]
        ratios = [item.load_wall_s / item.limit_s for item in samples if item.limit_s]
        rows.append(
            [
                f"{latency_ms}",
                len(samples),
                f"{statistics.median(item.limit_s for item in samples):.2f}",
                f"{statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f})",
                f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
                if ratios
                else "n/a",
                f"{max(item.child.peak_rss_mb for item in samples):.0f}",
            ]
        )
    header = ["latency ms", "samples", "limit s", "load s", "load / limit", "max peak RSS MB"]
    return markdown_table(header, rows)


def requests_table(loads: Sequence[Load]) -> str:
    rows = [
        [item.label, *[item.requests[kind] for kind in KINDS], item.total_requests]
        for item in loads
    ]
    return markdown_table(["load", *KINDS, "total"], rows)


def rows_table(loads: Sequence[Load]) -> str:
    tables = sorted({table for item in loads for table in item.child.report["rows"]})
    rows = [[item.label, *[item.child.report["rows"].get(t, 0) for t in tables]] for item in loads]
    return markdown_table(["load", *tables], rows)


def cpu_table(plain_loops: Sequence[tuple[Load, Child]]) -> str:
    """CPU per request of each 0 ms backfill's extract phase and of the plain loop right after
    it, over the same URLs; the ratio per pair, and its median."""
    rows = []
    ratios = []
    for backfill, plain in plain_loops:
        extract_ms = backfill.extract_cpu_ms_per_request
        plain_ms = 1000 * plain.report["cpu_s"] / plain.report["requests"]
        ratios.append(extract_ms / plain_ms)
        rows.append(
            [backfill.label, plain.report["requests"], f"{extract_ms:.2f}", f"{plain_ms:.2f}",
             f"{plain.report['wall_s']:.2f}", f"{ratios[-1]:.2f}x"]
        )  # fmt: skip
    rows.append(["median", "", "", "", "", f"{statistics.median(ratios):.2f}x"])
    header = [
        "pair", "plain loop requests", "jobpulse extract CPU ms/request",
        "plain loop CPU ms/request", "plain loop wall s", "jobpulse / plain",
    ]  # fmt: skip
    return markdown_table(header, rows)


def machine() -> str:
    return (
        f"{os.cpu_count()} logical CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, dlt {version('dlt')}, duckdb {version('duckdb')}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=3,
        help="samples of the backfills and plain loops (default: 3); the rest run once",
    )
    repeat = parser.parse_args(argv).repeat
    loads: list[Load] = []
    load_averages = [os.getloadavg()]
    backfill_jobs = SCENARIOS["backfill"]
    reload: Load | None = None
    open_at_backfill = 0
    # Each 0 ms backfill with the plain loop over its URLs right after it: a pair run on the VM
    # at the same speed, whose speed drifts by tens of percent within an hour (bench/README.md).
    plain_loops: list[tuple[Load, Child]] = []
    for round_number in range(1, repeat + 1):
        for latency_ms in LATENCIES_MS:
            with (
                SnowplowSandbox(jobs=backfill_jobs, latency_seconds=latency_ms / 1000) as sandbox,
                scratch(f"backfill-{latency_ms}") as directory,
            ):
                log(f"backfill at {latency_ms} ms, round {round_number} ...")
                loads.append(load(f"backfill {latency_ms} ms #{round_number}", sandbox, directory))
                log(f"  {loads[-1].load_wall_s:.1f} s, {loads[-1].total_requests} requests")
                if latency_ms != 0:
                    continue
                backfill = loads[-1]
                if reload is None:
                    open_at_backfill = open_runs(directory)
                    log("no-change reload ...")
                    reload = load("no-change reload, 0 ms", sandbox, directory)
                log("plain requests loop ...")
                plain_loops.append((backfill, plain_loop(sandbox, backfill, directory)))
    load_averages.append(os.getloadavg())
    with (
        SnowplowSandbox(jobs=SCENARIOS["burst"]) as sandbox,
        scratch("burst") as directory,
    ):
        log("burst at 0 ms ...")
        burst = load("burst 0 ms", sandbox, directory)
    with (
        throwaway_postgres() as dsn,
        SnowplowSandbox(jobs=backfill_jobs) as sandbox,
        scratch("postgres") as directory,
    ):
        log("backfill into PostgreSQL at 0 ms ...")
        postgres = load(
            "backfill 0 ms, PostgreSQL",
            sandbox,
            directory,
            destination="postgres",
            settings={"DESTINATION__POSTGRES__CREDENTIALS": dsn},
        )
    load_averages.append(os.getloadavg())
    assert reload is not None
    print(report(loads, reload, open_at_backfill, burst, postgres, plain_loops, load_averages))
    return 0


def report(
    loads: Sequence[Load],
    reload: Load,
    open_at_backfill: int,
    burst: Load,
    postgres: Load,
    plain_loops: Sequence[tuple[Load, Child]],
    load_averages: Sequence[tuple[float, float, float]],
) -> str:
    zero = loads[0]
    windows = reload.requests["runs listing"]
    averages = " / ".join(f"{one:.2f}" for one, _, _ in load_averages)
    lines = [
        f"- machine: {machine()}",
        f"- 1-minute load average at start / after the backfills / at the end: {averages}",
        f"- started {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} (report time)",
        f"- file formats: DuckDB {zero.child.report['file_formats']}, "
        f"PostgreSQL {postgres.child.report['file_formats']}",
        "",
        "### Backfill against the latency limit (requests x latency / 16)",
        "",
        goals_table(loads),
        "",
        "### Every load",
        "",
        backfill_table([*loads, reload, burst, postgres]),
        "",
        "### Requests by kind",
        "",
        requests_table([*loads, reload, burst, postgres]),
        "",
        "### Rows written",
        "",
        rows_table([*loads, reload, burst, postgres]),
        "",
        "### Client CPU per request",
        "",
        cpu_table(plain_loops),
        "",
        "### No-change reload",
        "",
        f"- {reload.total_requests} requests: {windows} listing window(s), "
        f"{reload.requests['run detail']} run details, {reload.requests['steps']} steps, "
        f"{reload.requests['step detail']} step details, {reload.requests['token']} token; "
        f"runs open at the backfill: {open_at_backfill}; bound windows + open runs = "
        f"{windows + open_at_backfill} (+ the token)",
        "",
        "### PostgreSQL vs DuckDB, 0 ms backfill",
        "",
        f"- load phase: PostgreSQL {postgres.phase('load', 'wall_s'):.2f} s wall, "
        f"{postgres.phase('load', 'cpu_s'):.2f} s CPU; DuckDB {zero.phase('load', 'wall_s'):.2f}"
        f" s wall, {zero.phase('load', 'cpu_s'):.2f} s CPU",
        f"- normalize phase: PostgreSQL {postgres.phase('normalize', 'wall_s'):.2f} s, DuckDB "
        f"{zero.phase('normalize', 'wall_s'):.2f} s",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
