"""`jobpulse mparticle trigger`, an explicit operation: start a pipeline run, maybe wait for it.

Never part of a load. The trigger is sent once: a 400 (the pipeline is not idle) is an answer,
not a transient failure, and is reported as the API words it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from dlt.common import logger

from jobpulse.sources.mparticle.client import MparticleClient
from jobpulse.sources.mparticle.records import is_success, is_terminal, run_id_of, run_state
from jobpulse.sources.mparticle.settings import PIPELINE_PATH, VENDOR
from jobpulse.sources.shared.errors import SourceError, VendorAPIError

DEFAULT_TIMEOUT_SECONDS = 3600.0
DEFAULT_POLL_SECONDS = 15.0


class Outcome(IntEnum):
    """Exit codes of `jobpulse mparticle trigger`."""

    SUCCEEDED = 0  # triggered (and, with --wait, the run succeeded)
    FAILED = 1  # --wait: the run ended in a state other than success
    TIMED_OUT = 2  # --wait: the run was not terminal within the timeout
    NOT_TRIGGERED = 3  # refused (already in progress), unknown pipeline, or any other error


@dataclass(frozen=True)
class TriggerResult:
    outcome: Outcome
    message: str
    run_id: int | None = None


def trigger(
    client: MparticleClient,
    pipeline_id: str,
    *,
    wait: bool = False,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> TriggerResult:
    """Trigger `pipeline_id`; with `wait`, poll its run until terminal or `timeout` seconds
    (`sleep` and `clock` default to `time.sleep` and the wall clock, `time.time`)."""
    try:
        answer = client.trigger(pipeline_id)
        run_id = run_id_of(answer, client.endpoint(PIPELINE_PATH, "POST", pipeline_id=pipeline_id))
    except VendorAPIError as exc:
        return TriggerResult(Outcome.NOT_TRIGGERED, _refusal(pipeline_id, exc))
    except SourceError as exc:
        return TriggerResult(Outcome.NOT_TRIGGERED, f"{VENDOR}: {exc}")
    started = f"{VENDOR}: pipeline {pipeline_id}: run {run_id} triggered ({answer.get('status')})"
    if not wait:
        return TriggerResult(Outcome.SUCCEEDED, started, run_id)
    logger.info(started)
    return _wait(
        client, pipeline_id, run_id, timeout, poll_seconds, sleep or time.sleep, clock or time.time
    )


def _refusal(pipeline_id: str, exc: VendorAPIError) -> str:
    if exc.status == 404:
        return f"{VENDOR}: pipeline {pipeline_id} not found: {exc}"
    if exc.status == 400:
        return f"{VENDOR}: pipeline {pipeline_id} not triggered: {_api_message(exc)}"
    return f"{VENDOR}: pipeline {pipeline_id} not triggered: {exc}"


def _api_message(exc: VendorAPIError) -> str:
    """The API's own words (`errors[].message` in the documented error body), else the error."""
    try:
        body = json.loads(exc.body)
    except ValueError:
        return str(exc)
    errors = body.get("errors") if isinstance(body, dict) else None
    messages = [
        str(error["message"])
        for error in errors or []
        if isinstance(error, dict) and error.get("message")
    ]
    if not messages and isinstance(body, dict) and body.get("message"):
        messages = [str(body["message"])]
    return " ".join(messages) or str(exc)


def _wait(
    client: MparticleClient,
    pipeline_id: str,
    run_id: int,
    timeout: float,
    poll_seconds: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> TriggerResult:
    deadline = clock() + timeout
    state = "unknown"
    while True:
        try:
            run = client.get_run(pipeline_id, run_id)
        except VendorAPIError as exc:
            if exc.status != 404:  # a run just triggered may not be readable at once
                return TriggerResult(Outcome.NOT_TRIGGERED, f"{VENDOR}: {exc}", run_id)
        else:
            state = run_state(run) or "unknown"
            if is_terminal(run):
                outcome = Outcome.SUCCEEDED if is_success(run) else Outcome.FAILED
                message = f"{VENDOR}: pipeline {pipeline_id}: run {run_id} ended: {state}"
                return TriggerResult(outcome, message, run_id)
        if clock() >= deadline:
            message = (
                f"{VENDOR}: pipeline {pipeline_id}: run {run_id} still {state} "
                f"after {timeout:g} s; stopped waiting (the run goes on)"
            )
            return TriggerResult(Outcome.TIMED_OUT, message, run_id)
        sleep(min(poll_seconds, max(0.0, deadline - clock())))
