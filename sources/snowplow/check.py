"""`jobpulse check --source snowplow`: prove the key, the organisation and the jobs API access."""

from __future__ import annotations

import dlt
import pendulum
from dlt.common.configuration import with_config
from dlt.common.typing import TSecretStrValue

from jobpulse.sources.shared.timeutil import utc_now
from jobpulse.sources.snowplow.client import SnowplowClient
from jobpulse.sources.snowplow.settings import DEFAULT_BASE_URL
from jobpulse.sources.snowplow.windows import Window, whole_seconds


@with_config(sections=("sources", "snowplow"))
def check_snowplow(
    organization_id: str = dlt.config.value,
    api_key: TSecretStrValue = dlt.secrets.value,
    api_key_id: TSecretStrValue | None = None,
    base_url: str = DEFAULT_BASE_URL,
) -> str:
    """Mint a token (proves key and organisation), then list the last hour of runs (proves access).

    Returns a one-line report; raises a `SourceError` saying what is wrong.
    """
    client = SnowplowClient(base_url, organization_id, api_key, api_key_id)
    client.mint_token()
    now = whole_seconds(utc_now())
    runs = client.list_runs(Window(now - pendulum.duration(hours=1), now))
    return (
        f"Snowplow: {client.auth.flow} token issued for organization {client.organization_id}; "
        f"the jobs API listed {len(runs)} runs in the last hour"
    )
