"""Tailer passes the whole fault matrix on its one read endpoint, POST /v1/dag/status."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.shared.sandbox import Sandbox, SandboxClock
from jobpulse.sources.tailer.sandbox import TailerSandbox
from tests.fault_matrix import FaultMatrix, FaultMatrixCase, Scenario, scenarios
from tests.tailer.helpers import LIMIT, LOOKBACK_DAYS, SMALL_OPERATIONS


def _sandbox(clock: SandboxClock) -> TailerSandbox:
    return TailerSandbox(operations=SMALL_OPERATIONS, clock=clock, jwt="SENTINEL-matrix-jwt-5e71")


def _settings(sandbox: Sandbox) -> Mapping[str, str]:
    # A small limit and lookback: the loads page back day by day, a RUNNING run is re-checked.
    return {
        **SOURCES["tailer"].sandbox_settings(sandbox),
        "SOURCES__TAILER__LIMIT": str(LIMIT),
        "SOURCES__TAILER__INITIAL_LOOKBACK_DAYS": str(LOOKBACK_DAYS),
    }


CASE = FaultMatrixCase(
    source="tailer",
    vendor="Tailer",
    make_sandbox=_sandbox,
    paths=("/v1/dag/status",),
    endpoint_hints={"/v1/dag/status": "POST /v1/dag/status"},
    tables={"tailer_runs": "job_id, run_id"},
    remints_on_401=False,  # a static JWT: a 401 means get a new one
    settings=_settings,
)


@pytest.mark.parametrize("scenario", scenarios(CASE))
def test_fault_matrix(scenario: Scenario, fault_matrix: FaultMatrix) -> None:
    fault_matrix.run(CASE, scenario)
