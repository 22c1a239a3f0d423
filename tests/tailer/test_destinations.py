"""The same Tailer load lands the same rows in DuckDB and in a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable

import dlt
import time_machine
from dlt.pipeline.pipeline import Pipeline

from jobpulse.sources.tailer.sandbox import TailerSandbox
from tests.conftest import FIXED_NOW
from tests.tailer.helpers import SMALL_OPERATIONS, load_tailer, query

_COLUMNS = (
    "job_id, run_id, status, configuration_type, tracked_configuration_id, started_at, "
    "ended_at, duration_seconds, is_terminal, last_update_date"
)


def test_postgres_load_equals_duckdb_load(
    make_pipeline: Callable[..., Pipeline], postgres_dsn: str
) -> None:
    # A frozen clock: both loads see the sandbox in exactly the same state.
    with (
        time_machine.travel(FIXED_NOW, tick=False),
        TailerSandbox(operations=SMALL_OPERATIONS) as sandbox,
    ):
        on_duckdb = make_pipeline("jobpulse_duckdb")
        on_postgres = make_pipeline(
            "jobpulse_tailer_postgres", destination=dlt.destinations.postgres(postgres_dsn)
        )
        load_tailer(on_duckdb, sandbox)
        load_tailer(on_postgres, sandbox)

    sql = f"select {_COLUMNS} from tailer_runs order by job_id, run_id"
    duckdb_rows = query(on_duckdb, sql)
    assert duckdb_rows
    assert query(on_postgres, sql) == duckdb_rows
