"""Snowplow event specifications: every spec, its whole history, its compatibility findings.

Resources:
- `snowplow_event_specs` (merge on `id`): each spec as the API returns it (`event.schema` and
  `entities` as JSON columns), `is_deleted`, `deleted_seen_at` (the load that found it gone),
  `compatibility_checked_at` (the latest load that read its findings: the findings with that
  `observed_at` are the open ones, none when it found none).
- `snowplow_event_spec_history` (merge on `event_spec_id, version, date`): every history entry
  ever seen, including versions the API later discards when a newer one is published.
- `snowplow_event_spec_issues` (append): the `errors` entries of each spec, stamped `observed_at`
  (this load's time), when `check_compatibility` is on.

`snowplow_sources` gives what `jobpulse load --source snowplow` runs in its one pipeline: the jobs
source and, unless `event_specs` is false, this one. Each keeps its own dlt schema and state, and
both commit together in that pipeline's run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import dlt
from dlt.common.configuration import with_config
from dlt.common.typing import TSecretStrValue
from dlt.extract.source import DltSource
from dlt.sources import DltResource

from jobpulse.sources.shared.errors import ITEM_ERRORS_METRIC, SourceConfigError
from jobpulse.sources.shared.timeutil import utc_now
from jobpulse.sources.snowplow import snowplow_source
from jobpulse.sources.snowplow.client import SnowplowClient
from jobpulse.sources.snowplow.event_spec_client import EventSpecClient
from jobpulse.sources.snowplow.event_spec_reads import (
    SPECS_KEY,
    DeletedSpecs,
    SpecResult,
    SpecWork,
    confirm_deleted,
    list_endpoint,
    plan_reads,
    read_spec,
)
from jobpulse.sources.snowplow.event_spec_records import (
    deleted_row,
    history_row,
    issue_row,
    spec_row,
)
from jobpulse.sources.snowplow.event_spec_store import StoredColumn, stored_rows
from jobpulse.sources.snowplow.settings import (
    DEFAULT_BASE_URL,
    EVENT_SPEC_FILTERS,
    EVENT_SPEC_STATUSES,
    VENDOR,
)

SOURCE_NAME = "snowplow_event_specs"
LISTING = "snowplow_event_spec_listing"
SPECS_TABLE = "snowplow_event_specs"
CHECKED_AT = "compatibility_checked_at"

_SPEC_COLUMNS: Any = {
    "event__schema": {"data_type": "json"},
    "entities": {"data_type": "json"},
    "version": {"data_type": "bigint"},
    "is_deleted": {"data_type": "bool"},
    "deleted_seen_at": {"data_type": "timestamp"},
    CHECKED_AT: {"data_type": "timestamp"},
}


@with_config(sections=("sources", "snowplow"))
def snowplow_sources(event_specs: bool = True) -> list[DltSource]:
    """The jobs source and, unless `event_specs` is false, the event-specifications source."""
    sources = [snowplow_source()]
    if event_specs:
        sources.append(snowplow_event_specs_source())
    return sources


@dlt.source(name=SOURCE_NAME, section="snowplow")
def snowplow_event_specs_source(
    organization_id: str = dlt.config.value,
    api_key: TSecretStrValue = dlt.secrets.value,
    api_key_id: TSecretStrValue | None = None,
    base_url: str = DEFAULT_BASE_URL,
    check_compatibility: bool = True,
    event_spec_filters: Mapping[str, str] | None = None,
) -> Sequence[DltResource]:
    """Snowplow event specifications. Settings under `[sources.snowplow]` (shared with the jobs).

    Args:
        check_compatibility: read each live spec once per load for its compatibility findings.
        event_spec_filters: `dataProductId`, `sourceId` and/or `status`, passed to the list call.
    """
    filters = _checked_filters(event_spec_filters)
    client = EventSpecClient(SnowplowClient(base_url, organization_id, api_key, api_key_id))
    reads = snowplow_event_spec_listing(client, filters, check_compatibility) | (
        snowplow_event_spec_reads(client)
    )
    resources = [
        reads
        | snowplow_event_specs(client.organization_id, StoredColumn(SPECS_TABLE, "id", CHECKED_AT)),
        reads | snowplow_event_spec_history(),
    ]
    if check_compatibility:
        resources.append(reads | snowplow_event_spec_issues())
    return resources


def _checked_filters(filters: Mapping[str, Any] | None) -> dict[str, str]:
    given = dict(filters or {})
    unknown = sorted(set(given) - set(EVENT_SPEC_FILTERS))
    if unknown:
        raise SourceConfigError(
            VENDOR, f"event_spec_filters: unknown {unknown}; allowed: {list(EVENT_SPEC_FILTERS)}"
        )
    status = given.get("status")
    if status is not None and str(status) not in EVENT_SPEC_STATUSES:
        raise SourceConfigError(
            VENDOR,
            f"event_spec_filters.status must be one of {EVENT_SPEC_STATUSES}, got {status!r}",
        )
    return {key: str(value) for key, value in given.items() if value not in (None, "")}


@dlt.resource(name=LISTING, selected=False)
def snowplow_event_spec_listing(
    client: EventSpecClient, filters: Mapping[str, str], check_compatibility: bool
) -> Iterator[SpecWork | DeletedSpecs]:
    """One list call: the live specs with their latest change, and the specs gone since."""
    observed_at = utc_now()
    listing = client.list_specs(filters)
    yield from plan_reads(
        listing,
        dlt.current.resource_state(),
        filters,
        check_compatibility,
        observed_at,
        list_endpoint(client),
    )


@dlt.transformer(selected=False, parallelized=True)
def snowplow_event_spec_reads(
    work: SpecWork | DeletedSpecs, client: EventSpecClient
) -> SpecResult | DeletedSpecs:
    """At most one single-spec call per spec, in parallel (bounded by `[extract] workers`)."""
    if isinstance(work, DeletedSpecs):
        return confirm_deleted(client, work)
    return read_spec(client, work)


@dlt.transformer(
    name=SPECS_TABLE, primary_key="id", write_disposition="merge", columns=_SPEC_COLUMNS
)
def snowplow_event_specs(
    item: SpecResult | DeletedSpecs, organization_id: str, stored_checks: StoredColumn
) -> Iterator[dict[str, Any]]:
    """Live specs as read; specs gone from the list marked deleted, their other fields kept.
    A spec whose compatibility this load did not check (check off, or its read failed) keeps
    the stored `compatibility_checked_at`: a merge replaces the whole row."""
    metrics = dlt.current.resource_metrics()
    if isinstance(item, DeletedSpecs):
        if not item.ids:
            return
        stored = stored_rows(SPECS_TABLE, "id", item.ids)
        metrics["deleted_event_specs"] = metrics.get("deleted_event_specs", 0) + len(item.ids)
        for spec_id in item.ids:
            yield deleted_row(stored.get(spec_id), spec_id, item.observed_at)
        return
    metrics["listed_event_specs"] = metrics.get("listed_event_specs", 0) + 1
    if item.failure is not None:
        metrics.setdefault(ITEM_ERRORS_METRIC, []).append(item.failure)
    if item.issues is None:
        checked_at = stored_checks.get(item.work.spec_id)
    else:
        checked_at = item.work.observed_at
    yield spec_row(item.spec, organization_id, checked_at)


@dlt.transformer(
    primary_key=("event_spec_id", "version", "date"),
    write_disposition="merge",
    columns={"date": {"data_type": "timestamp"}, "version": {"data_type": "bigint"}},
)
def snowplow_event_spec_history(item: SpecResult | DeletedSpecs) -> Iterator[dict[str, Any]]:
    """The whole history of specs that changed; the date of the latest change stored in state
    only once that history is in this load."""
    if isinstance(item, DeletedSpecs) or not item.work.with_history:
        return
    work = item.work
    endpoint = f"history of event specification {work.spec_id}"
    # The list's latest change too: a failed read still records it, a full one may lack it.
    entries = [*item.history, *work.latest]
    rows = {
        (r["version"], r["date"]): r
        for r in (history_row(e, work.spec_id, endpoint) for e in entries)
    }
    yield from rows.values()
    if item.history_complete:
        # No change dated at all: the history is stored as of this load.
        stored_up_to = max((date for _, date in rows), default=work.observed_at)
        known = dlt.current.resource_state(LISTING).setdefault(SPECS_KEY, {})
        known[work.spec_id] = stored_up_to.isoformat()


@dlt.transformer(
    primary_key=("event_spec_id", "code", "source", "title", "observed_at"),
    write_disposition="append",
    columns={"observed_at": {"data_type": "timestamp"}},
)
def snowplow_event_spec_issues(item: SpecResult | DeletedSpecs) -> Iterator[dict[str, Any]]:
    """Each compatibility finding of each live spec, as seen by this load."""
    if isinstance(item, DeletedSpecs) or item.issues is None:
        return
    version = item.spec.get("version")
    for error in item.issues:
        yield issue_row(error, item.work.spec_id, version, item.work.observed_at)
