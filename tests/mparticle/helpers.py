"""Loading the mParticle source against a sandbox, and reading back what landed."""

from __future__ import annotations

from typing import Any

from dlt.pipeline.pipeline import Pipeline

from jobpulse.sources.mparticle import mparticle_source
from jobpulse.sources.mparticle.sandbox import MparticleSandbox

RUNS_PATH_PART = "/status/runs"


def load_mparticle(pipeline: Pipeline, sandbox: MparticleSandbox, **options: Any) -> None:
    settings: dict[str, Any] = {**sandbox.source_settings(), **options}
    pipeline.run(mparticle_source(**settings))


def query(pipeline: Pipeline, sql: str) -> list[tuple[Any, ...]]:
    with pipeline.sql_client() as client:
        return [tuple(row) for row in client.execute_sql(sql) or []]


def truth_runs(sandbox: MparticleSandbox) -> set[tuple[int, str, str]]:
    """(pipeline_run_id, pipeline_id, state) of every run of every listed pipeline, now."""
    return {
        (run["pipeline_run_id"], run["id"], run["pipeline_run_state"])
        for spec in sandbox.listed_pipelines()
        for run in sandbox.runs_of(spec.id)
    }


def stored_runs(pipeline: Pipeline) -> set[tuple[int, str, str]]:
    sql = "select pipeline_run_id, pipeline_id, pipeline_run_state from mparticle_pipeline_runs"
    return set(query(pipeline, sql))
