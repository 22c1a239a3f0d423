"""Each destination loads from the file format the shared pipeline code chooses for it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import dlt
import pytest
from dlt.common.destination.reference import TDestinationReferenceArg

from jobpulse.pipelines.pipeline import build_pipeline, with_loader_file_format


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        (lambda path: dlt.destinations.duckdb(str(path / "x.duckdb")), "insert_values"),
        (lambda path: dlt.destinations.postgres("postgresql://u:p@127.0.0.1:1/db"), "csv"),
        (lambda path: "postgres", "csv"),
        (lambda path: dlt.destinations.filesystem(str(path)), "jsonl"),  # dlt's own choice
    ],
    ids=["duckdb unlisted", "postgres", "postgres by name", "filesystem unlisted"],
)
def test_preferred_format_per_destination_type(
    tmp_path: Path, destination: Callable[[Path], TDestinationReferenceArg], expected: str
) -> None:
    chosen = with_loader_file_format(destination(tmp_path))
    assert chosen.capabilities().preferred_loader_file_format == expected


def test_a_format_the_caller_chose_is_kept_and_the_callers_factory_untouched(
    tmp_path: Path,
) -> None:
    own = dlt.destinations.duckdb(
        str(tmp_path / "x.duckdb"), preferred_loader_file_format="insert_values"
    )
    plain = dlt.destinations.duckdb(str(tmp_path / "y.duckdb"))
    assert with_loader_file_format(own).capabilities().preferred_loader_file_format == (
        "insert_values"
    )
    with_loader_file_format(plain)
    assert "preferred_loader_file_format" not in plain.caps_params


def test_build_pipeline_loads_postgres_from_csv(tmp_path: Path, postgres_dsn: str) -> None:
    pipeline = build_pipeline(
        "formats", dlt.destinations.postgres(postgres_dsn), pipelines_dir=str(tmp_path)
    )
    info = pipeline.run([{"id": 1, "text": "a"}], table_name="items")
    formats = {
        job.job_file_info.file_format
        for package in info.load_packages
        for job in package.jobs["completed_jobs"]
        if job.job_file_info.table_name == "items"
    }
    assert formats == {"csv"}
