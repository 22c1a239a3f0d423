# ruff: noqa: S608  # SQL built from this module's own constants, never from input
"""Benchmark: build the dbt models on a generated history of one million runs, on DuckDB.

The raw tables (the columns and types dlt loads) are generated with SQL in a fresh DuckDB file:
500,000 Snowplow runs (500 jobs) with two steps each, 200,000 Tailer runs (200 jobs), 200,000
mParticle runs (100 pipelines) and 100,000 Alation jobs (100 job keys): 1,000,000 runs, about
83 days of history per job, ~90 % successes. Then `jobpulse.pipelines.models.run_models` builds
every model exactly as `jobpulse models` does (dlt's dbt runner, one `dbt run` subprocess).

Measured: wall time of the build; peak resident memory of the dbt subprocess (where DuckDB runs),
from `getrusage(RUSAGE_CHILDREN)`; dbt's own elapsed time and each model's execution time from
its run_results.json, so the fixed cost outside the SQL (process start, imports, parsing) shows.
Markdown on stdout. Method and results: bench/README.md.

    python -m bench.bench_models [--runs-scale 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import dlt
import duckdb
import pendulum

from jobpulse.pipelines.models import models_pipeline, run_models

AS_OF = pendulum.datetime(2026, 3, 20, 12, 0, 0)

# {n}: runs of the vendor; {jobs}: its jobs; u(x): a deterministic uniform in [0, 1)
_U = "((hash({x}) % 1000000) / 1000000.0)"
_STATUS = (
    "case when {u} < 0.90 then '{ok}' when {u} < 0.97 then '{failed}' "
    "when {u} < 0.99 then '{skipped}' else '{ok}' end"
)
_DURATION = "(60 + 540 * {u2} + case when {u3} > 0.995 then 3000 else 0 end)"


def _runs(n: int, jobs: int, ok: str, failed: str, skipped: str, running: str) -> str:
    """A select of n runs of `jobs` jobs, every 2 h per job, the newest of each still running."""
    u = _U.format(x="i")
    u2 = _U.format(x="i * 7 + 1")
    u3 = _U.format(x="i * 13 + 5")
    status = _STATUS.format(u=u, ok=ok, failed=failed, skipped=skipped)
    return f"""
        select
            i,
            i % {jobs} as job,
            case when i < {jobs} then '{running}' else {status} end as status,
            timestamptz '{AS_OF.isoformat()}' - to_seconds(
                cast((i // {jobs}) * 7200 + (i % {jobs}) * 7 + 60 as bigint)
            ) as started_at,
            case when i < {jobs} then null else {_DURATION.format(u2=u2, u3=u3)} end
                as duration_seconds
        from range({n}) as t(i)
    """


def generate(path: Path, scale: float) -> dict[str, int]:
    """Raw tables shaped as dlt loads them; returns rows per table."""
    n_snowplow, n_tailer, n_mparticle, n_alation = (
        int(500_000 * scale),
        int(200_000 * scale),
        int(200_000 * scale),
        int(100_000 * scale),
    )
    with duckdb.connect(str(path)) as db:
        db.execute("create schema jobpulse_raw")
        db.execute(f"""
            create table jobpulse_raw.snowplow_job_runs as
            select 'run-' || i as run_id, 'job-' || job as job_id, 'Job ' || job as job_name,
                'prod' as environment, status as state, failure_reason, 'org-1' as organization_id,
                started_at, started_at + to_seconds(duration_seconds) as ended_at,
                duration_seconds
            from (
                select *, case when status = 'FAILED' then 'exit 1' end as failure_reason
                from ({_runs(n_snowplow, 500, "SUCCEEDED", "FAILED", "SKIPPED", "RUNNING")})
            )
        """)
        db.execute("""
            create table jobpulse_raw.snowplow_job_steps as
            select run_id, step_name,
                case when step_name = 'load' then state else 'SUCCEEDED' end as state,
                started_at, ended_at, duration_seconds * share as duration_seconds,
                organization_id
            from jobpulse_raw.snowplow_job_runs,
                (values ('extract', 0.3), ('load', 0.7)) as steps(step_name, share)
        """)
        db.execute(f"""
            create table jobpulse_raw.tailer_runs as
            select 'gbq-to-gbq|000099_op_' || job || '_PROD' as job_id, 'run-' || i as run_id,
                '000099' as account, 'PROD' as environment, 'gbq-to-gbq' as configuration_type,
                '000099_op_' || job || '_PROD' as configuration_id, status,
                started_at, started_at + to_seconds(duration_seconds) as ended_at,
                duration_seconds
            from ({_runs(n_tailer, 200, "SUCCESS", "FAILED", "No match", "RUNNING")})
        """)
        db.execute("""
            create table jobpulse_raw.mparticle_pipelines as
            select 'pipe-' || i as id, 'Pipeline ' || i as name, 'production' as environment,
                'hourly' as schedule_interval, true as is_active, false as is_faulted,
                false as is_deleted
            from range(100) as t(i)
        """)
        db.execute(f"""
            create table jobpulse_raw.mparticle_pipeline_runs as
            select i as pipeline_run_id, 'pipe-' || job as pipeline_id,
                status as pipeline_run_state, 'scheduled' as pipeline_run_type,
                false as is_externally_triggered, started_at as logical_date,
                started_at, started_at + to_seconds(duration_seconds) as ended_at,
                duration_seconds, cast(1000 + i % 500 as bigint) as records_extracted,
                cast(990 + i % 500 as bigint) as records_mapped,
                cast(10 as bigint) as event_batches_generated
            from ({_runs(n_mparticle, 100, "success", "failed", "queued", "running")})
        """)
        db.execute(f"""
            create table jobpulse_raw.alation_jobs as
            select 'MetadataExtraction#' || job || '_' || i as job_ref,
                'MetadataExtraction#' || job || '_' || i as job_name,
                'MetadataExtraction' as job_type, 'MetadataExtraction#' || job as job_key,
                status, 'Job finished' as msg, '{{}}' as result, started_at,
                started_at + to_seconds(duration_seconds) as finished_at, duration_seconds,
                cast(5 as bigint) as updated_objects, cast(5 as bigint) as number_received,
                cast(0 as bigint) as error_count
            from ({_runs(n_alation, 100, "successful", "failed", "failed", "running")})
        """)
        tables = [r[0] for r in db.execute("show tables from jobpulse_raw").fetchall()]
        return {
            t: db.execute(f"select count(*) from jobpulse_raw.{t}").fetchone()[0]  # type: ignore[index]
            for t in tables
        }


def build(path: Path, work: Path) -> dict[str, object]:
    pipeline = models_pipeline(dlt.destinations.duckdb(str(path)), pipelines_dir=str(work))
    started = time.perf_counter()
    summary = run_models(pipeline, as_of=AS_OF)
    wall = time.perf_counter() - started
    if not summary.ok:
        raise SystemExit(f"models failed: {summary.error}")
    results = json.loads(
        (Path(pipeline.working_dir) / "dbt" / "target" / "run_results.json").read_text()
    )
    models = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results["results"]}
    return {"wall": wall, "dbt_elapsed": results["elapsed_time"], "models": models}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-scale", type=float, default=1.0, help="1.0 = one million runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jobpulse-bench-models-") as tmp:
        os.environ["DLT_DATA_DIR"] = str(Path(tmp) / "dlt")
        database = Path(tmp) / "jobpulse.duckdb"
        started = time.perf_counter()
        rows = generate(database, args.runs_scale)
        generated = time.perf_counter() - started
        load_before = os.getloadavg()[0]
        measured = build(database, Path(tmp) / "pipelines")
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_kib = children.ru_maxrss
        cpu = children.ru_utime + children.ru_stime
        size_mib = database.stat().st_size / 2**20
    models: dict[str, float] = measured["models"]  # type: ignore[assignment]
    wall: float = measured["wall"]  # type: ignore[assignment]
    elapsed: float = measured["dbt_elapsed"]  # type: ignore[assignment]
    runs = sum(v for k, v in rows.items() if k != "snowplow_job_steps" and "pipelines" not in k)
    print(f"- machine: {os.cpu_count()} logical CPUs, {platform.system()} {platform.machine()}, "
          f"Python {platform.python_version()}, duckdb {duckdb.__version__}")  # fmt: skip
    print(f"- 1-minute load average before / after the build: {load_before:.2f} / "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"- raw rows: {', '.join(f'{t} {n:,}' for t, n in sorted(rows.items()))}; "
          f"runs: {runs:,} (generated in {generated:.1f} s)")  # fmt: skip
    print(f"- **wall time of the build (jobpulse models): {wall:.1f} s**")
    print(f"- **peak memory (RSS of the dbt subprocess): {peak_kib / 2**20:.2f} GiB**")
    print(f"- CPU time of the dbt subprocess (user + system): {cpu:.1f} s")
    print(f"- dbt's own elapsed time: {elapsed:.1f} s; outside dbt (subprocess start, imports, "
          f"profile and project parsing, runner): {wall - elapsed:.1f} s")  # fmt: skip
    print(f"- sum of the models' execution times: {sum(models.values()):.1f} s "
          f"(4 dbt threads on {os.cpu_count()} CPUs)")  # fmt: skip
    print(f"- DuckDB file after the build: {size_mib:.0f} MiB\n")
    print("| model | execution s |\n| --- | ---: |")
    for name, seconds in sorted(models.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {seconds:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
