"""Alation passes the whole fault matrix: on the job endpoint with an API token, and on the job
and token endpoints with a refresh token (whose 401s are cured by one re-mint)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.alation.sandbox import AlationSandbox
from jobpulse.sources.shared.sandbox import Sandbox, SandboxClock
from tests.fault_matrix import FaultMatrix, FaultMatrixCase, Scenario, scenarios

JOB = "/api/v1/bulk_metadata/job/"
TOKEN = "/integration/v1/createAPIAccessToken/"


def _sandbox(clock: SandboxClock) -> AlationSandbox:
    return AlationSandbox(
        clock=clock,
        api_token="SENTINEL-matrix-alation-token-5e1a",
        refresh_token="SENTINEL-matrix-alation-refresh-0b7d",
        issue_token=_minted(),
        requests_per_second=50,
    )


def _minted() -> Any:
    count = iter(range(1, 1000))
    return lambda: f"SENTINEL-matrix-alation-minted-{next(count)}"


def _refresh_settings(sandbox: Sandbox) -> Mapping[str, str]:
    settings = dict(SOURCES["alation"].sandbox_settings(sandbox))
    assert isinstance(sandbox, AlationSandbox)
    del settings["SOURCES__ALATION__API_TOKEN"]
    settings["SOURCES__ALATION__REFRESH_TOKEN"] = sandbox.refresh_token
    settings["SOURCES__ALATION__USER_ID"] = str(sandbox.user_id)
    return settings


_COMMON: dict[str, Any] = {
    "source": "alation",
    "vendor": "Alation",
    "make_sandbox": _sandbox,
    "endpoint_hints": {JOB: JOB, TOKEN: TOKEN},
    "tables": {"alation_jobs": "job_ref", "alation_job_errors": "job_ref, position"},
}
API_TOKEN_CASE = FaultMatrixCase(paths=(JOB,), remints_on_401=False, **_COMMON)
REFRESH_CASE = FaultMatrixCase(paths=(JOB, TOKEN), settings=_refresh_settings, **_COMMON)


def _refresh_scenarios() -> list[Any]:
    """All but a single 401 from the token endpoint itself: a refused refresh token is not
    minted again (the same refresh token would be refused again), so that load fails."""
    return [
        param
        for param in scenarios(REFRESH_CASE)
        if not (
            param.values[0].path == TOKEN
            and param.values[0].fault.name == "401"
            and not param.values[0].persistent
        )
    ]


@pytest.mark.parametrize("scenario", scenarios(API_TOKEN_CASE))
def test_fault_matrix_with_an_api_token(scenario: Scenario, fault_matrix: FaultMatrix) -> None:
    fault_matrix.run(API_TOKEN_CASE, scenario)


@pytest.mark.parametrize("scenario", _refresh_scenarios())
def test_fault_matrix_with_a_refresh_token(scenario: Scenario, fault_matrix: FaultMatrix) -> None:
    fault_matrix.run(REFRESH_CASE, scenario)
