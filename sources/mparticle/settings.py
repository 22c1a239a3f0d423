"""mParticle Warehouse Sync API: paths, documented values and the defaults jobpulse chooses."""

from __future__ import annotations

from typing import Final

VENDOR: Final = "mParticle"
DEFAULT_BASE_URL: Final = "https://api.mparticle.com"
DEFAULT_TOKEN_URL: Final = "https://sso.auth.mparticle.com/oauth/token"  # noqa: S105 - a URL
# Documented body of the client-credentials request; the audience is fixed by mParticle.
TOKEN_AUDIENCE: Final = "https://api.mparticle.com"  # noqa: S105 - a URL
TOKEN_GRANT_TYPE: Final = "client_credentials"  # noqa: S105 - the OAuth grant's name

# The document describes `platform/experimental`; mParticle has since published v1 and v2.
DEFAULT_API_PATH: Final = "platform/experimental"
API_PATHS: Final = ("platform/experimental", "platform/v1", "platform/v2")

BASE_PATH: Final = "{api_path}/workspaces/{workspace_id}/inputs/warehouse"
CONNECTIONS_PATH: Final = BASE_PATH + "/connections"
DATA_MODELS_PATH: Final = BASE_PATH + "/data-models"
PIPELINES_PATH: Final = BASE_PATH + "/pipelines"
PIPELINE_PATH: Final = PIPELINES_PATH + "/{pipeline_id}"
STATUS_PATH: Final = PIPELINE_PATH + "/status"
RUNS_PATH: Final = STATUS_PATH + "/runs"
RUN_PATH: Final = RUNS_PATH + "/{run_id}"

# The limit for `pageSize`; the document gives none.
MAX_PAGE_SIZE: Final = 100
DEFAULT_PAGE_SIZE: Final = 100
# Runs are listed again from this long before the latest `logical_date` already stored, for
# runs whose logical date lies before runs already listed (triggers, backfills, late runs).
DEFAULT_LOOKBACK_HOURS: Final = 24

# `pipeline_run_state` values after which a run no longer changes. The document lists
# `triggered`, `queued`, `running`, `dataset_triggered` as in progress and shows `success` and
# `failed`; the others are Airflow's terminal states, which these names come from. Any state
# not listed here counts as in progress, so such a run is fetched again until it ends.
SUCCESS_STATES: Final = frozenset({"success", "succeeded", "successful", "completed"})
TERMINAL_STATES: Final = SUCCESS_STATES | frozenset(
    {"failed", "failure", "error", "upstream_failed", "skipped", "cancelled", "canceled", "removed"}
)

# Fields holding timestamps; those without a zone are UTC.
TIMESTAMP_FIELDS: Final = frozenset(
    {
        "created_on",
        "last_modified_on",
        "schedule_start_time",
        "schedule_end_time",
        "logical_date",
        "start_date",
        "end_date",
        "data_interval_start",
        "data_interval_end",
    }
)
COUNT_FIELDS: Final = ("records_extracted", "records_mapped", "event_batches_generated")

# v2 health spelling: `status` instead of `is_faulted` (and so for the connection).
FAULTED_STATUS: Final = "faulted"
HEALTHY_STATUS: Final = "healthy"
