"""Snowplow BDP jobs API: paths, documented limits and the defaults jobpulse chooses."""

from __future__ import annotations

from typing import Final, Literal

import pendulum

VENDOR: Final = "Snowplow"
DEFAULT_BASE_URL: Final = "https://console.snowplowanalytics.com"
BASE_URL_SETTING: Final = "SOURCES__SNOWPLOW__BASE_URL"

ORGANIZATION_PATH: Final = "api/msc/v1/organizations/{organization_id}"
TOKEN_PATH_V2: Final = ORGANIZATION_PATH + "/credentials/v2/token"
TOKEN_PATH_V3: Final = ORGANIZATION_PATH + "/credentials/v3/token"
RUNS_PATH: Final = ORGANIZATION_PATH + "/jobs/v1/runs"
RUN_PATH: Final = RUNS_PATH + "/{run_id}"
STEPS_PATH: Final = RUN_PATH + "/steps"
STEP_PATH: Final = STEPS_PATH + "/{step_name}"

# Documented: a listing window spans at most 96 hours and starts no earlier than a week ago.
MAX_WINDOW: Final = pendulum.duration(hours=96)
RETENTION: Final = pendulum.duration(days=7)
# Kept clear of the retention edge so a skewed clock or a slow load never asks for a window the
# API rejects. The hour lost at the far end is recorded as part of any gap.
RETENTION_MARGIN: Final = pendulum.duration(hours=1)
# Documented: a window's events may be trimmed to the latest 10,000.
RUNS_CAP: Final = 10_000
# Windows that hit the cap are halved down to this size, then accepted with a warning.
MIN_SPLIT_WINDOW: Final = pendulum.duration(minutes=1)

DEFAULT_WINDOW_HOURS: Final = 24
# Runs that started this long before the last listed instant are listed again, for runs that
# reach the API late. Re-listed runs cost no extra step requests unless their state changed.
DEFAULT_OVERLAP_MINUTES: Final = 60
DEFAULT_LOG_MAX_BYTES: Final = 64 * 1024

StepLogs = Literal["failed", "all", "none"]
STEP_LOG_MODES: Final = ("failed", "all", "none")

# States after which a run or step no longer changes. The API's own: SUCCEEDED, FAILED, SKIPPED
# and, for steps, SUCCEEDED_NO_OP; RUNNING and WAITING are in progress. Anything else, including
# states this list does not know, is treated as in progress, unless the item carries an end time.
TERMINAL_STATES: Final = frozenset(
    {
        "SUCCEEDED", "SUCCEEDED_NO_OP", "SUCCESS", "SUCCESSFUL", "COMPLETED", "FINISHED",
        "FAILED", "FAILURE", "ERROR", "ERRORED", "TIMED_OUT", "TIMEOUT",
        "CANCELLED", "CANCELED", "ABORTED", "KILLED", "SKIPPED",
    }
)  # fmt: skip
FAILED_STATES: Final = frozenset({"FAILED", "FAILURE", "ERROR", "ERRORED", "TIMED_OUT", "TIMEOUT"})

# Event specifications API (vendor-docs/snowplow-event-specifications-api.txt): read-only use.
EVENT_SPECS_PATH: Final = ORGANIZATION_PATH + "/event-specs/v1"
EVENT_SPEC_PATH: Final = EVENT_SPECS_PATH + "/{event_spec_id}"
# The list call's documented filters that jobpulse passes through from `event_spec_filters`.
EVENT_SPEC_FILTERS: Final = ("dataProductId", "sourceId", "status")
EVENT_SPEC_STATUSES: Final = ("draft", "published", "deprecated")
