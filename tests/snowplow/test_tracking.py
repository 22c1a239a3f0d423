"""RunTracker: which runs are new, changed or unchanged, which need steps, and a bounded state."""

from __future__ import annotations

import json
from typing import Any

import pendulum
import pytest

from jobpulse.sources.shared.timeutil import iso_z
from jobpulse.sources.snowplow.tracking import RunTracker
from jobpulse.sources.snowplow.windows import retention_floor

NOW = pendulum.datetime(2026, 3, 2, 12, 30, 0)
FLOOR = retention_floor(NOW)
KEEP_AFTER = NOW - pendulum.duration(hours=1)
ENDPOINT = "GET runs"


def run(
    run_id: str, state: str, start: pendulum.DateTime | None = None, **extra: Any
) -> dict[str, Any]:
    item: dict[str, Any] = {"runId": run_id, "state": state, **extra}
    if start is not None:
        item["startTime"] = iso_z(start)
    return item


def entry(state: str, terminal: bool, start: pendulum.DateTime | None) -> dict[str, Any]:
    return {"state": state, "terminal": terminal, "start": iso_z(start) if start else None}


def tracker_knowing(**entries: dict[str, Any]) -> RunTracker:
    return RunTracker({"runs": entries, "listed_through": iso_z(NOW - pendulum.duration(hours=6))})


STARTED = NOW - pendulum.duration(hours=3)

# --- classification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("known", "observed", "change"),
    [
        (None, run("r", "RUNNING", STARTED), "new"),
        (None, run("r", "SUCCEEDED", STARTED), "new"),
        (entry("RUNNING", False, STARTED), run("r", "SUCCEEDED", STARTED), "updated"),
        (entry("RUNNING", False, STARTED), run("r", "FAILED", STARTED), "updated"),
        (entry("QUEUED", False, STARTED), run("r", "RUNNING", STARTED), "updated"),
        # Same state, but an end time appeared: the run finished under a state not known here.
        (
            entry("DONE_ISH", False, STARTED),
            run("r", "DONE_ISH", STARTED, endTime=iso_z(NOW)),
            "updated",
        ),
        (entry("SUCCEEDED", True, STARTED), run("r", "SUCCEEDED", STARTED), "unchanged"),
        (entry("SUCCEEDED", True, STARTED), run("r", "succeeded", STARTED), "unchanged"),
        (entry("RUNNING", False, STARTED), run("r", "RUNNING", STARTED), "unchanged"),
    ],
    ids=[
        "unknown-running",
        "unknown-finished",
        "running-to-succeeded",
        "running-to-failed",
        "queued-to-running",
        "gained-an-end-time",
        "still-succeeded",
        "case-only",
        "still-running",
    ],
)
def test_observe_classifies_runs_as_new_updated_or_unchanged(
    known: dict[str, Any] | None, observed: dict[str, Any], change: str
) -> None:
    tracker = tracker_knowing(**({"r": known} if known else {}))

    update = tracker.observe(observed, "r", ENDPOINT)

    assert update.change == change
    assert update.run is observed
    assert update.run_id == "r"
    assert update.endpoint == ENDPOINT


def test_a_run_observed_twice_in_one_load_is_unchanged_the_second_time() -> None:
    tracker = tracker_knowing()

    assert tracker.observe(run("r", "RUNNING", STARTED), "r", ENDPOINT).change == "new"
    assert tracker.observe(run("r", "RUNNING", STARTED), "r", ENDPOINT).change == "unchanged"


def test_observe_hands_on_steps_that_came_with_the_run() -> None:
    steps = [{"name": "base", "state": "SUCCEEDED"}]

    update = tracker_knowing().observe(run("r", "SUCCEEDED", STARTED), "r", ENDPOINT, steps=steps)

    assert update.steps is steps


@pytest.mark.parametrize(
    ("known", "observed", "needs_steps"),
    [
        (None, run("r", "SUCCEEDED", STARTED), True),
        (None, run("r", "RUNNING", STARTED), True),
        (entry("RUNNING", False, STARTED), run("r", "FAILED", STARTED), True),
        (entry("RUNNING", False, STARTED), run("r", "RUNNING", STARTED), True),
        (entry("SUCCEEDED", True, STARTED), run("r", "SUCCEEDED", STARTED), False),
        (entry("FAILED", True, STARTED), run("r", "FAILED", STARTED), False),
    ],
    ids=[
        "new-terminal",
        "new-running",
        "changed",
        "unchanged-still-running",
        "unchanged-succeeded",
        "unchanged-failed",
    ],
)
def test_needs_steps_for_new_changed_and_running_runs_only(
    known: dict[str, Any] | None, observed: dict[str, Any], needs_steps: bool
) -> None:
    tracker = tracker_knowing(**({"r": known} if known else {}))

    assert tracker.observe(observed, "r", ENDPOINT).needs_steps is needs_steps


def test_open_runs_lists_the_runs_not_terminal_at_their_last_observation() -> None:
    tracker = tracker_knowing(
        open_known=entry("RUNNING", False, STARTED),
        done_known=entry("SUCCEEDED", True, STARTED),
        finished_now=entry("RUNNING", False, STARTED),
        no_start=entry("QUEUED", False, None),
    )
    tracker.observe(run("finished_now", "SUCCEEDED", STARTED), "finished_now", ENDPOINT)
    tracker.observe(run("new_open", "RUNNING", NOW), "new_open", ENDPOINT)
    tracker.observe(run("new_done", "FAILED", NOW), "new_done", ENDPOINT)

    assert tracker.open_runs() == {"open_known": STARTED, "no_start": None, "new_open": NOW}


