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
from typing import Any, Final, cast

import dlt
from dlt.common.configuration.exceptions import (
    ConfigFieldMissingException,
    ConfigValueCannotBeCoercedException,
)
from dlt.common.destination.reference import AnyDestination, Destination, TDestinationReferenceArg
from dlt.common.pipeline import get_dlt_pipelines_dir
from dlt.common.runtime.collector import NULL_COLLECTOR, LogCollector
from dlt.common.runtime.collector_base import Collector
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.defaults import install_defaults
from jobpulse.pipelines.lock import EX_TEMPFAIL, LoadLocked, pipeline_lock
from jobpulse.pipelines.settings_check import (
    SettingError,
    SourceFactory,
    checked_source,
    not_coercible,
)
from jobpulse.sources.shared.errors import ITEM_ERRORS_METRIC, SourceError
from jobpulse.sources.shared.redaction import redact

DEFAULT_DATASET = "jobpulse_raw"
DEFAULT_DUCKDB_FILE = "jobpulse.duckdb"
PIPELINE_PREFIX = "jobpulse_"
_DUCKDB_URL = "duckdb:///"

# Load capabilities per destination type, each set unless the destination factory was given its
# own. A `loader_file_format` given to `pipeline.run()` or to a resource still wins.
#
# The load-file format: dlt's default for both is `insert_values`, SQL text that the database has
# to parse whole. A 3,700-run Snowplow backfill peaked at 1.4 GB of RSS in DuckDB's load phase
# with it, and that phase took 6 s (bench/README.md).
LOAD_CAPABILITIES: Final[dict[str, dict[str, Any]]] = {
    "dlt.destinations.duckdb": {
        # DuckDB reads parquet natively (`read_parquet`): the same backfill loads in about 1 s and
        # peaks at a third of the memory. Not `jsonl`: DuckDB's `read_json` turns a JSON column
        # into one STRUCT across rows, so each object comes back with every other row's keys as
        # nulls; parquet carries a JSON column as its text, which DuckDB stores as sent.
        "preferred_loader_file_format": "parquet",
        # One load job at a time: DuckDB works inside this process, and every job's staging table
        # and merge hold their rows in its memory while they run. In parallel (dlt's default), a
        # backfill's tables were all held at once: 430-513 MB peak, one at a time 375-404.
        "loader_parallelism_strategy": "sequential",
    },
    # PostgreSQL's fastest way in is COPY; dlt streams csv files into `COPY ... FROM STDIN`.
    # (Its parquet path ends in COPY or ADBC anyway.)
    "dlt.destinations.postgres": {"preferred_loader_file_format": "csv"},
}
# DuckDB settings for the connections dlt opens to load, where the DuckDB credentials are a file
# path (or carry no `global_config` of their own); settings of a DuckDB connection last as long as
# it does, nothing is stored in the file. One thread: the load's statements are small merges, and
# each DuckDB thread keeps buffers of its own (peak 343-351 MB instead of 375-404, bench/README.md).
DUCKDB_LOAD_SETTINGS: Final[dict[str, Any]] = {"threads": 1}


def destination_for(name: str) -> TDestinationReferenceArg:
    """A dlt destination by name; DuckDB writes ./jobpulse.duckdb unless settings name a file."""
    if name == "duckdb" and not _configured("destination.duckdb.credentials"):
        return dlt.destinations.duckdb(str(Path(DEFAULT_DUCKDB_FILE).resolve()))
    return name


def _configured(key: str) -> bool:
    """Whether dlt finds a setting anywhere it looks: environment, config.toml, secrets.toml."""
    return dlt.config.get(key) is not None or dlt.secrets.get(key) is not None


