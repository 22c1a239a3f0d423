"""Tailer API: paths, actions, documented limits and the defaults jobpulse chooses."""

from __future__ import annotations

from typing import Final

VENDOR: Final = "Tailer"
DEFAULT_BASE_URL: Final = "https://tailer-api-nqonovswsq-ew.a.run.app"
BASE_URL_SETTING: Final = "SOURCES__TAILER__BASE_URL"  # how errors name the setting to fix

# Every documented call is a POST with a JSON body whose `action` names what to do.
LAUNCH_PATH: Final = "v1/dag/launch"
STATUS_PATH: Final = "v1/dag/status"
WORKFLOW_STATUS_PATH: Final = "v1/workflow/status"
CONFIGURATION_STATUS_PATH: Final = "v1/configuration/status"

LAUNCH_JOB: Final = "launch_job"
GET_LAST_STATUS: Final = "get_last_status"
CHECK_RUN_STATUS: Final = "check_run_status"
RESET_WORKFLOW_STATUS: Final = "reset_workflow_status"
SET_CONFIGURATION_STATUS: Final = "set_configuration_status"

# The doc warns that a table-to-table configuration_id is known to the API with `_<ENVIRONMENT>`.
SUFFIXED_CONFIGURATION_TYPES: Final = frozenset({"table-to-table"})

# `limit` of get_last_status: jobpulse never asks for more than this many runs in one call.
MAX_LIMIT: Final = 1000
DEFAULT_LIMIT: Final = MAX_LIMIT
DEFAULT_INITIAL_LOOKBACK_DAYS: Final = 30

# Statuses after which a run no longer changes, compared case-insensitively with `_` read as a
# space. "Checked" is a failure marked fixed by hand; "No match" a run whose trigger matched
# nothing. Anything else (RUNNING, and statuses this list does not know) is checked again.
TERMINAL_STATUSES: Final = frozenset({"SUCCESS", "FAILED", "CHECKED", "NO MATCH"})
SUCCESS_STATUS: Final = "SUCCESS"

JWT_ADVICE: Final = (
    "the JWT was rejected or has expired; get a new one with `tailer auth get-token` "
    "and set it as SOURCES__TAILER__JWT"
)
