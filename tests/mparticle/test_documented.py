"""The document's example payloads, served as they are, load into the expected rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pendulum
import pytest
import requests_mock as rm
from dlt.pipeline.pipeline import Pipeline

from jobpulse.sources.mparticle import mparticle_source
from tests.mparticle.helpers import query

DOCUMENTED: dict[str, Any] = json.loads((Path(__file__).parent / "documented.json").read_text())
BASE = "https://api.example.com"
TOKEN_URL = "https://sso.example.com/oauth/token"
PREFIX = f"{BASE}/platform/experimental/workspaces/5328/inputs/warehouse"


def serve_the_document(requests_mock: rm.Mocker) -> None:
    requests_mock.post(TOKEN_URL, json={"access_token": "doc-token", "expires_in": 3600})
    requests_mock.get(f"{PREFIX}/connections", json=DOCUMENTED["connections"])
    requests_mock.get(f"{PREFIX}/data-models", json=DOCUMENTED["data_models"])
    requests_mock.get(f"{PREFIX}/pipelines", json=DOCUMENTED["pipelines"])
    for pipeline in ("example-pipeline", "example-pipeline-2"):
        status = {**DOCUMENTED["status"], "pipeline_id": pipeline}
        requests_mock.get(f"{PREFIX}/pipelines/{pipeline}/status", json=status)
        items = [run for run in DOCUMENTED["runs"]["items"] if run["id"] == pipeline]
        requests_mock.get(f"{PREFIX}/pipelines/{pipeline}/status/runs", json={"items": items})


@pytest.mark.usefixtures("new_york")
def test_the_documented_examples_load_without_credentials_and_with_utc_times(
    requests_mock: rm.Mocker, make_pipeline: Callable[..., Pipeline]
) -> None:
    serve_the_document(requests_mock)
    pipeline = make_pipeline()

    pipeline.run(
        mparticle_source(
            workspace_id="5328",
            client_id="cid",
            client_secret="doc-secret",
            base_url=BASE,
            token_url=TOKEN_URL,
        )
    )

    runs = query(
        pipeline,
        "select pipeline_run_id, pipeline_id, pipeline_run_state, ended_at, created_on "
        "from mparticle_pipeline_runs order by pipeline_run_id",
    )
    created = (
        pendulum.datetime(2022, 10, 19, 17, 14, 9, 430_000),
        pendulum.datetime(2022, 10, 19, 17, 14, 10, 260_000),
    )
    assert runs == [
        (251, "example-pipeline", "success", None, created[0]),
        (252, "example-pipeline-2", "success", None, created[1]),
    ]
    assert query(pipeline, "select count(*) from mparticle_connections") == [(2,)]
    assert query(pipeline, "select count(*) from mparticle_data_models") == [(3,)]
    snapshots = query(
        pipeline,
        "select pipeline_id, is_active, is_connection_active, latest_pipeline_run_id "
        "from mparticle_pipeline_status order by pipeline_id",
    )
    assert snapshots == [
        ("example-pipeline", False, True, 2171),
        ("example-pipeline-2", False, True, 2171),
    ]
    schema = pipeline.default_schema
    assert "password" not in schema.get_table_columns("mparticle_connections")
    assert "partner_feed_key" not in schema.get_table_columns("mparticle_pipelines")
