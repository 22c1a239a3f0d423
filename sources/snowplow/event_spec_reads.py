"""Which requests one load of event specifications makes, and what each read gave.

One list call per load. A spec's whole history is asked for only when its latest change is newer
than the one stored (the change's own date, not the load time). With `check_compatibility` each
listed spec is read once, and that one call carries `withHistory=true` when the history is needed:
never two calls for one spec.

State (dlt resource state of the listing, committed with the data): per spec the date of the
latest change whose history is stored ("" until then), and the filters the list was called with.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pendulum
from dlt.common import logger

from jobpulse.sources.shared.records import Record
from jobpulse.sources.shared.timeutil import parse_timestamp
from jobpulse.sources.snowplow.event_spec_client import EventSpecClient, EventSpecUnreadable
from jobpulse.sources.snowplow.event_spec_records import (
    Envelope,
    history_of,
    latest_change,
    spec_id_of,
)
from jobpulse.sources.snowplow.settings import EVENT_SPECS_PATH

SPECS_KEY = "specs"
FILTERS_KEY = "filters"


@dataclass(frozen=True)
class SpecWork:
    """One listed spec, and the single-spec call it needs (if any)."""

    spec: Record
    spec_id: str
    latest: list[Record]  # its latest change, from the list's includes
    change: pendulum.DateTime | None
    fetch: bool
    with_history: bool
    check_compatibility: bool
    observed_at: pendulum.DateTime

    @property
    def name(self) -> str:
        return str(self.spec.get("name") or "")


@dataclass(frozen=True)
class DeletedSpecs:
    """Specs stored before and gone from this load's list. With filters, a spec may only have
    left them (a status filter and a status change): `confirm` asks for each one first."""

    ids: tuple[str, ...]
    observed_at: pendulum.DateTime
    confirm: bool = False


@dataclass(frozen=True)
class SpecResult:
    """A listed spec after its read: the freshest copy, its history, its findings or failure."""

    work: SpecWork
    spec: Record
    history: list[Record] = field(default_factory=list)
    history_complete: bool = False
    issues: list[Record] | None = None  # None: compatibility not checked (or the read failed)
    failure: str | None = None


def filters_key(filters: Mapping[str, str]) -> str:
    return json.dumps(dict(filters), sort_keys=True)


def plan_reads(
    listing: Envelope,
    state: dict[str, Any],
    filters: Mapping[str, str],
    check_compatibility: bool,
    observed_at: pendulum.DateTime,
    endpoint: str,
) -> Iterator[SpecWork | DeletedSpecs]:
    """The work of one load, from the list call's answer and the state; updates the state's
    list of known specs (a filter change forgets specs instead of calling them deleted)."""
    stored: dict[str, str] = state.setdefault(SPECS_KEY, {})
    listed: dict[str, SpecWork] = {}
    for spec in listing.specs:
        spec_id = spec_id_of(spec, endpoint)
        latest = history_of(listing.history, spec_id)
        change = latest_change(latest, endpoint)
        needs_history = spec_id not in stored or _newer(change, stored[spec_id])
        listed[spec_id] = SpecWork(
            spec=spec,
            spec_id=spec_id,
            latest=latest,
            change=change,
            fetch=check_compatibility or needs_history,
            with_history=needs_history,
            check_compatibility=check_compatibility,
            observed_at=observed_at,
        )
    gone = tuple(spec_id for spec_id in stored if spec_id not in listed)
    same_filters = state.get(FILTERS_KEY, filters_key(filters)) == filters_key(filters)
    state[FILTERS_KEY] = filters_key(filters)
    for spec_id in gone:
        del stored[spec_id]
    for spec_id in listed:
        stored.setdefault(spec_id, "")
    yield from listed.values()
    if gone and same_filters:
        yield DeletedSpecs(gone, observed_at, confirm=bool(filters))


def _newer(change: pendulum.DateTime | None, stored: str) -> bool:
    """Whether `change` is newer than the stored date; no stored date: the history is needed;
    no listed change at all: nothing says the spec changed."""
    if not stored:
        return True
    if change is None:
        return False
    previous = parse_timestamp(stored)
    return previous is None or change > previous


def read_spec(client: EventSpecClient, work: SpecWork) -> SpecResult:
    """The single-spec call `work` needs, if any; a refusal of this spec becomes its failure."""
    if not work.fetch:
        return SpecResult(work, work.spec)
    try:
        answer = client.get_spec(work.spec_id, with_history=work.with_history)
    except EventSpecUnreadable as exc:
        name = f" ({work.name})" if work.name else ""
        return SpecResult(
            work, work.spec, failure=f"event specification {work.spec_id}{name} not read: {exc}"
        )
    fetched = [spec for spec in answer.specs if str(spec.get("id")) == work.spec_id]
    history = history_of(answer.history, work.spec_id) if work.with_history else []
    return SpecResult(
        work,
        fetched[0] if fetched else work.spec,
        history=history,
        history_complete=work.with_history,
        issues=answer.errors if work.check_compatibility else None,
    )


def confirm_deleted(client: EventSpecClient, gone: DeletedSpecs) -> DeletedSpecs:
    """The specs of `gone` that are deleted: without filters all of them; with filters those the
    single read no longer finds (404). A spec that answers has only left the filters, and one that
    cannot be read is not called deleted: both are forgotten, with a warning for the latter."""
    if not gone.confirm:
        return gone
    deleted = []
    for spec_id in gone.ids:
        try:
            client.get_spec(spec_id, with_history=False)
        except EventSpecUnreadable as exc:
            if exc.status == 404:
                deleted.append(spec_id)
            else:
                logger.warning(f"event specification {spec_id} left the list, not marked: {exc}")
    return DeletedSpecs(tuple(deleted), gone.observed_at)


def list_endpoint(client: EventSpecClient) -> str:
    return client.snowplow.endpoint(EVENT_SPECS_PATH)
