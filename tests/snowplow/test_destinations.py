"""The same Snowplow load lands the same rows in DuckDB and in a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable

import dlt
import time_machine
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.pipeline import summarize
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox
from tests.conftest import FIXED_NOW
from tests.snowplow.helpers import load_snowplow, query

_TABLES = {
    "snowplow_job_runs": "run_id, job_id, job_name, environment, state, started_at, ended_at, "
    "duration_seconds",
    "snowplow_job_steps": "run_id, step_name, state, started_at, ended_at, duration_seconds",
    "snowplow_step_logs": "run_id, step_name, stdout, stderr, stdout_truncated, stderr_truncated",
}


def test_postgres_load_equals_duckdb_load(
    make_pipeline: Callable[..., Pipeline], postgres_dsn: str
) -> None:
    # A frozen clock: both loads see the sandbox in exactly the same state.
    with time_machine.travel(FIXED_NOW, tick=False), SnowplowSandbox() as sandbox:
        on_duckdb = make_pipeline("jobpulse_duckdb")
        on_postgres = make_pipeline(
            "jobpulse_postgres", destination=dlt.destinations.postgres(postgres_dsn)
        )
        load_snowplow(on_duckdb, sandbox)
        load_snowplow(on_postgres, sandbox)

    # Each loads from its own file format (jsonl, csv): the summary counts rows alike.
    duckdb_summary = summarize("snowplow", on_duckdb).rows_per_table
    assert (
        duckdb_summary["snowplow_job_runs"]
        == query(on_duckdb, "select count(*) from snowplow_job_runs")[0][0]
    )
    assert summarize("snowplow", on_postgres).rows_per_table == duckdb_summary

    for table, columns in _TABLES.items():
        order = "run_id, step_name" if "step_name" in columns else "run_id"
        sql = f"select {columns} from {table} order by {order}"
        duckdb_rows = query(on_duckdb, sql)
        assert duckdb_rows, table
        assert query(on_postgres, sql) == duckdb_rows, table
