"""Assemble and run one dlt pipeline per vendor source.

One pipeline per source keeps each vendor's state and load packages apart: a failing vendor
never blocks or corrupts another's data, and each can be scheduled on its own.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import dlt
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.common.destination import TLoaderFileFormat
from dlt.common.destination.reference import AnyDestination, Destination, TDestinationReferenceArg
from dlt.common.runtime.collector import NULL_COLLECTOR, LogCollector
from dlt.common.runtime.collector_base import Collector
from dlt.extract.source import DltSource
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.defaults import install_defaults
from jobpulse.sources.shared.errors import SourceError
from jobpulse.sources.shared.redaction import redact

DEFAULT_DATASET = "jobpulse_raw"
DEFAULT_DUCKDB_FILE = "jobpulse.duckdb"
PIPELINE_PREFIX = "jobpulse_"

# The load-file format per destination type. dlt's default for both is `insert_values`: SQL text
# that the database has to parse whole. A 3,700-run Snowplow backfill peaked at 1.4 GB of RSS in
# DuckDB's load phase with it (bench/README.md). Where nothing is listed, dlt's choice stands.
LOADER_FILE_FORMATS: Final[dict[str, TLoaderFileFormat]] = {
    # DuckDB reads newline-delimited JSON itself (`read_json`), in a streaming fashion, straight
    # into the table: no SQL text. Parquet would do as well but needs pyarrow, not a dependency.
    "dlt.destinations.duckdb": "jsonl",
    # PostgreSQL's fastest way in is COPY; dlt streams csv files into `COPY ... FROM STDIN`.
    # (Its parquet path also needs pyarrow, and ends in COPY or ADBC anyway.)
    "dlt.destinations.postgres": "csv",
}


def destination_for(name: str) -> TDestinationReferenceArg:
    """A dlt destination by name; DuckDB writes ./jobpulse.duckdb unless settings name a file."""
    if name == "duckdb" and not _configured("destination.duckdb.credentials"):
        return dlt.destinations.duckdb(str(Path(DEFAULT_DUCKDB_FILE).resolve()))
    return name


def _configured(key: str) -> bool:
    """Whether dlt finds a setting anywhere it looks: environment, config.toml, secrets.toml."""
    return dlt.config.get(key) is not None or dlt.secrets.get(key) is not None


def with_loader_file_format(destination: TDestinationReferenceArg) -> AnyDestination:
    """`destination` as a dlt destination factory that prefers the format LOADER_FILE_FORMATS
    lists for its type, unless the factory was given a preferred format of its own. A
    `loader_file_format` given to `pipeline.run()` or to a resource still wins."""
    factory = Destination.from_reference(destination)
    if factory is None:
        raise ValueError("a destination is required")
    chosen = LOADER_FILE_FORMATS.get(factory.destination_type)
    if chosen is None or "preferred_loader_file_format" in factory.caps_params:
        return factory
    preferring = copy.copy(factory)  # the caller's factory is left as it was
    preferring.caps_params = {**factory.caps_params, "preferred_loader_file_format": chosen}
    return preferring


def build_pipeline(
    source_name: str,
    destination: TDestinationReferenceArg,
    dataset_name: str = DEFAULT_DATASET,
    pipelines_dir: str | None = None,
    progress: Collector | None = None,
    pipeline_prefix: str = PIPELINE_PREFIX,
) -> Pipeline:
    install_defaults()
    return dlt.pipeline(
        pipeline_name=f"{pipeline_prefix}{source_name}",
        destination=with_loader_file_format(destination),
        dataset_name=dataset_name,
        pipelines_dir=pipelines_dir,  # type: ignore[arg-type]  # None means dlt's default
        progress=progress or NULL_COLLECTOR,
    )


def log_progress() -> Collector:
    """dlt's progress log on stderr every 10 s, so stdout keeps only the summary."""
    return LogCollector(log_period=10, logger=sys.stderr, dump_system_stats=False)


@dataclass
class LoadSummary:
    """What one source's load did, read back from the dlt trace."""

    source: str
    rows_per_table: dict[str, int] = field(default_factory=dict)
    run_changes: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def summarize(source: str, pipeline: Pipeline) -> LoadSummary:
    summary = LoadSummary(source)
    trace = pipeline.last_trace
    if trace is None:
        return summary
    # Rows per table as extracted, not as normalized: dlt 1.31's csv writer (PostgreSQL's load
    # files) counts cells instead of rows in the normalize metrics. jobpulse's tables are flat,
    # so every extracted row is one loaded row.
    extract = trace.last_extract_info
    if extract is not None:
        for metrics in extract.metrics.values():
            for step in metrics:
                for table, table_metrics in step["table_metrics"].items():
                    if not table.startswith("_dlt"):
                        count = summary.rows_per_table.get(table, 0) + table_metrics.items_count
                        summary.rows_per_table[table] = count
                for resource in step["resource_metrics"].values():
                    _add_counts(summary.run_changes, resource.custom_metrics)
    return summary


def _add_counts(into: dict[str, int], custom: dict[str, Any]) -> None:
    for key, value in custom.items():
        if isinstance(value, int):
            into[key] = into.get(key, 0) + value


def load(
    source_name: str,
    make_source: Callable[[], DltSource],
    pipeline: Pipeline,
) -> LoadSummary:
    """Run one source into `pipeline`; failures are caught and explained, never half-committed."""
    try:
        pipeline.run(make_source())
    except Exception as exc:
        return LoadSummary(source_name, error=explain(exc))
    return summarize(source_name, pipeline)


def explain(exc: BaseException) -> str:
    """The most useful message in an exception chain: jobpulse's own, else dlt's config error."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for wanted in (SourceError, ConfigFieldMissingException):
        for error in chain:
            if isinstance(error, wanted):
                return str(error)
    return redact(f"{type(chain[-1]).__name__}: {chain[-1]}")


def print_summaries(summaries: Sequence[LoadSummary]) -> None:
    for summary in summaries:
        if not summary.ok:
            print(f"{summary.source}: FAILED: {summary.error}")
            continue
        changes = ", ".join(
            f"{v} {k.replace('_', ' ')}" for k, v in sorted(summary.run_changes.items())
        )
        print(f"{summary.source}: loaded" + (f" ({changes})" if changes else ""))
        for table, rows in sorted(summary.rows_per_table.items()):
            print(f"  {table:<32} {rows:>8} rows")
        if not summary.rows_per_table:
            print("  nothing new")
