"""`jobpulse check --source alation`: prove the token with the cheapest calls."""

from __future__ import annotations

import dlt
from dlt.common.configuration import with_config
from dlt.common.typing import TSecretStrValue

from jobpulse.sources.alation.client import AlationClient, NotFound
from jobpulse.sources.alation.settings import DEFAULT_REQUESTS_PER_SECOND

_PROBE_ID = 1


@with_config(sections=("sources", "alation"))
def check_alation(
    base_url: str = dlt.config.value,
    api_token: TSecretStrValue | None = None,
    refresh_token: TSecretStrValue | None = None,
    user_id: int | None = None,
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND,
) -> str:
    """Ask for job 1 (with a refresh token, minting an access token first): any answer but
    401/403, found or not found, proves the token. Raises a `SourceError` saying what is wrong."""
    client = AlationClient(
        base_url,
        api_token=api_token,
        refresh_token=refresh_token,
        user_id=user_id,
        requests_per_second=requests_per_second,
    )
    answer = client.get_job(job_id=_PROBE_ID)
    seen = (
        f"job {_PROBE_ID} is not there (HTTP {answer.status})"
        if isinstance(answer, NotFound)
        else f"job {_PROBE_ID} is {answer.get('status')!r}"
    )
    return f"Alation: {client.auth.flow} accepted by the Job Status API; {seen}"
