"""Looking for secrets in everything a load leaves behind; every vendor's secrets tests use it.

Each helper returns `{where: text}`; `assert_no_secret` then names the place a sentinel leaked to.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pyarrow.parquet
import pytest
from dlt.pipeline.pipeline import Pipeline

_GZIP_MAGIC = b"\x1f\x8b"


def assert_no_secret(secrets: Iterable[str], places: Mapping[str, str]) -> None:
    secrets = list(secrets)
    assert secrets, "name the secrets to look for"
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text, f"{secret} found in {where}"


def exception_chains(*errors: BaseException) -> dict[str, str]:
    """Each error with every cause and context it chains: dlt's trace keeps them all."""
    places = {}
    for number, error in enumerate(errors):
        links: list[str] = []
        current: BaseException | None = error
        while current is not None and len(links) < 50:
            links.append(f"{type(current).__name__}: {current}")
            current = current.__cause__ or current.__context__
        places[f"exception chain {number}"] = "\n".join(links)
    return places


def files_under(root: Path) -> dict[str, str]:
    """Every file below `root` (dlt's state, schemas, load packages, trace.pickle), as text."""
    return {f"file {path}": _as_text(path) for path in root.rglob("*") if path.is_file()}


def _as_text(path: Path) -> str:
    """A file's text, its compression undone: dlt gzips the files it extracts, and a parquet
    load file compresses its column pages, where a secret would not show as it was sent."""
    if path.suffix == ".parquet":
        return str(pyarrow.parquet.read_table(path).to_pylist())
    content = path.read_bytes()
    if content.startswith(_GZIP_MAGIC):
        content = gzip.decompress(content)
    return content.decode("utf-8", errors="replace")


def pipeline_contents(pipeline: Pipeline) -> dict[str, str]:
    """The pipeline's state and the rows of every table it loaded."""
    places = {"dlt state": json.dumps(pipeline.state, default=str)}
    with pipeline.sql_client() as client:
        for table in pipeline.default_schema.data_table_names():
            rows = client.execute_sql(f"select * from {client.make_qualified_table_name(table)}")
            places[f"table {table}"] = str(rows)
    return places


def load_leftovers(
    pipeline: Pipeline,
    logs: Iterable[str],
    capfd: pytest.CaptureFixture[str],
    errors: Iterable[BaseException],
    pipelines_dir: Path,
) -> dict[str, str]:
    """Everything loads through `pipeline` leave behind: the DEBUG log lines, the console output
    (read from `capfd` now), the errors raised (with their chains), the state and tables, and
    every file in `pipelines_dir` (the pipeline's working folders)."""
    captured = capfd.readouterr()
    return {
        "logs": "\n".join(logs),
        "stdout/stderr": captured.out + captured.err,
        **exception_chains(*errors),
        **pipeline_contents(pipeline),
        **files_under(pipelines_dir),
    }
