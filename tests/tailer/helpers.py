"""Tailer test helpers: small sandboxes, loads, and reading back what landed."""

from __future__ import annotations

import dataclasses
from typing import Any

import pendulum
from dlt.pipeline.pipeline import Pipeline

from jobpulse.sources.tailer import tailer_source
from jobpulse.sources.tailer.sandbox import DEFAULT_OPERATIONS, TailerSandbox

# The sandbox's default operations, run more often and failing more, so that a few days of
# history hold every outcome.
TABLE_TO_TABLE, STORAGE_TO_STORAGE, WORKFLOW = (
    dataclasses.replace(DEFAULT_OPERATIONS[0], every=pendulum.duration(hours=2), failure_rate=0.3),
    dataclasses.replace(DEFAULT_OPERATIONS[1], every=pendulum.duration(hours=6), failure_rate=0.1),
    # 25 to 47 hours: longer than a day
    dataclasses.replace(DEFAULT_OPERATIONS[2], mean_seconds=36 * 3600, failure_rate=0.2),
)
SMALL_OPERATIONS = (TABLE_TO_TABLE, STORAGE_TO_STORAGE, WORKFLOW)
LIMIT = 5
LOOKBACK_DAYS = 3


def load_tailer(pipeline: Pipeline, sandbox: TailerSandbox, **options: Any) -> None:
    settings: dict[str, Any] = {
        **sandbox.source_settings(),
        "limit": LIMIT,
        "initial_lookback_days": LOOKBACK_DAYS,
        **options,
    }
    pipeline.run(tailer_source(**settings))


def query(pipeline: Pipeline, sql: str) -> list[tuple[Any, ...]]:
    with pipeline.sql_client() as client:
        return [tuple(row) for row in client.execute_sql(sql) or []]


def stored_runs(pipeline: Pipeline) -> set[tuple[str, str, str]]:
    return set(query(pipeline, "select job_id, run_id, status from tailer_runs"))


def truth_runs(sandbox: TailerSandbox, since: pendulum.DateTime) -> set[tuple[str, str, str]]:
    runs = sandbox.runs_between(since, sandbox.clock.now())
    return {(run["job_id"], run["run_id"], run["status"]) for run in runs}


def first_load_floor(
    first_load_at: pendulum.DateTime, days: int = LOOKBACK_DAYS
) -> pendulum.DateTime:
    """Midnight UTC of the earliest day the first load asks for."""
    return first_load_at.in_timezone("UTC").subtract(days=days).start_of("day")


def actions(sandbox: TailerSandbox, since: int = 0) -> list[dict[str, Any]]:
    return [r.json for r in sandbox.requests[since:] if isinstance(r.json, dict)]