def test_forget_drops_a_run_from_the_open_runs_and_the_state() -> None:
    state: dict[str, Any] = {"runs": {"gone": entry("RUNNING", False, STARTED)}}
    tracker = RunTracker(state)

    tracker.forget("gone")
    tracker.forget("never-known")
    tracker.commit(listed_through=NOW, keep_after=KEEP_AFTER, floor=FLOOR)

    assert tracker.open_runs() == {}
    assert state["runs"] == {}


# --- commit -----------------------------------------------------------------------------------

BEFORE_FLOOR = FLOOR - pendulum.duration(seconds=1)
BETWEEN = FLOOR + pendulum.duration(days=3)
AFTER = KEEP_AFTER + pendulum.duration(minutes=10)


@pytest.mark.parametrize(
    ("known", "kept", "expired"),
    [
        (entry("RUNNING", False, BEFORE_FLOOR), False, True),
        (entry("SUCCEEDED", True, BEFORE_FLOOR), False, False),
        (entry("RUNNING", False, FLOOR), True, False),
        (entry("RUNNING", False, BETWEEN), True, False),
        (entry("SUCCEEDED", True, BETWEEN), False, False),
        (entry("SUCCEEDED", True, KEEP_AFTER - pendulum.duration(seconds=1)), False, False),
        (entry("SUCCEEDED", True, KEEP_AFTER), True, False),
        (entry("FAILED", True, AFTER), True, False),
        (entry("RUNNING", False, AFTER), True, False),
        (entry("RUNNING", False, None), True, False),
        (entry("SUCCEEDED", True, None), False, False),
    ],
    ids=[
        "open-before-floor",
        "terminal-before-floor",
        "open-at-floor",
        "open-between",
        "terminal-between",
        "terminal-just-before-keep-after",
        "terminal-at-keep-after",
        "terminal-after-keep-after",
        "open-after-keep-after",
        "open-without-start",
        "terminal-without-start",
    ],
)
def test_commit_keeps_open_and_recent_runs_and_drops_runs_before_the_floor(
    known: dict[str, Any], kept: bool, expired: bool
) -> None:
    state: dict[str, Any] = {"runs": {"r": known}}

    dropped_open = RunTracker(state).commit(listed_through=NOW, keep_after=KEEP_AFTER, floor=FLOOR)

    assert ("r" in state["runs"]) is kept
    assert dropped_open == (["r"] if expired else [])


def test_commit_stores_what_was_observed_and_the_listed_through_instant() -> None:
    state: dict[str, Any] = {"listed_through": iso_z(NOW - pendulum.duration(hours=6))}
    tracker = RunTracker(state)
    tracker.observe(run("r1", "RUNNING", AFTER, jobName="web"), "r1", ENDPOINT)
    tracker.observe(run("r2", "succeeded", AFTER), "r2", ENDPOINT)

    tracker.commit(
        listed_through=NOW + pendulum.duration(microseconds=250_000),
        keep_after=KEEP_AFTER,
        floor=FLOOR,
    )

    assert state == {
        "listed_through": "2026-03-02T12:30:00Z",
        "runs": {
            "r1": {"state": "RUNNING", "terminal": False, "start": iso_z(AFTER)},
            "r2": {"state": "SUCCEEDED", "terminal": True, "start": iso_z(AFTER)},
        },
    }


def test_the_committed_state_is_json_and_a_new_tracker_reads_it_back() -> None:
    state: dict[str, Any] = {}
    tracker = RunTracker(state)
    assert tracker.listed_through is None
    # Vendor fields that must not reach the state, whatever their type.
    observed = run("r1", "RUNNING", AFTER, steps=[{"name": "s"}], token="tok", when=NOW)
    tracker.observe(observed, "r1", ENDPOINT)
    tracker.observe(run("r2", "SUCCEEDED", AFTER), "r2", ENDPOINT)
    tracker.commit(listed_through=NOW, keep_after=KEEP_AFTER, floor=FLOOR)

    restored = json.loads(json.dumps(state))
    assert restored == state
    for stored in restored["runs"].values():
        assert set(stored) == {"state", "terminal", "start"}
    again = RunTracker(restored)
    assert again.listed_through == NOW
    assert again.open_runs() == {"r1": AFTER}
    assert again.observe(run("r2", "SUCCEEDED", AFTER), "r2", ENDPOINT).change == "unchanged"
    assert again.observe(run("r1", "SUCCEEDED", AFTER), "r1", ENDPOINT).change == "updated"


def test_the_committed_state_stays_bounded_by_keep_after_for_a_week_of_runs() -> None:
    state: dict[str, Any] = {}
    tracker = RunTracker(state)
    count = 10_000
    step = pendulum.duration(days=7).total_seconds() / count
    starts = {f"run-{i}": NOW - pendulum.duration(seconds=round(i * step)) for i in range(count)}
    for run_id, start in starts.items():
        tracker.observe(run(run_id, "SUCCEEDED", start), run_id, ENDPOINT)

    expired = tracker.commit(listed_through=NOW, keep_after=KEEP_AFTER, floor=FLOOR)

    recent = {run_id for run_id, start in starts.items() if start >= KEEP_AFTER}
    assert set(state["runs"]) == recent
    assert 0 < len(recent) < 100
    assert expired == []
    assert len(json.dumps(state)) < 100 * len(recent) + 100
