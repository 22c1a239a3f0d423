"""mParticle Warehouse Sync: connections, data models, pipelines, their health over time and
every pipeline run.

Resources:
- `mparticle_connections`, `mparticle_data_models` (merge on `id`): as listed, credentials dropped.
- `mparticle_pipelines` (merge on `id`): as listed, credentials dropped; a pipeline gone from the
  list is stored once more with `is_deleted` true and `deleted_seen_at` (the load that saw it gone).
- `mparticle_pipeline_status` (append, key `pipeline_id, observed_at`): a health snapshot per
  listed pipeline per load, the fault history the API itself does not keep.
- `mparticle_pipeline_runs` (merge on `pipeline_run_id`): every run, listed page by page from a
  cursor on `logical_date` minus a look-back; runs in progress are fetched by id until terminal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import dlt
import pendulum
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource

from jobpulse.sources.mparticle.client import MparticleClient
from jobpulse.sources.mparticle.listing import (
    PipelineListing,
    RunTracker,
    pipeline_rows,
    run_rows,
    status_rows,
)
from jobpulse.sources.mparticle.records import resource_row
from jobpulse.sources.mparticle.settings import (
    CONNECTIONS_PATH,
    DATA_MODELS_PATH,
    DEFAULT_API_PATH,
    DEFAULT_BASE_URL,
    DEFAULT_LOOKBACK_HOURS,
    DEFAULT_PAGE_SIZE,
    DEFAULT_TOKEN_URL,
    MAX_PAGE_SIZE,
    VENDOR,
)
from jobpulse.sources.shared.errors import SourceConfigError
from jobpulse.sources.shared.timeutil import utc_now

SOURCE_NAME = "mparticle"

_AUDIT: Any = {
    "created_on": {"data_type": "timestamp"},
    "last_modified_on": {"data_type": "timestamp"},
    "created_by": {"data_type": "text"},
    "last_modified_by": {"data_type": "text"},
}
_HEALTH: Any = {
    "is_active": {"data_type": "bool"},
    "is_faulted": {"data_type": "bool"},
    "faulted_reason": {"data_type": "text"},
}
_PIPELINE_COLUMNS: Any = {
    **_AUDIT,
    **_HEALTH,
    "schedule_start_time": {"data_type": "timestamp"},
    "schedule_end_time": {"data_type": "timestamp"},
    "is_deleted": {"data_type": "bool", "nullable": False},
    "deleted_seen_at": {"data_type": "timestamp"},
}
_STATUS_COLUMNS: Any = {
    **_HEALTH,
    "observed_at": {"data_type": "timestamp", "nullable": False},
    "is_connection_active": {"data_type": "bool"},
    "is_connection_faulted": {"data_type": "bool"},
    "latest_pipeline_run_id": {"data_type": "bigint"},
    "latest_pipeline_run_state": {"data_type": "text"},
}
_RUN_COLUMNS: Any = {
    **_AUDIT,
    "pipeline_run_id": {"data_type": "bigint", "nullable": False},
    "pipeline_id": {"data_type": "text"},
    "logical_date": {"data_type": "timestamp"},
    "start_date": {"data_type": "timestamp"},
    "end_date": {"data_type": "timestamp"},
    "data_interval_start": {"data_type": "timestamp"},
    "data_interval_end": {"data_type": "timestamp"},
    "records_extracted": {"data_type": "bigint"},
    "records_mapped": {"data_type": "bigint"},
    "event_batches_generated": {"data_type": "bigint"},
    "started_at": {"data_type": "timestamp"},
    "ended_at": {"data_type": "timestamp"},
    "duration_seconds": {"data_type": "double"},
}


@dlt.source(name=SOURCE_NAME)
def mparticle_source(
    workspace_id: str = dlt.config.value,
    client_id: str = dlt.config.value,
    client_secret: TSecretStrValue = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
    token_url: str = DEFAULT_TOKEN_URL,
    api_path: str = DEFAULT_API_PATH,
    lookback_hours: int = DEFAULT_LOOKBACK_HOURS,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Sequence[DltResource]:
    """mParticle Warehouse Sync. Settings under `[sources.mparticle]` or `SOURCES__MPARTICLE__*`.

    Args:
        workspace_id: the workspace whose Warehouse Sync pipelines are read.
        client_id: the OAuth client id of an mParticle API client.
        client_secret: its secret.
        base_url: the API's URL.
        token_url: the OAuth token URL.
        api_path: `platform/experimental` (the document's), `platform/v1` or `platform/v2`.
        lookback_hours: runs are listed again from this long before the latest logical date.
        page_size: runs per page, 1 to 100.
    """
    if lookback_hours < 0 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise SourceConfigError(
            VENDOR, f"lookback_hours must be >= 0 and page_size 1 to {MAX_PAGE_SIZE}"
        )
    client = MparticleClient(
        base_url=base_url,
        token_url=token_url,
        workspace_id=workspace_id,
        client_id=client_id,
        client_secret=client_secret,
        api_path=api_path,
    )
    listing = mparticle_pipeline_listing(client)
    return [
        mparticle_connections(client),
        mparticle_data_models(client),
        listing | mparticle_pipelines(client),
        listing | mparticle_pipeline_status(client),
        listing
        | mparticle_pipeline_runs(client, pendulum.duration(hours=lookback_hours), page_size),
    ]


@dlt.resource(primary_key="id", write_disposition="merge", columns=_AUDIT)
def mparticle_connections(client: MparticleClient) -> Iterator[Any]:
    endpoint = client.endpoint(CONNECTIONS_PATH)
    yield [resource_row(connection, endpoint) for connection in client.list_connections()]


@dlt.resource(
    primary_key="id",
    write_disposition="merge",
    columns={**_AUDIT, "load_timestamp_field_time_zone": {"data_type": "text"}},
)
def mparticle_data_models(client: MparticleClient) -> Iterator[Any]:
    endpoint = client.endpoint(DATA_MODELS_PATH)
    yield [resource_row(model, endpoint) for model in client.list_data_models()]


@dlt.resource(selected=False)
def mparticle_pipeline_listing(client: MparticleClient) -> Iterator[PipelineListing]:
    """The pipelines as listed now, once per load, for the three pipeline resources."""
    yield PipelineListing(client.list_pipelines(), utc_now())


@dlt.transformer(primary_key="id", write_disposition="merge", columns=_PIPELINE_COLUMNS)
def mparticle_pipelines(listing: PipelineListing, client: MparticleClient) -> Iterator[Any]:
    yield list(pipeline_rows(client, listing, dlt.current.resource_state()))


@dlt.transformer(
    primary_key=("pipeline_id", "observed_at"),
    write_disposition="append",
    columns=_STATUS_COLUMNS,
)
def mparticle_pipeline_status(listing: PipelineListing, client: MparticleClient) -> Iterator[Any]:
    yield list(status_rows(client, listing))


@dlt.transformer(primary_key="pipeline_run_id", write_disposition="merge", columns=_RUN_COLUMNS)
def mparticle_pipeline_runs(
    listing: PipelineListing,
    client: MparticleClient,
    lookback: pendulum.Duration,
    page_size: int,
) -> Iterator[Any]:
    tracker = RunTracker(dlt.current.resource_state())
    yield from run_rows(client, listing, tracker, lookback=lookback, page_size=page_size)
