"""One load's requests, in order: configured names, configured and running ids, then discovery.

Every request is serial (one generator, one client); the client spaces them out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dlt.common import logger

from jobpulse.sources.alation.client import AlationClient, NotFound
from jobpulse.sources.alation.records import JobRows, job_ref, job_rows
from jobpulse.sources.alation.settings import SETTING_PREFIX, VENDOR
from jobpulse.sources.alation.tracking import JobTracker


def job_updates(
    client: AlationClient,
    tracker: JobTracker,
    job_ids: Sequence[int],
    job_names: Sequence[str],
    discover_max_misses: int,
) -> Iterator[JobRows]:
    """Rows of every job this load fetches; `tracker` is updated as answers arrive."""
    for name in tracker.names_to_fetch(job_names):
        note = f"listed in {SETTING_PREFIX}JOB_NAMES" if name in job_names else "was running"
        rows = _fetch(client, None, name, missing=note)
        if rows is not None:
            tracker.saw_name(name, terminal=rows.is_terminal)
            yield rows
    found: dict[int, bool] = {}  # ids asked for in this load: found or not
    for job_id in tracker.ids_to_fetch(job_ids):
        configured = job_id in job_ids
        note = f"listed in {SETTING_PREFIX}JOB_IDS" if configured else "was running"
        rows = _fetch(client, job_id, None, missing=note)
        found[job_id] = rows is not None
        if rows is None:
            tracker.missed_id(job_id, configured=configured)
            continue
        tracker.saw_id(job_id, terminal=rows.is_terminal)
        yield rows
    if discover_max_misses > 0:
        yield from _discover(client, tracker, found, discover_max_misses)


def _discover(
    client: AlationClient, tracker: JobTracker, found: dict[int, bool], max_misses: int
) -> Iterator[JobRows]:
    """Probe ids above the high-water mark until `max_misses` consecutive ids past the highest
    id found are not found. Ids below the highest found are all probed, so gaps are crossed."""
    top = max([tracker.highest_known(), *(i for i, hit in found.items() if hit)])
    job_id = tracker.high_water + 1
    while job_id - top <= max_misses:
        if job_id in found or tracker.is_settled(job_id):
            hit = found.get(job_id, True)
        else:
            rows = _fetch(client, job_id, None, missing=None)
            hit = rows is not None
            if rows is not None:
                tracker.saw_id(job_id, terminal=rows.is_terminal)
                yield rows
        if hit:
            top = max(top, job_id)
        job_id += 1
    tracker.discovered_through(top)


def _fetch(
    client: AlationClient, job_id: int | None, name: str | None, *, missing: str | None
) -> JobRows | None:
    """The job's rows, or None when not found: a warning saying why it was asked for
    (`missing`), or a debug line for a discovery probe."""
    answer = client.get_job(job_id=job_id, name=name)
    ref = job_ref(job_id, name)
    if isinstance(answer, NotFound):
        if missing is not None:
            logger.warning(
                f"{VENDOR} job {ref} ({missing}) was not found (HTTP {answer.status}); "
                "it is asked for again on the next load"
            )
        else:
            logger.debug(f"{VENDOR} job {ref}: not found (HTTP {answer.status})")
        return None
    rows = job_rows(answer, job_id, name)
    if rows.problems:
        logger.warning(
            f"{VENDOR} job {ref}: raw msg and result kept, unparsed parts left empty: "
            + "; ".join(rows.problems)
        )
    return rows
