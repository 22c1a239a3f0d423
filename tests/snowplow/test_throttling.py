"""Against the sandbox: 16 requests in flight at first, fewer after 429s, then more again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from dlt.pipeline.pipeline import Pipeline
from werkzeug.wrappers import Request

from jobpulse.sources.shared.sandbox import Fault, RecordedRequest
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox
from tests.snowplow.helpers import load_snowplow, stored_runs

WORKERS = 16
HALVED = WORKERS // 2
THROTTLED = 16


class ThrottlingOnceBusy(SnowplowSandbox):
    """Answers 429 (Retry-After: 1) to THROTTLED steps requests from the 40th on: by then the
    load has as many requests in flight as it will have."""

    def __init__(self) -> None:
        # The latency keeps requests overlapping, so that the number in flight is the limiter's.
        super().__init__(latency_seconds=0.1)
        self.steps_requests = 0

    def on_steps(self, request: Request, organization_id: str, run_id: str) -> Any:
        with self._lock:
            self.steps_requests += 1
            busy = self.steps_requests == 40
        if busy:
            self.inject(
                "*/steps", Fault.status_code(429, headers={"Retry-After": "1"}), times=THROTTLED
            )
        return super().on_steps(request, organization_id, run_id)


def _arrival_order(requests: list[RecordedRequest]) -> list[RecordedRequest]:
    return sorted(requests, key=lambda request: request.arrived)


def test_requests_in_flight_fall_after_429s_then_recover(
    clock: time_machine.Traveller,
    make_pipeline: Callable[..., Pipeline],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXTRACT__WORKERS", str(WORKERS))
    pipeline = make_pipeline()
    with ThrottlingOnceBusy() as sandbox:
        load_snowplow(pipeline, sandbox)

    assert stored_runs(pipeline)  # the load went through
    requests = _arrival_order(sandbox.requests)
    throttled = [request for request in requests if request.status == 429]
    assert len(throttled) == THROTTLED
    first_429_answered = min(request.answered for request in throttled)
    last_429_answered = max(request.answered for request in throttled)
    before = [request for request in requests if request.arrived < first_429_answered]
    after = [request for request in requests if request.arrived > last_429_answered]

    assert max(request.in_flight for request in before) > HALVED
    # No new request before the Retry-After has passed, counted from the first 429.
    assert after[0].arrived >= first_429_answered + 1
    # The limit halved: until as many answers as the new limit came back, at most that many.
    assert max(request.in_flight for request in after[:HALVED]) <= HALVED
    # ... and grew again while the sandbox kept answering.
    assert max(request.in_flight for request in after[HALVED:]) > HALVED