def with_load_capabilities(destination: TDestinationReferenceArg) -> AnyDestination:
    """`destination` as a dlt destination factory with LOAD_CAPABILITIES for its type, and
    DUCKDB_LOAD_SETTINGS for DuckDB; what the factory was given itself is kept."""
    factory = Destination.from_reference(destination)
    if factory is None:
        raise ValueError("a destination is required")
    wanted = LOAD_CAPABILITIES.get(factory.destination_type, {})
    missing = {key: value for key, value in wanted.items() if key not in factory.caps_params}
    credentials = _duckdb_load_credentials(factory)
    if not missing and credentials is None:
        return factory
    adjusted = copy.copy(factory)  # the caller's factory is left as it was
    adjusted.caps_params = {**factory.caps_params, **missing}
    if credentials is not None:
        adjusted.config_params = {**factory.config_params, "credentials": credentials}
    return adjusted


def _duckdb_load_credentials(factory: AnyDestination) -> DuckDbCredentials | None:
    """The factory's DuckDB credentials with DUCKDB_LOAD_SETTINGS, if they are a path, or
    credentials for a file with no `global_config` of their own; else None (nothing to add, or
    credentials dlt reads from its settings, such as `DESTINATION__DUCKDB__CREDENTIALS`)."""
    if factory.destination_type != "dlt.destinations.duckdb":
        return None
    given = factory.config_params.get("credentials")
    if isinstance(given, str):
        given = DuckDbCredentials(given)
    if not isinstance(given, DuckDbCredentials) or given.global_config is not None:
        return None
    # A connection the caller opened keeps its own settings: they would outlive the load.
    if given.external_conn() is not None:
        return None
    credentials = cast(DuckDbCredentials, given.copy())  # the caller's are left as they were
    credentials.global_config = dict(DUCKDB_LOAD_SETTINGS)
    return credentials


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
        destination=with_load_capabilities(destination),
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
    where: str = ""
    """The destination, its file or database, and the dataset: where the rows went."""
    recovered: str | None = None
    """What became of load packages an interrupted load had left, if there were any."""
    locked: bool = False
    """Not started: another load of the same pipeline was running."""
    # Items a source could not load while the rest of its load committed (ITEM_ERRORS_METRIC):
    # the load is reported with them, and the command exits 1.
    item_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.item_errors


def summarize(source: str, pipeline: Pipeline) -> LoadSummary:
    summary = LoadSummary(source, where=describe_destination(pipeline))
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
                    summary.item_errors.extend(resource.custom_metrics.get(ITEM_ERRORS_METRIC, []))
    return summary


def _rows_per_table(pipeline: Pipeline) -> dict[str, int]:
    """Rows per table as normalized: for packages an interrupted load left, nothing else knows."""
    trace = pipeline.last_trace
    normalize = trace.last_normalize_info if trace is not None else None
    if normalize is None:
        return {}
    return {t: n for t, n in normalize.row_counts.items() if not t.startswith("_dlt")}


def _add_counts(into: dict[str, int], custom: dict[str, Any]) -> None:
    for key, value in custom.items():
        if isinstance(value, int):
            into[key] = into.get(key, 0) + value


def describe_destination(pipeline: Pipeline) -> str:
    """`duckdb file /abs/jobpulse.duckdb, dataset jobpulse_raw`; passwords shown as ***."""
    dataset = f"dataset {pipeline.dataset_name}"
    try:
        shown = str(pipeline.destination_client().config)  # dlt hides the secret parts
    except Exception:
        return f"{pipeline.destination.destination_name}, {dataset}"
    if shown.startswith(_DUCKDB_URL):
        return f"duckdb file {shown.removeprefix(_DUCKDB_URL)}, {dataset}"
    return f"{pipeline.destination.destination_name} {redact(shown)}, {dataset}"


