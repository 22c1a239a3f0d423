"""Alation fixtures: a sandbox on the test clock, and loads into a real DuckDB."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from dlt.pipeline.pipeline import Pipeline

from jobpulse.sources.alation import alation_source
from jobpulse.sources.alation.sandbox import AlationSandbox, iter_answers

# Fast enough for many loads, and still enforced by the sandbox.
TEST_REQUESTS_PER_SECOND = 50.0


@pytest.fixture
def alation_sandbox(clock: time_machine.Traveller) -> Iterator[AlationSandbox]:
    with AlationSandbox(requests_per_second=TEST_REQUESTS_PER_SECOND) as sandbox:
        yield sandbox


def load_alation(pipeline: Pipeline, sandbox: AlationSandbox, **options: Any) -> None:
    flow = options.pop("flow", "api_token")
    pipeline.run(alation_source(**{**sandbox.source_settings(flow), **options}))


def query(pipeline: Pipeline, sql: str) -> list[tuple[Any, ...]]:
    with pipeline.sql_client() as client:
        return [tuple(row) for row in client.execute_sql(sql) or []]


def stored_jobs(pipeline: Pipeline) -> set[tuple[Any, ...]]:
    return set(query(pipeline, "select job_ref, status, msg, result from alation_jobs"))


def truth_jobs(sandbox: AlationSandbox) -> set[tuple[Any, ...]]:
    return {(ref, a["status"], a["msg"], a["result"]) for ref, a in iter_answers(sandbox)}


def stored_errors(pipeline: Pipeline) -> set[tuple[Any, ...]]:
    return set(query(pipeline, "select job_ref, position, error from alation_job_errors"))


def truth_errors(sandbox: AlationSandbox) -> set[tuple[Any, ...]]:
    """Every `error_objects` entry of every job, decoding `result` with plain `json.loads`."""
    errors = set()
    for ref, answer in iter_answers(sandbox):
        document: Any = None
        with contextlib.suppress(ValueError):
            document = json.loads(answer["result"])
        if isinstance(document, dict):
            errors |= {(ref, i, e) for i, e in enumerate(document.get("error_objects", []))}
    return errors


def asked(sandbox: AlationSandbox, since: int = 0) -> list[str]:
    """The jobs asked for (`id:<n>` or the name), in order, from request number `since`."""
    return [
        f"id:{r.query['id']}" if "id" in r.query else r.query["name"]
        for r in sandbox.requests[since:]
        if r.path == "/api/v1/bulk_metadata/job/"
    ]
