"""`jobpulse demo`: every source from its sandbox into ./jobpulse_demo.duckdb, then a summary.

The demo never writes where a real load does: its own file, its own pipelines (`jobpulse_demo_*`,
so their state and locks are their own too). Sandbox runs never mix with real history.
"""

from __future__ import annotations

from pathlib import Path

import dlt

from jobpulse.pipelines.pipeline import (
    DEFAULT_DATASET,
    load_source,
    log_progress,
    print_summaries,
)
from jobpulse.pipelines.registry import SOURCES
from jobpulse.pipelines.sandboxes import environment, running_sandboxes

DEMO_PIPELINE_PREFIX = "jobpulse_demo_"
DEMO_DUCKDB_FILE = "jobpulse_demo.duckdb"

_RUNS_BY_JOB = """
select job_name, count(*) as runs,
       count(*) filter (where state = 'FAILED') as failed,
       count(*) filter (where ended_at is null) as in_progress,
       round(median(duration_seconds) / 60, 1) as median_minutes
from {dataset}.snowplow_job_runs
group by job_name
order by job_name
"""

_MPARTICLE_RUNS_BY_PIPELINE = """
select r.pipeline_id, count(*) as runs,
       count(*) filter (where r.pipeline_run_state = 'failed') as failed,
       count(*) filter (where r.ended_at is null) as in_progress,
       round(median(r.duration_seconds) / 60, 1) as median_minutes,
       bool_or(p.is_deleted) as deleted
from {dataset}.mparticle_pipeline_runs as r
left join {dataset}.mparticle_pipelines as p on p.id = r.pipeline_id
group by r.pipeline_id
order by r.pipeline_id
"""


def run_demo(duckdb_file: str = DEMO_DUCKDB_FILE) -> int:
    path = str(Path(duckdb_file).resolve())
    destination = dlt.destinations.duckdb(path)
    summaries = []
    with running_sandboxes(list(SOURCES)) as settings, environment(settings):
        for name, vendor in SOURCES.items():
            summaries.append(
                load_source(
                    name,
                    vendor.make_source,
                    destination,
                    progress=log_progress(),
                    pipeline_prefix=DEMO_PIPELINE_PREFIX,
                )
            )

    print_summaries(summaries)
    if not all(s.ok for s in summaries):
        return 1
    _print_runs_by_job(path)
    _print_tailer_runs(path)
    if "mparticle" in SOURCES:
        mparticle_title = "mParticle Warehouse Sync runs by pipeline (from the sandbox):"
        _print_runs_by_job(path, _MPARTICLE_RUNS_BY_PIPELINE, mparticle_title)
    print(
        f"\nThe data is in {path}. Query it with any DuckDB client, for example:\n"
        f"  select * from {DEFAULT_DATASET}.snowplow_job_runs order by started_at desc limit 10;"
    )
    return 0


def _print_runs_by_job(
    path: str,
    sql: str = _RUNS_BY_JOB,
    title: str = (
        "Snowplow job runs loaded from the sandbox, per job: all runs, failed runs, runs in "
        "progress, median run minutes:"
    ),
) -> None:
    import duckdb

    with duckdb.connect(path, read_only=True) as connection:
        cursor = connection.execute(sql.format(dataset=DEFAULT_DATASET))
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    print(f"\n{title}")
    print("  " + "  ".join(f"{c:>14}" if i else f"{c:<28}" for i, c in enumerate(columns)))
    for row in rows:
        print("  " + "  ".join(f"{v!s:>14}" if i else f"{v!s:<28}" for i, v in enumerate(row)))


_TAILER_RUNS = """
select tracked_configuration_id as operation, count(*) as runs,
       count(*) filter (where status <> 'SUCCESS' and is_terminal) as not_success,
       count(*) filter (where not is_terminal) as running,
       round(median(duration_seconds) / 60, 1) as median_minutes
from {dataset}.tailer_runs
group by all
order by operation
"""


def _print_tailer_runs(path: str) -> None:
    import duckdb

    with duckdb.connect(path, read_only=True) as connection:
        cursor = connection.execute(_TAILER_RUNS.format(dataset=DEFAULT_DATASET))
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    print("\nTailer runs by operation (from the sandbox):")
    print("  " + "  ".join(f"{c:>14}" if i else f"{c:<50}" for i, c in enumerate(columns)))
    for row in rows:
        print("  " + "  ".join(f"{v!s:>14}" if i else f"{v!s:<50}" for i, v in enumerate(row)))
