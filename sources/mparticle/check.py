"""`jobpulse check --source mparticle`: prove the client credentials, the workspace and the path."""

from __future__ import annotations

import dlt
from dlt.common.configuration import with_config
from dlt.common.typing import TSecretStrValue

from jobpulse.sources.mparticle.client import MparticleClient
from jobpulse.sources.mparticle.settings import (
    DEFAULT_API_PATH,
    DEFAULT_BASE_URL,
    DEFAULT_TOKEN_URL,
)


@with_config(sections=("sources", "mparticle"))
def make_client(
    workspace_id: str = dlt.config.value,
    client_id: str = dlt.config.value,
    client_secret: TSecretStrValue = dlt.secrets.value,
    base_url: str = DEFAULT_BASE_URL,
    token_url: str = DEFAULT_TOKEN_URL,
    api_path: str = DEFAULT_API_PATH,
) -> MparticleClient:
    """A client from the `[sources.mparticle]` settings, for the check and the operations."""
    return MparticleClient(
        base_url=base_url,
        token_url=token_url,
        workspace_id=workspace_id,
        client_id=client_id,
        client_secret=client_secret,
        api_path=api_path,
    )


def check_mparticle() -> str:
    """List the pipelines: the token exchange proves the client credentials, the listing the
    workspace, the API path and the client's access. Returns a one-line report; raises a
    `SourceError` saying which setting is wrong."""
    client = make_client()
    pipelines = client.list_pipelines()
    return (
        f"mParticle: token issued for the API client; workspace {client.workspace_id} lists "
        f"{len(pipelines)} Warehouse Sync pipelines at {client.api_path}"
    )
