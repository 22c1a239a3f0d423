"""mParticle passes the whole fault matrix: on the pipelines listing and on the paged runs listing.

`mparticle_pipeline_status` is left out of the comparison: it is append-only by design (one
snapshot per load), so a load that succeeded despite a fault plus the recovery load hold two.
"""

from __future__ import annotations

import pendulum
import pytest

from jobpulse.sources.mparticle.sandbox import DEFAULT_PIPELINES, MparticleSandbox
from jobpulse.sources.shared.sandbox import SandboxClock
from tests.fault_matrix import FaultMatrix, FaultMatrixCase, Scenario, scenarios


def _sandbox(clock: SandboxClock) -> MparticleSandbox:
    # Two hourly pipelines, one of them faulted; six hours of runs, counts sent as strings.
    return MparticleSandbox(
        pipelines=DEFAULT_PIPELINES[:2],
        history=pendulum.duration(hours=6),
        clock=clock,
        client_secret="SENTINEL-matrix-secret-5b1e",
        credential_value="SENTINEL-matrix-password-0c7d",
        issue_token=lambda: f"SENTINEL-matrix-token-{pendulum.now().int_timestamp}",
    )


CASE = FaultMatrixCase(
    source="mparticle",
    vendor="mParticle",
    make_sandbox=_sandbox,
    paths=("*/inputs/warehouse/pipelines", "*/status/runs"),
    endpoint_hints={
        "*/inputs/warehouse/pipelines": "/inputs/warehouse/pipelines",
        "*/status/runs": "/status/runs",
    },
    tables={
        "mparticle_connections": "id",
        "mparticle_data_models": "id",
        "mparticle_pipelines": "id",
        "mparticle_pipeline_runs": "pipeline_run_id",
    },
)


@pytest.mark.parametrize("scenario", scenarios(CASE))
def test_fault_matrix(scenario: Scenario, fault_matrix: FaultMatrix) -> None:
    fault_matrix.run(CASE, scenario)
