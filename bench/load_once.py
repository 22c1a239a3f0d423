"""One Snowplow load, as the `jobpulse load` command runs it, measured from inside: run by the
benchmarks in a subprocess of its own, so that its peak RSS and CPU time are its alone.

The sandbox runs in the parent; settings come from the environment (`SOURCES__SNOWPLOW__*`,
`DESTINATION__POSTGRES__CREDENTIALS`), as for the command. The load is the pipeline's
`extract`, `normalize` and `load` steps, which together are what `pipeline.run()` does, so that
each phase's wall time, CPU time and peak RSS can be told apart. Prints one JSON object.

    python -m bench.load_once --destination duckdb --dir /tmp/x
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import dlt

from jobpulse.pipelines.pipeline import build_pipeline, summarize
from jobpulse.sources.snowplow import snowplow_source


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measured(phase: Callable[[], Any], into: dict[str, Any], name: str) -> Any:
    """Run `phase`; put its wall time, CPU time and the peak RSS so far under `into[name]`."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = phase()
    into[name] = {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": time.process_time() - cpu,
        "peak_rss_mb": peak_rss_mb(),
    }
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--destination", default="duckdb", help="duckdb or postgres")
    parser.add_argument("--dir", type=Path, required=True, help="pipelines dir and DuckDB file")
    args = parser.parse_args(argv)
    destination = (
        dlt.destinations.duckdb(str(args.dir / "bench.duckdb"))
        if args.destination == "duckdb"
        else args.destination
    )
    pipeline = build_pipeline(
        "snowplow", destination, pipelines_dir=str(args.dir / "pipelines"), pipeline_prefix="bench_"
    )
    report: dict[str, Any] = {"imported_rss_mb": peak_rss_mb()}
    measured(lambda: pipeline.extract(snowplow_source()), report, "extract")
    measured(pipeline.normalize, report, "normalize")
    loaded = measured(pipeline.load, report, "load")
    report["rows"] = summarize("snowplow", pipeline).rows_per_table
    report["file_formats"] = sorted(
        {
            job.job_file_info.file_format
            for package in loaded.load_packages
            for job in package.jobs["completed_jobs"]
        }
    )
    json.dump(report, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
