"""The secret scan sees through the compression of the files a load leaves behind."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow
import pyarrow.parquet
import pytest

from tests.secret_scan import assert_no_secret, files_under

SENTINEL = "sentinel-secret-0b6f2c"


def _write_parquet(path: Path) -> None:
    table = pyarrow.table({"note": [f"padding {n} " * 50 + SENTINEL for n in range(200)]})
    # no column statistics: they would keep the smallest and largest value as plain bytes
    pyarrow.parquet.write_table(table, path, compression="zstd", write_statistics=False)


def _write_gzip(path: Path) -> None:
    path.write_bytes(gzip.compress(("row\n" * 1000 + SENTINEL).encode()))


@pytest.mark.parametrize(
    ("name", "write"),
    [("items.0.parquet", _write_parquet), ("items.0.typed-jsonl", _write_gzip)],
    ids=["parquet", "gzip"],
)
def test_a_secret_in_a_compressed_file_is_found(tmp_path: Path, name: str, write: object) -> None:
    path = tmp_path / name
    write(path)  # type: ignore[operator]
    assert SENTINEL.encode() not in path.read_bytes()  # compressed: not visible as bytes
    with pytest.raises(AssertionError, match=SENTINEL):
        assert_no_secret([SENTINEL], files_under(tmp_path))
