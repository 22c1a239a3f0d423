"""Loading the Snowplow source against a sandbox, and reading back what landed."""

from __future__ import annotations

from typing import Any

import pendulum
from dlt.pipeline.pipeline import Pipeline

from jobpulse.sources.snowplow import snowplow_source
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox
from jobpulse.sources.snowplow.settings import RETENTION, RETENTION_MARGIN


def load_snowplow(pipeline: Pipeline, sandbox: SnowplowSandbox, **options: Any) -> None:
    """One load of every Snowplow resource from `sandbox` (v3 token flow unless told otherwise)."""
    settings: dict[str, Any] = {**sandbox.source_settings(), **options}
    pipeline.run(snowplow_source(**settings))


def query(pipeline: Pipeline, sql: str) -> list[tuple[Any, ...]]:
    with pipeline.sql_client() as client:
        return [tuple(row) for row in client.execute_sql(sql) or []]


def table_exists(pipeline: Pipeline, table: str) -> bool:
    return table in pipeline.default_schema.tables and bool(
        pipeline.default_schema.get_table_columns(table)
    )


def first_listed(first_load_at: pendulum.DateTime) -> pendulum.DateTime:
    """The earliest run start the first load lists: a week before it, plus the safety margin."""
    return first_load_at - RETENTION + RETENTION_MARGIN


def truth_runs(sandbox: SnowplowSandbox, since: pendulum.DateTime) -> set[tuple[str, str]]:
    now = pendulum.now("UTC")
    return {(r["runId"], r["state"]) for r in sandbox.runs_started_between(since, now)}


def stored_runs(pipeline: Pipeline) -> set[tuple[str, str]]:
    return set(query(pipeline, "select run_id, state from snowplow_job_runs"))


def truth_steps(sandbox: SnowplowSandbox, run_ids: set[str]) -> set[tuple[str, str, str]]:
    return {
        (run_id, step["name"], step["state"])
        for run_id in run_ids
        for step in sandbox.steps_of(run_id)
    }


def stored_steps(pipeline: Pipeline) -> set[tuple[str, str, str]]:
    return set(query(pipeline, "select run_id, step_name, state from snowplow_job_steps"))
