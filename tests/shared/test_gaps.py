"""Gaps reach `load_gaps`, merged on (source, gap_from), with a warning, and only their columns."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import pendulum
import pytest
from dlt.common import logger as dlt_logger

from jobpulse.sources.shared.gaps import LOAD_GAPS_TABLE, Gap, gap_row, load_gaps

GAP_FROM = pendulum.datetime(2024, 3, 1, 0, 0, 0)
GAP_TO = pendulum.datetime(2024, 3, 2, 6, 30, 0)
REASON = "the API keeps 30 days of history"


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dlt.Pipeline:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    return dlt.pipeline(
        pipeline_name="gaps_test",
        pipelines_dir=str(tmp_path),
        destination=dlt.destinations.duckdb(str(tmp_path / "t.duckdb")),
        dataset_name="jobpulse",
    )


@dlt.source(name="acme")
def source_with_gaps(
    gaps: list[tuple[str, pendulum.DateTime, pendulum.DateTime]], pages: bool = False
) -> Any:
    """A resource yielding a run and gaps, as a vendor's listing does (item by item, or in one
    page); one source per name."""

    @dlt.resource(
        name="updates",
        selected=False,
    )
    def updates() -> Iterator[Any]:
        items: list[Any] = [{"id": 1, "state": "SUCCEEDED"}]
        items += [Gap(gap_from, gap_to, REASON) for _, gap_from, gap_to in gaps]
        if pages:
            yield items
        else:
            yield from items

    @dlt.transformer(
        name="runs",
        primary_key="id",
        write_disposition="merge",
        columns={"finished_at": {"data_type": "timestamp"}},
    )
    def runs(item: Any) -> Iterator[Any]:
        for one in item if isinstance(item, list) else [item]:
            if not isinstance(one, Gap):
                yield one

    source = gaps[0][0] if gaps else "acme"
    return [updates | runs, updates | load_gaps(source=source)]


def rows(pipeline: dlt.Pipeline, sql: str) -> list[tuple[Any, ...]]:
    with pipeline.sql_client() as client:
        result = client.execute_sql(sql)
        assert result is not None
        return [tuple(row) for row in result]


def test_gap_row_is_a_load_gaps_row_stamped_with_the_detection_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = pendulum.datetime(2024, 3, 4, 12, 7, 0)
    monkeypatch.setattr("jobpulse.sources.shared.gaps.utc_now", lambda: now)

    assert gap_row("acme", Gap(GAP_FROM, GAP_TO, REASON)) == {
        "source": "acme",
        "gap_from": GAP_FROM,
        "gap_to": GAP_TO,
        "reason": REASON,
        "detected_at": now,
    }


def test_load_gap_logs_a_warning_naming_the_source_span_and_reason(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # dlt's logger does not propagate to the root logger, where caplog listens: route it there.
    monkeypatch.setattr(dlt_logger, "LOGGER", logging.getLogger("jobpulse.test.gaps"))

    with caplog.at_level(logging.WARNING):
        gap_row("acme", Gap(GAP_FROM, GAP_TO, REASON))

    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "acme" in message
    assert str(GAP_FROM) in message
    assert str(GAP_TO) in message
    assert REASON in message


@pytest.mark.parametrize("pages", [False, True], ids=["items", "pages"])
def test_gap_rows_load_into_load_gaps_keyed_on_source_and_gap_from(
    pipeline: dlt.Pipeline, pages: bool
) -> None:
    pipeline.run(source_with_gaps([("acme", GAP_FROM, GAP_TO)], pages=pages))

    table = pipeline.default_schema.get_table(LOAD_GAPS_TABLE)
    assert table["write_disposition"] == "merge"
    primary_key = [name for name, col in table["columns"].items() if col.get("primary_key")]
    assert sorted(primary_key) == ["gap_from", "source"]
    assert table["columns"]["gap_from"]["data_type"] == "timestamp"
    assert table["columns"]["gap_from"]["nullable"] is False
    assert rows(pipeline, "SELECT source, gap_from, gap_to, reason FROM load_gaps") == [
        ("acme", GAP_FROM, GAP_TO, REASON)
    ]
    assert rows(pipeline, "SELECT count(*) FROM load_gaps WHERE detected_at IS NOT NULL") == [(1,)]
    # the gap rows do not leak into the resource's own table, nor its columns into load_gaps
    assert rows(pipeline, "SELECT id FROM runs") == [(1,)]
    columns = pipeline.default_schema.get_table_columns(LOAD_GAPS_TABLE)
    assert sorted(name for name in columns if not name.startswith("_dlt")) == [
        "detected_at",
        "gap_from",
        "gap_to",
        "reason",
        "source",
    ]


def test_loading_the_same_gap_twice_leaves_one_row_with_the_latest_values(
    pipeline: dlt.Pipeline,
) -> None:
    later_to = GAP_TO.add(hours=1)
    pipeline.run(source_with_gaps([("acme", GAP_FROM, GAP_TO)]))
    pipeline.run(source_with_gaps([("other", GAP_FROM, GAP_TO)]))
    pipeline.run(source_with_gaps([("acme", GAP_FROM, later_to)]))

    assert rows(pipeline, "SELECT source, gap_from, gap_to FROM load_gaps ORDER BY source") == [
        ("acme", GAP_FROM, later_to),
        ("other", GAP_FROM, GAP_TO),
    ]
