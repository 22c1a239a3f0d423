"""Alation bulk-metadata jobs: every job's outcome, counts and errors, parsed and kept.

Alation's Job Status API answers one job at a time, by integer id or by name; there is no list.
The jobs are the configured ids and names, plus the ids that discovery finds.

Resources:
- `alation_jobs` (merge on `job_ref`: `id:<n>` or the job name): `status`, `msg` and `result`
  as sent, and what they hold: `finished_at`, `duration_seconds`, `updated_objects`,
  `number_received`, `error_count`, `new_events_ingested`, `events_skipped`; `job_type`,
  `job_key` and `started_at` from the name. Running jobs are fetched again until they end.
- `alation_job_errors` (merge on `job_ref, position`): one row per entry of `error_objects`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import dlt
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource

from jobpulse.sources.alation.client import AlationClient
from jobpulse.sources.alation.config import job_ids_setting, job_names_setting
from jobpulse.sources.alation.records import ERROR_COLUMNS, JOB_COLUMNS, JobRows
from jobpulse.sources.alation.settings import (
    DEFAULT_DISCOVER_MAX_MISSES,
    DEFAULT_REQUESTS_PER_SECOND,
    SETTING_PREFIX,
    VENDOR,
)
from jobpulse.sources.alation.tracking import JobTracker
from jobpulse.sources.alation.updates import job_updates
from jobpulse.sources.shared.errors import SourceConfigError

SOURCE_NAME = "alation"


@dlt.source(name=SOURCE_NAME)
def alation_source(
    base_url: str = dlt.config.value,
    api_token: TSecretStrValue | None = None,
    refresh_token: TSecretStrValue | None = None,
    user_id: int | None = None,
    job_ids: Any = None,
    job_names: Any = None,
    discover_max_misses: int = DEFAULT_DISCOVER_MAX_MISSES,
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND,
) -> Sequence[DltResource]:
    """Alation job status. Settings under `[sources.alation]` or `SOURCES__ALATION__*`.

    Args:
        base_url: the Alation instance, e.g. `https://yourcompany.alation.com`.
        api_token: an API access token, sent as the `TOKEN` header.
        refresh_token: instead of `api_token`: a refresh token, with `user_id`, to mint
            API access tokens (in memory only; a new one once when one is refused).
        user_id: the id of the user the refresh token belongs to.
        job_ids: integer job ids to track (optional with discovery): a list, or in the
            environment a JSON list (`[12, 13]`), one id, or ids separated by commas.
        job_names: job names to track, e.g. `MetadataExtraction#1_2017-...`: a list, or in the
            environment a JSON list, one name, or names separated by commas.
        discover_max_misses: probe ids above the highest found until this many consecutive
            ids past it are not found; 0 turns discovery off.
        requests_per_second: requests are serial and at most this many a second.
    """
    ids, names = job_ids_setting(job_ids), job_names_setting(job_names)
    if discover_max_misses < 0:
        raise SourceConfigError(VENDOR, f"{SETTING_PREFIX}DISCOVER_MAX_MISSES must be >= 0")
    if discover_max_misses == 0 and not ids and not names:
        raise SourceConfigError(
            VENDOR,
            f"nothing to load: list jobs in {SETTING_PREFIX}JOB_IDS or {SETTING_PREFIX}JOB_NAMES, "
            f"or turn discovery on ({SETTING_PREFIX}DISCOVER_MAX_MISSES > 0)",
        )
    client = AlationClient(
        base_url,
        api_token=api_token,
        refresh_token=refresh_token,
        user_id=user_id,
        requests_per_second=requests_per_second,
    )
    updates = alation_job_updates(client, ids, names, discover_max_misses)
    return [updates | alation_jobs(), updates | alation_job_errors()]


@dlt.resource(selected=False)
def alation_job_updates(
    client: AlationClient, job_ids: list[int], job_names: list[str], discover_max_misses: int
) -> Iterator[JobRows]:
    """Every job this load asks for, parsed once; the state is updated as answers arrive."""
    tracker = JobTracker(dlt.current.resource_state())
    yield from job_updates(client, tracker, job_ids, job_names, discover_max_misses)
    tracker.save(job_ids, job_names)


@dlt.transformer(primary_key="job_ref", write_disposition="merge", columns=JOB_COLUMNS)
def alation_jobs(rows: JobRows) -> Iterator[dict[str, Any]]:
    metrics = dlt.current.resource_metrics()
    kind = "finished_jobs" if rows.is_terminal else "running_jobs"
    metrics[kind] = metrics.get(kind, 0) + 1
    yield rows.job


@dlt.transformer(
    primary_key=("job_ref", "position"), write_disposition="merge", columns=ERROR_COLUMNS
)
def alation_job_errors(rows: JobRows) -> list[dict[str, Any]]:
    return rows.errors
