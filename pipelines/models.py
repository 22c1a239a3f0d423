"""`jobpulse models`: build the dbt project in `sql/` with dlt's dbt runner, and read its marts.

The runner executes dbt in a subprocess of the *running* interpreter (not whatever `python` is
on PATH), with jobpulse's own dbt profiles (no DuckDB extension to download), and with dbt's
target and log folders in the pipeline's working directory rather than in the installed package.
"""

from __future__ import annotations

import argparse
import os
import sys
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import dlt
import pendulum
from dlt.common.runners import Venv
from dlt.helpers.dbt.exceptions import DBTNodeResult, DBTProcessingError
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.pipeline import DEFAULT_DATASET, PIPELINE_PREFIX, destination_for, explain
from jobpulse.pipelines.registry import SOURCES
from jobpulse.pipelines.sandboxes import environment
from jobpulse.sources.shared.redaction import redact
from jobpulse.sql import PROFILES_DIR, PROJECT_DIR

MODELS_PIPELINE: Final = "jobpulse_models"
MARTS_SUFFIX: Final = "_marts"
# Destinations jobpulse ships dbt profiles for (tested); others use dlt's bundled profiles.
OWN_PROFILES: Final = frozenset({"duckdb", "postgres"})
PROFILES_DIR_SETTING: Final = "DBT_PACKAGE_RUNNER__PACKAGE_PROFILES_DIR"

_ATTENTION = """
select job_key, source_system, job_name, health_verdict, last_status, consecutive_failures,
       success_rate_30d,
       flaky_flips_30d, is_overdue, last_run_started_at
from {schema}.job_health
where health_verdict <> 'healthy'
order by case health_verdict
    when 'failing' then 1 when 'overdue' then 2 when 'flaky' then 3 else 4 end, job_key
"""


@dataclass
class ModelsSummary:
    """What one `jobpulse models` run built (and tested), or why it failed."""

    results: list[DBTNodeResult] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def schema_prefix(dataset_name: str) -> str:
    """`jobpulse_raw` -> `jobpulse`: staging and marts land beside the raw dataset."""
    return dataset_name.removesuffix("_raw") or dataset_name


def marts_schema(dataset_name: str = DEFAULT_DATASET) -> str:
    return schema_prefix(dataset_name) + MARTS_SUFFIX


def parse_as_of(text: str) -> pendulum.DateTime:
    """`--as-of`: ISO 8601, read as UTC when it names no offset; returned in UTC."""
    parsed = pendulum.parse(text, tz="UTC")
    if not isinstance(parsed, pendulum.DateTime):
        raise ValueError(f"--as-of needs a date and time, got {text!r}")
    return parsed.in_timezone("UTC")


