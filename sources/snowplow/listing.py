"""Which runs a load fetches: every window since the last load, then runs still in progress."""

from __future__ import annotations

from collections.abc import Iterator

import pendulum
from dlt.common import logger

from jobpulse.sources.shared.gaps import Gap
from jobpulse.sources.shared.timeutil import utc_now
from jobpulse.sources.snowplow.client import SnowplowClient, none_if_missing, steps_of_run
from jobpulse.sources.snowplow.records import run_id_of
from jobpulse.sources.snowplow.settings import RUN_PATH, RUNS_PATH, VENDOR
from jobpulse.sources.snowplow.tracking import RunTracker, RunUpdate
from jobpulse.sources.snowplow.windows import (
    Window,
    clamp_to_floor,
    list_untrimmed,
    plan_windows,
    retention_floor,
    whole_seconds,
)


def run_updates(
    client: SnowplowClient,
    tracker: RunTracker,
    *,
    window_length: pendulum.Duration,
    overlap: pendulum.Duration,
    runs_cap: int,
) -> Iterator[RunUpdate | Gap]:
    """Every run listed since the last load and every run that was in progress, once each,
    with the gaps found on the way. Updates the tracker's state only when all went well."""
    now = whole_seconds(utc_now())  # the last window ends here, to the second: so does the cursor
    plan = plan_windows(
        listed_through=tracker.listed_through, now=now, window_length=window_length, overlap=overlap
    )
    if plan.gap:
        yield plan.gap
    listed: set[str] = set()
    for window in plan.windows:
        yield from _list_window(client, tracker, window, runs_cap, listed)

    for run_id, started in tracker.open_runs().items():
        if run_id not in listed:
            yield from _refresh_open_run(client, tracker, run_id, started)

    expired = tracker.commit(
        listed_through=now, keep_after=now - overlap, floor=retention_floor(now)
    )
    for run_id in expired:
        logger.warning(
            f"{VENDOR}: run {run_id} still in progress after 7 days; no longer refreshed"
        )


def _list_window(
    client: SnowplowClient, tracker: RunTracker, window: Window, runs_cap: int, listed: set[str]
) -> Iterator[RunUpdate | Gap]:
    current = clamp_to_floor(window, retention_floor(utc_now()))
    if current != window:
        gap_end = current.start if current else window.end
        yield Gap(window.start, gap_end, "the load outlived the API's retention margin")
    if current is None:
        return
    trimmed: list[Window] = []
    endpoint = client.endpoint(RUNS_PATH)
    for runs in list_untrimmed(current, client.list_runs, runs_cap, trimmed.append):
        for run in runs:
            run_id = run_id_of(run, endpoint)
            if run_id not in listed:
                listed.add(run_id)
                yield tracker.observe(run, run_id, endpoint)
    for window_part in trimmed:
        reason = f"{runs_cap} or more runs in under two minutes; the API trimmed the earliest"
        yield Gap(window_part.start, window_part.end, reason)
    logger.info(f"{VENDOR}: listed runs {window.start} .. {window.end}; {len(listed)} runs so far")


def _refresh_open_run(
    client: SnowplowClient, tracker: RunTracker, run_id: str, started: pendulum.DateTime | None
) -> Iterator[RunUpdate | Gap]:
    """Fetch a run that was in progress at the last load and that no window listed this time."""
    endpoint = client.endpoint(RUN_PATH, run_id=run_id)
    run = none_if_missing(client.get_run, run_id)
    if run is None:
        tracker.forget(run_id)
        moment = started or utc_now()
        reason = f"run {run_id} was in progress at the last load and is gone from the API"
        yield Gap(moment, moment, reason)
    else:
        yield tracker.observe(run, run_id, endpoint, steps=steps_of_run(run, endpoint))
