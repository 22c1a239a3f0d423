"""Each destination loads from the file format the shared pipeline code chooses for it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import dlt
import duckdb
import pytest
from dlt.common.destination.reference import TDestinationReferenceArg
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from jobpulse.pipelines.pipeline import build_pipeline, with_load_capabilities


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        (lambda path: dlt.destinations.duckdb(str(path / "x.duckdb")), "parquet"),
        (lambda path: dlt.destinations.postgres("postgresql://u:p@127.0.0.1:1/db"), "csv"),
        (lambda path: "postgres", "csv"),
        (lambda path: dlt.destinations.filesystem(str(path)), "jsonl"),  # dlt's own choice
    ],
    ids=["duckdb", "postgres", "postgres by name", "filesystem unlisted"],
)
def test_preferred_format_per_destination_type(
    tmp_path: Path, destination: Callable[[Path], TDestinationReferenceArg], expected: str
) -> None:
    chosen = with_load_capabilities(destination(tmp_path))
    assert chosen.capabilities().preferred_loader_file_format == expected


def test_a_format_the_caller_chose_is_kept_and_the_callers_factory_untouched(
    tmp_path: Path,
) -> None:
    own = dlt.destinations.duckdb(
        str(tmp_path / "x.duckdb"), preferred_loader_file_format="insert_values"
    )
    plain = dlt.destinations.duckdb(str(tmp_path / "y.duckdb"))
    assert with_load_capabilities(own).capabilities().preferred_loader_file_format == (
        "insert_values"
    )
    with_load_capabilities(plain)
    assert "preferred_loader_file_format" not in plain.caps_params


# Objects of different shapes in one JSON column: a reader that infers one type for the column
# (DuckDB's `read_json` infers a STRUCT) hands each row every other row's keys as nulls.
_OBJECTS = [{"a": 1}, {"b": {"c": [1, 2]}}, {"d": "x"}]


@pytest.fixture(params=["duckdb", "postgres"])
def destination(
    request: pytest.FixtureRequest, tmp_path: Path
) -> tuple[TDestinationReferenceArg, str]:
    if request.param == "duckdb":
        return dlt.destinations.duckdb(str(tmp_path / "formats.duckdb")), "parquet"
    dsn: str = request.getfixturevalue("postgres_dsn")
    return dlt.destinations.postgres(dsn), "csv"


def test_build_pipeline_loads_from_its_format_and_keeps_json_objects_as_sent(
    tmp_path: Path, destination: tuple[TDestinationReferenceArg, str]
) -> None:
    factory, expected_format = destination
    pipeline = build_pipeline("formats", factory, pipelines_dir=str(tmp_path / "pipelines"))
    rows = [{"id": n, "payload": payload} for n, payload in enumerate(_OBJECTS)]
    info = pipeline.run(rows, table_name="items", columns={"payload": {"data_type": "json"}})
    formats = {
        job.job_file_info.file_format
        for package in info.load_packages
        for job in package.jobs["completed_jobs"]
        if job.job_file_info.table_name == "items"
    }
    assert formats == {expected_format}
    with pipeline.sql_client() as client:
        stored = client.execute_sql("select id, payload from items order by id") or []
    # PostgreSQL's driver decodes a JSON column; DuckDB's hands back its text.
    payloads = [
        json.loads(payload) if isinstance(payload, str) else payload for _, payload in stored
    ]
    assert payloads == _OBJECTS


def test_duckdb_loads_one_job_at_a_time_with_one_thread(tmp_path: Path) -> None:
    pipeline = build_pipeline(
        "sequential",
        dlt.destinations.duckdb(str(tmp_path / "x.duckdb")),
        pipelines_dir=str(tmp_path),
    )
    assert pipeline.destination.capabilities().loader_parallelism_strategy == "sequential"
    pipeline.run([{"id": 1}], table_name="items")
    with pipeline.sql_client() as client:
        threads = client.execute_sql("select current_setting('threads')") or []
    assert threads == [(1,)]


def test_duckdb_load_settings_apply_only_where_the_caller_set_none(tmp_path: Path) -> None:
    own = DuckDbCredentials(str(tmp_path / "x.duckdb"), global_config={"threads": 2})
    chosen = with_load_capabilities(dlt.destinations.duckdb(own))
    assert chosen.config_params["credentials"].global_config == {"threads": 2}
    plain = DuckDbCredentials(str(tmp_path / "x.duckdb"))
    chosen = with_load_capabilities(dlt.destinations.duckdb(plain))
    assert chosen.config_params["credentials"].global_config == {"threads": 1}
    assert plain.global_config is None  # the caller's credentials are left as they were
    own_strategy = dlt.destinations.duckdb(
        str(tmp_path / "y.duckdb"), loader_parallelism_strategy="parallel"
    )
    assert with_load_capabilities(own_strategy).caps_params["loader_parallelism_strategy"] == (
        "parallel"
    )
    connection = duckdb.connect(str(tmp_path / "z.duckdb"))
    try:
        external = with_load_capabilities(dlt.destinations.duckdb(connection))
        assert external.config_params["credentials"] is connection  # its settings are its own
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("environment", "expected"),
    [({}, "system"), ({"ARROW_DEFAULT_MEMORY_POOL": "mimalloc"}, "mimalloc")],
    ids=["default", "the user's choice"],
)
def test_the_parquet_writer_allocates_from_the_system_allocator_unless_told_otherwise(
    tmp_path: Path, environment: dict[str, str], expected: str
) -> None:
    """pyarrow's own pool would keep normalize's memory through the load (bench/README.md). Run
    in a process of its own: pyarrow picks its allocator once per process."""
    database = str(tmp_path / "w.duckdb")
    script = (
        "import dlt\n"
        "from jobpulse.pipelines.pipeline import build_pipeline\n"
        f"pipeline = build_pipeline('pool', dlt.destinations.duckdb({database!r}),"
        f" pipelines_dir={str(tmp_path)!r})\n"
        "pipeline.run([{'id': n} for n in range(10)], table_name='items')\n"
        "import pyarrow\n"  # imported by the parquet writer already: this only names it
        "print(pyarrow.default_memory_pool().backend_name)\n"
    )
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, check=True, cwd=tmp_path, env={**clean, **environment},
    )  # fmt: skip
    assert done.stdout.split("\n")[-2] == expected
