"""Snowplow passes the whole fault matrix: on the runs listing and on the parallel step fetches."""

from __future__ import annotations

import pytest

from jobpulse.sources.shared.sandbox import SandboxClock
from jobpulse.sources.snowplow.sandbox import DEFAULT_JOBS, SnowplowSandbox
from tests.fault_matrix import FaultMatrix, FaultMatrixCase, Scenario, scenarios


def _sandbox(clock: SandboxClock) -> SnowplowSandbox:
    # The failing job alone: few runs, and failed steps, so step logs are fetched too.
    return SnowplowSandbox(
        jobs=DEFAULT_JOBS[2:3],
        clock=clock,
        api_key="SENTINEL-matrix-key-41f0",
        api_key_id="SENTINEL-matrix-key-id-9a2c",
    )


CASE = FaultMatrixCase(
    source="snowplow",
    vendor="Snowplow",
    make_sandbox=_sandbox,
    paths=("*/jobs/v1/runs", "*/steps"),
    endpoint_hints={"*/jobs/v1/runs": "/jobs/v1/runs", "*/steps": "/steps"},
    tables={
        "snowplow_job_runs": "run_id",
        "snowplow_job_steps": "run_id, step_name",
        "snowplow_step_logs": "run_id, step_name",
    },
)


@pytest.mark.parametrize("scenario", scenarios(CASE))
def test_fault_matrix(scenario: Scenario, fault_matrix: FaultMatrix) -> None:
    fault_matrix.run(CASE, scenario)
