"""No secret of an event-specification load reaches logs, errors, state, files, tables, output."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pendulum
import pytest
import time_machine
from dlt.pipeline.pipeline import Pipeline

from jobpulse.pipelines.pipeline import load, print_summaries
from jobpulse.sources.shared.sandbox import Fault
from jobpulse.sources.snowplow.event_specs import snowplow_event_specs_source
from jobpulse.sources.snowplow.sandbox import SnowplowSandbox
from jobpulse.sources.snowplow.sandbox_event_specs import SETTLED_AT, at_hours
from tests.conftest import FIXED_NOW
from tests.secret_scan import assert_no_secret, load_leftovers
from tests.test_secrets import SENTINEL_KEY, SENTINEL_KEY_ID, SENTINEL_TOKEN, SENTINELS


@pytest.fixture
def clock_start() -> pendulum.DateTime:
    return at_hours(FIXED_NOW, SETTLED_AT + 1)


@pytest.fixture
def sandbox(clock: time_machine.Traveller) -> Iterator[SnowplowSandbox]:
    counter = itertools.count(1)
    with SnowplowSandbox(
        api_key=SENTINEL_KEY,
        api_key_id=SENTINEL_KEY_ID,
        issue_token=lambda: f"{SENTINEL_TOKEN}-{next(counter)}",
    ) as started:
        yield started


def test_no_secret_in_logs_state_files_tables_or_a_reported_spec_error(
    sandbox: SnowplowSandbox,
    make_pipeline: Callable[..., Pipeline],
    all_logs: list[str],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    pipeline = make_pipeline()
    spec_id = sandbox.event_spec_catalogue()[0].spec["id"]
    echo = {
        "data": [],
        "errors": [{"type": "Error", "title": f"denied {SENTINEL_KEY} {SENTINEL_TOKEN}-1"}],
    }
    sandbox.inject(f"*/{spec_id}", Fault.status_code(422, body=json.dumps(echo)))
    settings = sandbox.source_settings()

    summary = load("snowplow", lambda: snowplow_event_specs_source(**settings), pipeline)
    print_summaries([summary])

    assert sandbox.issued_tokens, "the test must exercise minted tokens"
    assert "denied" in "".join(summary.item_errors), "the echoing refusal must be reported"
    assert all_logs, "DEBUG logging must have produced lines to check"
    assert_no_secret(
        SENTINELS,
        {
            **load_leftovers(pipeline, all_logs, capfd, (), tmp_path / "pipelines"),
            "reported spec errors": "\n".join(summary.item_errors),
        },
    )
