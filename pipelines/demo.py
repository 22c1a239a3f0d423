"""`jobpulse demo`: every source from its sandbox into ./jobpulse.duckdb, then a short summary."""

from __future__ import annotations

from pathlib import Path

import dlt

from jobpulse.pipelines.pipeline import (
    DEFAULT_DATASET,
    DEFAULT_DUCKDB_FILE,
    build_pipeline,
    load,
    log_progress,
    print_summaries,
)
from jobpulse.pipelines.registry import SOURCES
from jobpulse.pipelines.sandboxes import environment, running_sandboxes

DEMO_PIPELINE_PREFIX = "jobpulse_demo_"

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


def run_demo(duckdb_file: str = DEFAULT_DUCKDB_FILE) -> int:
    path = str(Path(duckdb_file).resolve())
    destination = dlt.destinations.duckdb(path)
    summaries = []
    with running_sandboxes(list(SOURCES)) as settings, environment(settings):
        for name, vendor in SOURCES.items():
            pipeline = build_pipeline(
                name, destination, progress=log_progress(), pipeline_prefix=DEMO_PIPELINE_PREFIX
            )
            summaries.append(load(name, vendor.make_source, pipeline))

    print_summaries(summaries)
    if not all(s.ok for s in summaries):
        return 1
    _print_runs_by_job(path)
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
    title: str = "Snowplow runs by job (last 7 days, from the sandbox):",
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