def as_of_argument(text: str) -> pendulum.DateTime:
    """argparse type of `--as-of`."""
    try:
        return parse_as_of(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 timestamp: {text!r}") from exc


def models_command(
    destination: str | None, dataset: str | None, as_of: pendulum.DateTime | None, test: bool
) -> int:
    """`jobpulse models`: where the last load went, unless told otherwise."""
    previous = last_load()
    destination = destination or (previous[0] if previous else "duckdb")
    dataset = dataset or (previous[1] if previous else DEFAULT_DATASET)
    summary = run_models(
        models_pipeline(destination_for(destination), dataset), as_of=as_of, test=test
    )
    print_models_summary(summary)
    return 0 if summary.ok else 1


def models_after_load(destination: str, dataset: str) -> bool:
    """`jobpulse load`: build the models on what was just loaded; True when they built."""
    summary = run_models(models_pipeline(destination_for(destination), dataset))
    print_models_summary(summary)
    return summary.ok


def models_pipeline(
    destination: Any,
    dataset_name: str = DEFAULT_DATASET,
    pipelines_dir: str | None = None,
    pipeline_name: str = MODELS_PIPELINE,
) -> Pipeline:
    """A pipeline that only carries destination, credentials and dataset to dlt's dbt runner."""
    return dlt.pipeline(
        pipeline_name=pipeline_name,
        destination=destination,
        dataset_name=dataset_name,
        pipelines_dir=pipelines_dir,  # type: ignore[arg-type]  # None means dlt's default
    )


def last_load() -> tuple[str, str] | None:
    """(destination name, dataset) of the most recent `jobpulse load`, if any ran here."""
    latest: tuple[pendulum.DateTime, str, str] | None = None
    for name in SOURCES:
        try:
            pipeline = dlt.attach(f"{PIPELINE_PREFIX}{name}")
        except Exception:  # noqa: S112  # never loaded here: nothing to learn from it
            continue
        trace = pipeline.last_trace
        if trace is None or pipeline.destination is None or trace.finished_at is None:
            continue
        finished = pendulum.instance(trace.finished_at)
        if latest is None or finished > latest[0]:
            latest = (finished, pipeline.destination.destination_name, pipeline.dataset_name)
    return None if latest is None else latest[1:]


def run_models(
    pipeline: Pipeline,
    as_of: pendulum.DateTime | None = None,
    test: bool = False,
) -> ModelsSummary:
    """Build staging views and mart tables on `pipeline`'s destination; optionally dbt-test them."""
    package_vars: dict[str, Any] = {
        "jobpulse_raw_schema": pipeline.dataset_name,
        "jobpulse_schema_prefix": schema_prefix(pipeline.dataset_name),
        "as_of": "" if as_of is None else as_of.in_timezone("UTC").isoformat(),
    }
    summary = ModelsSummary()
    try:
        with _dbt_environment(pipeline):
            runner = dlt.dbt.package(pipeline, str(PROJECT_DIR), venv=current_venv())
            summary.results.extend(runner.run(cmd_params=(), additional_vars=package_vars))
            if test:
                summary.results.extend(runner.test(additional_vars=package_vars))
    except DBTProcessingError as exc:
        failed = [r for r in exc.run_results or [] if r.status not in ("success", "pass")]
        detail = "; ".join(f"{r.model_name}: {r.message}" for r in failed) or str(exc)
        summary.error = redact(f"dbt {exc.command} failed: {detail}")
    except Exception as exc:
        summary.error = explain(exc)
    return summary


def current_venv() -> Venv:
    """The running interpreter's environment, VIRTUAL_ENV or not.

    dlt's default (`Venv.restore_current`) trusts VIRTUAL_ENV and otherwise runs `python` from
    PATH: under cron or a scheduler calling `.venv/bin/jobpulse` that is a Python without dlt.
    """
    executable = Path(sys.executable)
    context = types.SimpleNamespace(
        env_dir=sys.prefix, bin_path=str(executable.parent), env_exe=str(executable)
    )
    return Venv(context, current=True)


@contextmanager
def _dbt_environment(pipeline: Pipeline) -> Iterator[None]:
    """dbt's target/ and logs/ under the pipeline's working dir; jobpulse's profiles if ours."""
    work = Path(pipeline.working_dir) / "dbt"
    settings = {
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    destination = pipeline.destination.destination_type.rsplit(".", 1)[-1]
    if destination in OWN_PROFILES and not os.environ.get(PROFILES_DIR_SETTING):
        settings[PROFILES_DIR_SETTING] = str(PROFILES_DIR)
    with environment(settings):
        yield


def print_models_summary(summary: ModelsSummary) -> None:
    if not summary.ok:
        print(f"models: FAILED: {summary.error}")
        return
    built = sum(1 for r in summary.results if r.status == "success")
    tested = sum(1 for r in summary.results if r.status == "pass")
    print(f"models: {built} built" + (f", {tested} tests passed" if tested else ""))


def jobs_needing_attention(
    pipeline: Pipeline, dataset_name: str = DEFAULT_DATASET
) -> list[dict[str, Any]]:
    """Rows of `job_health` whose verdict is not healthy, worst first."""
    query = _ATTENTION.format(schema=marts_schema(dataset_name))
    with pipeline.sql_client() as client, client.execute_query(query) as cursor:
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def print_jobs_needing_attention(rows: Sequence[dict[str, Any]]) -> None:
    """The demo's last words: which jobs need attention, and the figures that say why."""
    if not rows:
        print("\nEvery job is healthy.")
        return
    print("\nJobs that need attention (from the job_health mart):")
    for row in rows:
        rate = row["success_rate_30d"]
        print(
            f"  {row['health_verdict']:<8} {row['source_system']:<10}"
            f" {row['job_name'] or row['job_key']:<32} last {row['last_status']:<8}"
            f" failures in a row {row['consecutive_failures']:>2}"
            f"  30-day success {'-' if rate is None else f'{rate:.0%}':>4}"
            f"  flips {row['flaky_flips_30d']}"
        )
