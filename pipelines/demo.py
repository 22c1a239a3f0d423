"""`jobpulse demo`: every source from its sandbox into ./jobpulse_demo.duckdb, the models built on
it, then what a user would look at first: runs per job, and the jobs that need attention.

The demo never writes where a real load does: its own file, its own pipelines (`jobpulse_demo_*`,
so their state and locks are their own too). Sandbox runs never mix with real history.
"""

from __future__ import annotations

from pathlib import Path

import dlt

from jobpulse.pipelines.models import (
    jobs_needing_attention,
    marts_schema,
    models_pipeline,
    print_jobs_needing_attention,
    print_models_summary,
    run_models,
)
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

RUNS_BY_JOB_TITLE = (
    "Job runs loaded from the sandboxes, per source and job: all runs, failed runs, runs in "
    "progress, median minutes of the successful runs (from the fct_job_runs mart):"
)
# A job is its job_key; it is shown by its name, unless its runs carry several (an Alation job's
# name holds each run's timestamp) or none.
_RUNS_BY_JOB = """
select source_system,
       left(case when count(distinct job_name) = 1 then max(job_name) else job_key end, 44) as job,
       count(*) as runs,
       count(*) filter (where status = 'failed') as failed,
       count(*) filter (where not is_terminal) as in_progress,
       round(median(duration_seconds) filter (where status = 'success') / 60, 1) as median_minutes
from {schema}.fct_job_runs
group by source_system, job_key
order by source_system, job
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
    pipeline = models_pipeline(destination, pipeline_name=f"{DEMO_PIPELINE_PREFIX}models")
    models = run_models(pipeline)
    print_models_summary(models)
    if not models.ok:
        return 1
    _print_runs_by_job(path)
    print_jobs_needing_attention(jobs_needing_attention(pipeline))
    print(
        f"\nThe data is in {path}. Query it with any DuckDB client, for example:\n"
        f"  select * from {marts_schema()}.job_health order by health_verdict;\n"
        f"  select * from {DEFAULT_DATASET}.snowplow_job_runs order by started_at desc limit 10;"
    )
    return 0


def _print_runs_by_job(path: str) -> None:
    import duckdb

    with duckdb.connect(path, read_only=True) as connection:
        cursor = connection.execute(_RUNS_BY_JOB.format(schema=marts_schema()))
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    print(f"\n{RUNS_BY_JOB_TITLE}")
    widths = [10, 44, 6, 6, 11, 14]
    print("  " + "  ".join(f"{c:<{w}}" for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  " + "  ".join(f"{v!s:<{w}}" for v, w in zip(row, widths, strict=True)))
