"""Hand-built raw job histories, shaped as the sources load them, and how to load them.

Every job exercises a definition of the marts; the expectations live in the tests, worked out by
hand from these rows. "Now" for the marts is AS_OF.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import dlt
import pendulum
from dlt.common.destination.reference import TDestinationReferenceArg
from dlt.extract.resource import DltResource
from dlt.pipeline.pipeline import Pipeline

AS_OF = pendulum.datetime(2026, 3, 20, 12, 0, 0)
AS_OF_TEXT = "2026-03-20T12:00:00Z"

Rows = list[dict[str, Any]]


def at(text: str) -> pendulum.DateTime:
    """A UTC instant from 'MM-DD HH:MM[:SS]' in 2026."""
    return pendulum.parse(f"2026-{text.replace(' ', 'T')}", tz="UTC")  # type: ignore[return-value]


def snowplow_run(
    run_id: str,
    job: str,
    state: str,
    start: str,
    seconds: float | None,
    name: str | None = None,
) -> dict[str, Any]:
    """A run as `snowplow_job_runs` holds it: ended_at only once terminal."""
    started = at(start)
    running = state in ("RUNNING", "WAITING")
    return {
        "run_id": run_id,
        "job_id": job,
        "job_name": name or f"Job {job[1:].upper()}",
        "environment": "prod",
        "state": state,
        "start_time": started.isoformat(),
        "duration": None if seconds is None else f"PT{seconds}S",
        "organization_id": "org-1",
        "started_at": started,
        "ended_at": None if running or seconds is None else started + timedelta(seconds=seconds),
        "duration_seconds": seconds,
    }


def snowplow_runs() -> Rows:
    return [
        # ja: flaky; a failure streak across midnight UTC with a skipped run inside; running now
        snowplow_run("a1", "ja", "SUCCEEDED", "03-18 20:00", 600),
        snowplow_run("a2", "ja", "FAILED", "03-18 23:00", 300),
        snowplow_run("a3", "ja", "FAILED", "03-19 01:00", 300),
        snowplow_run("a4", "ja", "SKIPPED", "03-19 02:00", None),
        snowplow_run("a5", "ja", "SUCCEEDED", "03-19 03:00", 600),
        snowplow_run("a6", "ja", "FAILED", "03-19 05:00", 300),
        snowplow_run("a7", "ja", "SUCCEEDED", "03-19 06:00", 600),
        snowplow_run("a8", "ja", "RUNNING", "03-20 11:00", None, name="Job A renamed"),
        snowplow_run("a9", "ja", "SUCCEEDED", "03-21 09:00", 600, name="Job A v3"),  # after as_of
        # jb: only ever fails, one failure older than 30 days
        snowplow_run("b0", "jb", "FAILED", "02-01 08:00", 120),
        snowplow_run("b1", "jb", "FAILED", "03-10 08:00", 120),
        snowplow_run("b2", "jb", "FAILED", "03-15 08:00", 120),
        # jc: the last success is a duration regression (ratio 4, MAD 5)
        snowplow_run("c1", "jc", "SUCCEEDED_NO_OP", "03-20 07:00", 100),
        snowplow_run("c2", "jc", "SUCCEEDED", "03-20 08:00", 110),
        snowplow_run("c3", "jc", "SUCCEEDED", "03-20 09:00", 90),
        snowplow_run("c4", "jc", "SUCCEEDED", "03-20 10:00", 100),
        snowplow_run("c5", "jc", "SUCCEEDED", "03-20 11:00", 400),
        # jd: equal start times, ordered by run_key: d1 (failed) then d2 (success)
        snowplow_run("d0", "jd", "SUCCEEDED", "03-01 10:00", 60),
        snowplow_run("d1", "jd", "FAILED", "03-20 09:00", 60),
        snowplow_run("d2", "jd", "SUCCEEDED", "03-20 09:00", 60),
        # jj: hourly, then silent for 31 h (overdue); j6 is a regression by robust z only
        snowplow_run("j1", "jj", "succeeded", "03-19 00:00", 100),
        snowplow_run("j2", "jj", "SUCCEEDED", "03-19 01:00", 104),
        snowplow_run("j3", "jj", "SUCCEEDED", "03-19 02:00", 96),
        snowplow_run("j4", "jj", "SUCCEEDED", "03-19 03:00", 102),
        snowplow_run("j5", "jj", "SUCCEEDED", "03-19 04:00", 98),
        snowplow_run("j6", "jj", "SUCCEEDED", "03-19 05:00", 120),
        # jk: regression with MAD = 0 (robust z null)
        snowplow_run("k1", "jk", "SUCCEEDED", "03-17 00:00", 50),
        snowplow_run("k2", "jk", "SUCCEEDED", "03-17 01:00", 50),
        snowplow_run("k3", "jk", "SUCCEEDED", "03-17 02:00", 50),
        snowplow_run("k4", "jk", "SUCCEEDED", "03-17 03:00", 100),
    ]


def snowplow_step(run_id: str, step: str, state: str, start: str, seconds: float) -> dict[str, Any]:
    started = at(start)
    return {
        "run_id": run_id,
        "step_name": step,
        "state": state,
        "dependencies": [],
        "duration": f"PT{seconds}S",
        "started_at": started,
        "ended_at": started + timedelta(seconds=seconds),
        "duration_seconds": seconds,
        "organization_id": "org-1",
    }


def snowplow_steps() -> Rows:
    return [
        snowplow_step("a1", "extract", "SUCCEEDED", "03-18 20:00", 200),
        snowplow_step("a1", "load", "SUCCEEDED", "03-18 20:03:20", 400),
        snowplow_step("a2", "extract", "SUCCEEDED", "03-18 23:00", 100),
        snowplow_step("a2", "load", "FAILED", "03-18 23:01:40", 200),
    ]


def tailer_run(
    job_id: str, run_id: str, status: str, start: str, seconds: float | None
) -> dict[str, Any]:
    started = at(start)
    configuration_id = job_id.split("|")[1]
    return {
        "account": "000099",
        "environment": "DEV",
        "configuration_type": job_id.split("|")[0],
        "configuration_id": configuration_id,
        "job_id": job_id,
        "run_id": run_id,
        "status": status,
        "duration": None if seconds is None else f"0:00:{seconds:02.0f}.000000",
        "start_execution_date": started.isoformat(),
        "started_at": started,
        "duration_seconds": seconds,
        "ended_at": None if status == "RUNNING" else started + timedelta(seconds=seconds or 0),
    }


TAILER_E = "gbq-to-gbq|000099_cfg_e_DEV"
TAILER_F = "storage-to-storage|000099_cfg_f"


def tailer_runs() -> Rows:
    return [
        # e: no terminal run at all
        tailer_run(TAILER_E, "20260320-e1", "RUNNING", "03-20 10:00", None),
        # f: "Checked" is a failure, "No match" a skip, status case does not matter
        tailer_run(TAILER_F, "20260319-f1", "Checked", "03-19 10:00", 30),
        tailer_run(TAILER_F, "20260319-f2", "No match", "03-19 11:00", 5),
        tailer_run(TAILER_F, "20260319-f3", "Success", "03-19 12:00", 40),
    ]


ALATION_NAME = "MetadataExtraction#1_2026-03-19-08-00-00-000000-00-00-4ea1dc02"


def alation_jobs() -> Rows:
    return [
        {
            "job_ref": ALATION_NAME,
            "job_id": None,
            "job_name": ALATION_NAME,
            "job_type": "MetadataExtraction",
            "job_key": "MetadataExtraction#1",
            "status": "successful",
            "msg": "Job finished in 2.0 seconds at 2026-03-19 08:00:02.000000+00:00",
            "result": '{"updated_objects": 1, "number_received": 2, "error_objects": ["x"]}',
            "started_at": at("03-19 08:00"),
            "finished_at": at("03-19 08:00:02"),
            "duration_seconds": 2.0,
            "updated_objects": 1,
            "number_received": 2,
            "error_count": 1,
        },
        {
            "job_ref": "id:1",
            "job_id": 1,
            "status": "successful",
            "msg": "Job finished in 0.5 seconds at 2026-03-19 09:00:00.500000+00:00",
            "result": "Bulk Query Ingestion Succeeded: 3 new events ingested, "
            "1 previously-ingested events skipped.",
            "finished_at": at("03-19 09:00:00.5"),
            "duration_seconds": 0.5,
            "new_events_ingested": 3,
            "events_skipped": 1,
        },
        {"job_ref": "id:2", "job_id": 2, "status": "running", "msg": "", "result": ""},
    ]


def alation_job_errors() -> Rows:
    return [{"job_ref": ALATION_NAME, "position": 0, "error": "Line 1. Clé: schéma_b ≠ id"}]


def mparticle_pipelines() -> Rows:
    return [
        {
            "id": "pipe-1",
            "name": "Example Pipeline",
            "environment": "development",
            "schedule_interval": "hourly",
            "is_active": True,
            "is_faulted": False,
            "is_deleted": False,
        }
    ]


def mparticle_run(
    run_id: int, state: str, start: str, seconds: float | None, extracted: int | None
) -> dict[str, Any]:
    started = at(start)
    return {
        "pipeline_run_id": run_id,
        "pipeline_id": "pipe-1",
        "workspace_id": 5328,
        "logical_date": started,
        "start_date": started.isoformat(),
        "pipeline_run_type": "scheduled",
        "pipeline_run_state": state,
        "is_externally_triggered": False,
        "records_extracted": extracted,
        "records_mapped": None if extracted is None else extracted - 10,
        "started_at": started,
        "ended_at": None if seconds is None else started + timedelta(seconds=seconds),
        "duration_seconds": seconds,
    }


def mparticle_runs() -> Rows:
    return [
        mparticle_run(250, "failed", "03-18 17:15:00", 60, 100),
        mparticle_run(251, "success", "03-19 17:15:48", 300, 1376),
        mparticle_run(252, "triggered", "03-20 11:30", None, None),
    ]


def snowplow_step_logs() -> Rows:
    log = {"stdout_truncated": False, "stderr_truncated": True, "organization_id": "org-1"}
    return [
        {
            **log,
            "run_id": "a2",
            "step_name": "load",
            "state": "FAILED",
            "stdout": "loading",
            "stdout_bytes": 7,
            "stderr": "…disk full",
            "stderr_bytes": 5000,
        },
        # a log whose run is not (yet) in snowplow_job_runs
        {
            **log,
            "run_id": "zz",
            "step_name": "extract",
            "state": "Succeeded",
            "stdout": "ok",
            "stdout_bytes": 2,
            "stderr": None,
            "stderr_truncated": None,
            "stderr_bytes": 0,
        },
    ]


def mparticle_connections() -> Rows:
    return [
        {
            "id": "conn-1",
            "name": "Snowflake prod",
            "workspace_id": 5328,
            "is_faulted": False,
            "type": "Snowflake",
            "source_account_id": "acme-123",
            "region": "us-east-1",
            "warehouse": "MP_WH",
            "database": "MP_DB",
            "role": "MP_ROLE",
            "user": "MP_USER",
            "snowflake_aws_external_id": "ext-id-1",
            "created_on": at("03-01 09:00"),
            "created_by": "dev@acme.example",
            "last_modified_on": at("03-02 09:00"),
            "last_modified_by": "ops@acme.example",
        }
    ]


def mparticle_data_models() -> Rows:
    return [
        {
            "id": "dm-1",
            "name": "Open tickets",
            "workspace_id": 5328,
            "type": "SQL",
            "sql_query": "SELECT email FROM tickets",
            "load_timestamp_field_type": "timestamp_ltz",
            "load_timestamp_field_name": "updated_at",
            "load_timestamp_field_time_zone": "UTC",
            "load_timestamp_field_time_offset": 0,
            "created_on": at("03-01 09:30"),
            "created_by": "dev@acme.example",
            "last_modified_on": at("03-01 09:30"),
            "last_modified_by": "dev@acme.example",
        }
    ]


def mparticle_status(observed: str, **fields: Any) -> dict[str, Any]:
    """A `mparticle_pipeline_status` snapshot of pipe-1 taken by the load at `observed`."""
    flags = {"is_active": True, "is_faulted": False, "is_connection_active": True}
    return {"pipeline_id": "pipe-1", "observed_at": at(observed), **flags, **fields}


def mparticle_pipeline_status() -> Rows:
    return [
        mparticle_status("03-18 10:00", is_faulted=True, faulted_reason="connection refused"),
        mparticle_status(
            "03-19 10:00", latest_pipeline_run_id=250, latest_pipeline_run_state="failed"
        ),
        mparticle_status(
            "03-20 11:45", latest_pipeline_run_id=252, latest_pipeline_run_state="dataset_triggered"
        ),
    ]


def load_gaps() -> Rows:
    return [
        {
            "source": "snowplow",
            "gap_from": at("03-01 00:00"),
            "gap_to": at("03-02 12:00"),
            "reason": "older than the API's 7 days",
            "detected_at": at("03-10 08:00"),
        }
    ]


# Three loads of event specifications; L2 checked compatibility of every spec but Checkout.
SPEC_L0, SPEC_L1, SPEC_L2 = at("03-18 10:00"), at("03-19 10:00"), at("03-20 10:00")


def event_spec(spec_id: str, name: str, checked_at: Any, **fields: Any) -> dict[str, Any]:
    return {
        "id": spec_id,
        "name": name,
        "status": "published",
        "version": 1,
        "is_deleted": False,
        "deleted_seen_at": None,
        "compatibility_checked_at": checked_at,
        "organization_id": "org-1",
        **fields,
    }


def snowplow_event_specs() -> Rows:
    return [
        event_spec("spec-open", "Link click", SPEC_L2, version=2),
        event_spec("spec-cleared", "Add to cart", SPEC_L2),  # L2 found none
        event_spec("spec-unchecked", "Checkout", SPEC_L1),  # L2 did not check it
        event_spec("spec-legacy", "Search", None),  # stored before the column existed
        event_spec("spec-gone", "Old", SPEC_L1, is_deleted=True, deleted_seen_at=SPEC_L2),
    ]


def event_spec_issue(spec_id: str, observed_at: Any, title: str) -> dict[str, Any]:
    return {
        "event_spec_id": spec_id,
        "type": "Warning",
        "code": "SchemaIncompatible",
        "title": title,
        "source": f"iglu:com.acme/{spec_id}/jsonschema/1-0-1",
        "observed_at": observed_at,
        "event_spec_version": 1,
    }


def snowplow_event_spec_issues() -> Rows:
    return [
        event_spec_issue("spec-open", SPEC_L1, "Incompatible with 1-0-1"),
        event_spec_issue("spec-open", SPEC_L2, "Incompatible with 1-0-1"),
        event_spec_issue("spec-cleared", SPEC_L1, "Incompatible with 1-0-1"),
        event_spec_issue("spec-unchecked", SPEC_L1, "Incompatible with 1-0-1"),
        event_spec_issue("spec-legacy", SPEC_L0, "Undecidable"),
        event_spec_issue("spec-legacy", SPEC_L1, "Incompatible with 1-0-1"),
        event_spec_issue("spec-gone", SPEC_L1, "Incompatible with 1-0-1"),
    ]


def snowplow_event_spec_history() -> Rows:
    entry = {"event_spec_id": "spec-open", "type": "history", "author": "dev@acme.example"}
    return [
        {**entry, "version": 1, "date": SPEC_L0, "status": "draft", "message": "initial"},
        {**entry, "version": 2, "date": SPEC_L1, "status": "published", "message": "publish"},
    ]


def all_vendors() -> dict[str, Rows]:
    return {
        "snowplow_job_runs": snowplow_runs(),
        "snowplow_job_steps": snowplow_steps(),
        "snowplow_step_logs": snowplow_step_logs(),
        "snowplow_event_specs": snowplow_event_specs(),
        "snowplow_event_spec_history": snowplow_event_spec_history(),
        "snowplow_event_spec_issues": snowplow_event_spec_issues(),
        "tailer_runs": tailer_runs(),
        "alation_jobs": alation_jobs(),
        "alation_job_errors": alation_job_errors(),
        "mparticle_connections": mparticle_connections(),
        "mparticle_data_models": mparticle_data_models(),
        "mparticle_pipelines": mparticle_pipelines(),
        "mparticle_pipeline_status": mparticle_pipeline_status(),
        "mparticle_pipeline_runs": mparticle_runs(),
        "load_gaps": load_gaps(),
    }


RUN_TABLES = ("snowplow_job_runs", "tailer_runs", "alation_jobs", "mparticle_pipeline_runs")


def load_raw(
    tables: Mapping[str, Rows],
    destination: TDestinationReferenceArg,
    dataset_name: str,
    pipelines_dir: str,
) -> Pipeline:
    """Load the rows with dlt, so the raw tables carry dlt's own types and columns."""
    pipeline = dlt.pipeline(
        pipeline_name="raw_history",
        destination=destination,
        dataset_name=dataset_name,
        pipelines_dir=pipelines_dir,
    )
    pipeline.run(list(_resources(tables)))
    return pipeline


def _resources(tables: Mapping[str, Rows]) -> Iterator[DltResource]:
    for name, rows in tables.items():
        yield dlt.resource(rows, name=name, write_disposition="replace")


def query(pipeline: Pipeline, sql: str) -> list[tuple[Any, ...]]:
    with pipeline.sql_client() as client, client.execute_query(sql) as cursor:
        return [tuple(row) for row in cursor.fetchall()]


def normalised(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows comparable across databases: UTC instants, floats to 9 significant digits."""

    def value(v: Any) -> Any:
        if isinstance(v, float):
            return float(f"{v:.9g}")
        if hasattr(v, "tzinfo") and getattr(v, "tzinfo", None) is not None:
            return pendulum.instance(v).in_timezone("UTC")
        if type(v).__name__ == "Decimal":
            return float(f"{float(v):.9g}")
        return v

    return sorted((tuple(value(v) for v in row) for row in rows), key=repr)
