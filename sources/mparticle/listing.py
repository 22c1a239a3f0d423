"""What one load reads about pipelines and their runs, and what it remembers for the next.

Resource state (committed by dlt with the data of the same load, so a failed load changes none):
- `mparticle_pipelines`: `pipelines`, `{id: record}` of the pipelines listed last time (without
  credentials), so that one gone from the list can be stored once as `is_deleted`.
- `mparticle_pipeline_runs`: `cursors`, `{pipeline_id: latest logical_date listed}`, and
  `open_runs`, `{pipeline_run_id: pipeline_id}` for runs not terminal at the last load.
Both are bounded by the workspace's pipelines and runs in progress, never by history.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

import pendulum
from dlt.common import logger

from jobpulse.sources.mparticle.client import MparticleClient
from jobpulse.sources.mparticle.records import (
    is_terminal,
    pipeline_row,
    run_row,
    status_row,
    without_credentials,
)
from jobpulse.sources.mparticle.settings import (
    PIPELINES_PATH,
    RUN_PATH,
    RUNS_PATH,
    STATUS_PATH,
    VENDOR,
)
from jobpulse.sources.shared.errors import VendorAPIError
from jobpulse.sources.shared.records import Record
from jobpulse.sources.shared.timeutil import iso_z, parse_timestamp


@dataclass(frozen=True)
class PipelineListing:
    """The pipelines listed by one load, and the load's time: `observed_at` of its snapshots."""

    pipelines: list[Record]
    observed_at: pendulum.DateTime


def pipeline_rows(
    client: MparticleClient, listing: PipelineListing, state: MutableMapping[str, Any]
) -> Iterator[Record]:
    """Listed pipelines (`is_deleted` false), then those listed last time and gone now."""
    endpoint = client.endpoint(PIPELINES_PATH)
    known: dict[str, Record] = dict(state.get("pipelines", {}))
    listed: dict[str, Record] = {}
    for pipeline in listing.pipelines:
        listed[pipeline["id"]] = without_credentials(pipeline)
        yield pipeline_row(pipeline, endpoint)
    for pipeline_id, record in known.items():
        if pipeline_id not in listed:
            logger.info(f"{VENDOR}: pipeline {pipeline_id} is no longer listed; marked deleted")
            yield pipeline_row(record, endpoint, deleted_seen_at=listing.observed_at)
    state["pipelines"] = listed


def status_rows(client: MparticleClient, listing: PipelineListing) -> Iterator[Record]:
    """One health snapshot per listed pipeline."""
    for pipeline in listing.pipelines:
        pipeline_id = pipeline["id"]
        try:
            status = client.get_status(pipeline_id)
        except VendorAPIError as exc:
            if exc.status != 404:
                raise
            logger.warning(f"{exc}; pipeline deleted since it was listed, no snapshot")
            continue
        endpoint = client.endpoint(STATUS_PATH, pipeline_id=pipeline_id)
        yield status_row(pipeline, status, listing.observed_at, endpoint)


class RunTracker:
    """Cursors per pipeline and the runs still in progress, read from and written to state."""

    def __init__(self, state: MutableMapping[str, Any]) -> None:
        self._state = state
        self.cursors: dict[str, str] = dict(state.get("cursors", {}))
        self.open_runs: dict[str, str] = dict(state.get("open_runs", {}))
        self.seen: set[int] = set()

    def start_date(self, pipeline_id: str, lookback: pendulum.Duration) -> pendulum.DateTime | None:
        cursor = parse_timestamp(self.cursors.get(pipeline_id))
        return None if cursor is None else cursor - lookback

    def observe(self, pipeline_id: str, row: Record) -> bool:
        """Note a fetched run; False when this load already had it (a repeated page)."""
        run_id = row["pipeline_run_id"]
        if run_id in self.seen:
            return False
        self.seen.add(run_id)
        if is_terminal(row):
            self.open_runs.pop(str(run_id), None)
        else:
            self.open_runs[str(run_id)] = pipeline_id
        logical = row.get("logical_date")
        if isinstance(logical, pendulum.DateTime):
            cursor = parse_timestamp(self.cursors.get(pipeline_id))
            if cursor is None or logical > cursor:
                self.cursors[pipeline_id] = iso_z(logical)
        return True

    def commit(self, listed_pipelines: set[str]) -> None:
        self._state["cursors"] = {
            pipeline_id: cursor
            for pipeline_id, cursor in self.cursors.items()
            if pipeline_id in listed_pipelines
        }
        self._state["open_runs"] = self.open_runs


def run_rows(
    client: MparticleClient,
    listing: PipelineListing,
    tracker: RunTracker,
    *,
    lookback: pendulum.Duration,
    page_size: int,
) -> Iterator[list[Record]]:
    """Each listed pipeline's runs since its cursor (minus `lookback`), page by page; then each
    run that was in progress at the last load and not listed now, fetched by id."""
    for pipeline in listing.pipelines:
        pipeline_id = pipeline["id"]
        endpoint = client.endpoint(RUNS_PATH, pipeline_id=pipeline_id)
        start = tracker.start_date(pipeline_id, lookback)
        try:
            for page in client.list_runs(pipeline_id, start, page_size):
                rows = [run_row(run, pipeline_id, endpoint) for run in page]
                yield [row for row in rows if tracker.observe(pipeline_id, row)]
        except VendorAPIError as exc:
            if exc.status != 404:
                raise
            logger.warning(f"{exc}; pipeline deleted since it was listed, runs skipped")
    for run_id, pipeline_id in sorted(tracker.open_runs.items()):
        if int(run_id) not in tracker.seen:
            yield list(_refresh(client, tracker, pipeline_id, run_id))
    tracker.commit({pipeline["id"] for pipeline in listing.pipelines})


def _refresh(
    client: MparticleClient, tracker: RunTracker, pipeline_id: str, run_id: str
) -> Iterator[Record]:
    """A run in progress at the last load, by id; one the API no longer has is forgotten."""
    try:
        run = client.get_run(pipeline_id, run_id)
    except VendorAPIError as exc:
        if exc.status != 404:
            raise
        logger.warning(f"{exc}; run {run_id} was in progress and is gone; no longer followed")
        tracker.open_runs.pop(run_id, None)
        return
    row = run_row(
        run, pipeline_id, client.endpoint(RUN_PATH, pipeline_id=pipeline_id, run_id=run_id)
    )
    if tracker.observe(pipeline_id, row):
        yield row
