"""Event specifications pass the fault matrix: on the list call and on the single-spec reads.

`snowplow_event_spec_issues` is left out of the comparison: it is appended to by every load by
design (findings per load), so a faulty load that succeeds plus the recovery load hold two rounds;
and so is `compatibility_checked_at` of the specs (the time of the load that checked them).
"""

from __future__ import annotations

import pytest

from jobpulse.sources.shared.sandbox import SandboxClock
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox
from tests.fault_matrix import FaultMatrix, FaultMatrixCase, Scenario, scenarios


def _sandbox(clock: SandboxClock) -> SnowplowSandbox:
    return SnowplowSandbox(
        jobs=(),  # no runs: the jobs load alongside makes only its listing requests
        clock=clock,
        api_key="SENTINEL-specs-matrix-key-7d13",
        api_key_id="SENTINEL-specs-matrix-key-id-e580",
    )


CASE = FaultMatrixCase(
    source="snowplow",
    vendor="Snowplow",
    make_sandbox=_sandbox,
    paths=("*/event-specs/v1", "*/event-specs/v1/*"),
    endpoint_hints={
        "*/event-specs/v1": "/event-specs/v1",
        "*/event-specs/v1/*": "/event-specs/v1/",
    },
    tables={
        "snowplow_event_specs": "id",
        "snowplow_event_spec_history": "event_spec_id, version, date",
    },
    # the time of the load that checked each spec's compatibility: the recovery load's here
    ignore_columns=frozenset({"compatibility_checked_at"}),
)


@pytest.mark.parametrize("scenario", scenarios(CASE))
def test_event_specs_fault_matrix(scenario: Scenario, fault_matrix: FaultMatrix) -> None:
    fault_matrix.run(CASE, scenario)
