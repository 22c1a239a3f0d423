"""The same mParticle load lands the same rows in DuckDB and in a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dlt
import pytest
import time_machine
from dlt.pipeline.pipeline import Pipeline

from jobpulse.sources.mparticle.sandbox import MparticleSandbox
from tests.conftest import FIXED_NOW
from tests.mparticle.helpers import load_mparticle, query

_TABLES = {
    "mparticle_connections": ("id", "id, type, is_faulted, database, created_on"),
    "mparticle_pipelines": ("id", "id, is_active, is_faulted, faulted_reason, is_deleted"),
    "mparticle_pipeline_status": (
        "pipeline_id",
        "pipeline_id, is_faulted, is_connection_faulted, latest_pipeline_run_id",
    ),
    "mparticle_pipeline_runs": (
        "pipeline_run_id",
        "pipeline_run_id, pipeline_id, pipeline_run_state, records_extracted, logical_date, "
        "started_at, ended_at, duration_seconds",
    ),
}


@pytest.mark.parametrize("api_path", ["platform/experimental", "platform/v2"])
def test_postgres_load_equals_duckdb_load(
    make_pipeline: Callable[..., Pipeline], postgres_dsn: str, api_path: str, tmp_path: Path
) -> None:
    # A frozen clock: both loads see the sandbox in exactly the same state.
    with time_machine.travel(FIXED_NOW, tick=False), MparticleSandbox(api_path=api_path) as sandbox:
        on_duckdb = make_pipeline("jobpulse_duckdb")
        on_postgres = dlt.pipeline(
            pipeline_name="jobpulse_postgres",
            destination=dlt.destinations.postgres(postgres_dsn),
            # The server lives for the whole session: a dataset of its own per spelling.
            dataset_name=f"mparticle_{api_path.rsplit('/', 1)[1]}",
            pipelines_dir=str(tmp_path / "pipelines"),
        )
        load_mparticle(on_duckdb, sandbox)
        load_mparticle(on_postgres, sandbox)

    for table, (order, columns) in _TABLES.items():
        sql = f"select {columns} from {table} order by {order}"
        duckdb_rows = query(on_duckdb, sql)
        assert duckdb_rows, table
        assert query(on_postgres, sql) == duckdb_rows, table