def load_source(
    source_name: str,
    make_source: SourceFactory,
    destination: TDestinationReferenceArg,
    dataset_name: str = DEFAULT_DATASET,
    *,
    progress: Collector | None = None,
    pipeline_prefix: str = PIPELINE_PREFIX,
    wait_for_lock: float = 0,
    on_wait: Callable[[Path], None] | None = None,
) -> LoadSummary:
    """Load one source through its own pipeline, unless another load of it is running."""
    name = f"{pipeline_prefix}{source_name}"
    try:
        with pipeline_lock(get_dlt_pipelines_dir(), name, wait_for_lock, on_wait):
            try:
                pipeline = build_pipeline(
                    source_name,
                    destination,
                    dataset_name,
                    progress=progress,
                    pipeline_prefix=pipeline_prefix,
                )
            except Exception as exc:  # the destination's settings, say: this source fails alone
                return LoadSummary(source_name, error=explain(exc))
            return load(source_name, make_source, pipeline)
    except LoadLocked as exc:
        message = f"not started: another load of {source_name} is running (lock {exc.lock_file})"
        return LoadSummary(source_name, error=message, locked=True)


def load(
    source_name: str,
    make_source: SourceFactory,
    pipeline: Pipeline,
) -> LoadSummary:
    """Run one source into `pipeline`; failures are caught and explained, never half-committed.

    Load packages an interrupted load left behind are finished first; then new data is
    extracted and loaded in the same call (dlt's `run` would stop after the leftovers).
    """
    recovered = None
    try:
        source = checked_source(source_name, make_source)
        recovered = finish_pending(pipeline)
        pipeline.run(source)
    except Exception as exc:
        return LoadSummary(source_name, error=explain(exc), recovered=recovered)
    summary = summarize(source_name, pipeline)
    summary.recovered = recovered
    return summary


def finish_pending(pipeline: Pipeline) -> str | None:
    """Normalize and load what an interrupted load left; say what became of it (None: nothing)."""
    if not pipeline.has_pending_data:
        return None
    packages = {*pipeline.list_extracted_load_packages(), *pipeline.list_normalized_load_packages()}
    count = f"{len(packages)} load package{'s' if len(packages) > 1 else ''}"
    # With no data, dlt's run syncs with the destination, then normalizes and loads what is
    # pending and nothing else. When the dataset does not exist yet (a first load killed before
    # it loaded anything), dlt discards the local state and packages: it returns None.
    info = pipeline.run()
    if info is None:
        return (
            f"{count} left by an interrupted first load discarded (its dataset did not exist "
            "yet); the data is extracted again"
        )
    rows = ", ".join(f"{t} {n} rows" for t, n in sorted(_rows_per_table(pipeline).items()))
    return f"finished {count} left by an interrupted load" + (f" ({rows})" if rows else "")


def explain(exc: BaseException) -> str:
    """The most useful message in an exception chain: jobpulse's own, else dlt's config error."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for wanted in (SourceError, SettingError, ConfigFieldMissingException):
        for error in chain:
            if isinstance(error, wanted):
                return str(error)
    for error in chain:
        if isinstance(error, ConfigValueCannotBeCoercedException):
            return not_coercible(error)
    return redact(f"{type(chain[-1]).__name__}: {chain[-1]}")


def print_summaries(summaries: Sequence[LoadSummary]) -> None:
    for summary in summaries:
        if summary.recovered:
            print(f"{summary.source}: {summary.recovered}")
        if summary.error is not None:
            print(f"{summary.source}: {'' if summary.locked else 'FAILED: '}{summary.error}")
            continue
        changes = ", ".join(
            f"{v} {k.replace('_', ' ')}" for k, v in sorted(summary.run_changes.items())
        )
        print(
            f"{summary.source}: loaded into {summary.where}" + (f" ({changes})" if changes else "")
        )
        for table, rows in sorted(summary.rows_per_table.items()):
            print(f"  {table:<32} {rows:>8} rows")
        if not summary.rows_per_table:
            print("  nothing new")
        for message in summary.item_errors:
            print(f"  ERROR: {redact(message)}")


def exit_code(summaries: Sequence[LoadSummary]) -> int:
    """0 if every source loaded, 1 if one failed (or lost items), else 75 if one waits on
    another load."""
    if any(not s.ok and not s.locked for s in summaries):
        return 1
    return EX_TEMPFAIL if any(s.locked for s in summaries) else 0
