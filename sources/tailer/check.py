"""`jobpulse check --source tailer`: prove the JWT and that each tracked operation is known."""

from __future__ import annotations

from typing import Any

import dlt
from dlt.common.configuration import with_config
from dlt.common.typing import TSecretStrValue

from jobpulse.sources.tailer.client import TailerClient
from jobpulse.sources.tailer.identity import parse_jobs
from jobpulse.sources.tailer.settings import DEFAULT_BASE_URL


@with_config(sections=("sources", "tailer"))
def check_tailer(
    jobs: list[dict[str, Any]] = dlt.config.value,
    jwt: TSecretStrValue = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
) -> str:
    """One get_last_status with limit 1 per operation: the cheapest call that uses the JWT.

    Returns a one-line report; raises a `SourceError` saying what is wrong.
    """
    client = TailerClient(base_url, jwt)
    operations = parse_jobs(jobs)
    unknown = [op.describe() for op in operations if not client.get_last_status(op, limit=1)]
    known = len(operations) - len(unknown)
    report = f"Tailer: JWT accepted; {known} of {len(operations)} operations have runs"
    if unknown:
        report += "; no runs (unknown to the API, or never run): " + "; ".join(unknown)
    return report
