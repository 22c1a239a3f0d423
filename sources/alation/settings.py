"""Alation Job Status API: paths, documented values and the defaults jobpulse chooses."""

from __future__ import annotations

from typing import Final

# ruff: noqa: S105 - names of paths, headers and messages about tokens, not credentials

VENDOR: Final = "Alation"

# Documented with the trailing slash; Alation (Django) answers the path without it by a redirect,
# which jobpulse would refuse to follow.
JOB_PATH: Final = "api/v1/bulk_metadata/job/"
TOKEN_PATH: Final = "integration/v1/createAPIAccessToken/"
TOKEN_HEADER: Final = "TOKEN"

# The fields of a job-status answer; an object with none of them is no job.
DOCUMENTED_FIELDS: Final = frozenset({"status", "msg", "result"})

# Documented statuses; compared case-insensitively. Anything else is taken as still running.
STATUS_RUNNING: Final = "running"
TERMINAL_STATUSES: Final = frozenset({"successful", "failed"})

# Documented 401 bodies (`detail`).
DETAIL_INVALID_TOKEN: Final = "Authentication failed"
DETAIL_MISSING_TOKEN: Final = "Authentication credentials were not provided."

# What Alation answers for an unknown job is not documented: both are read as "not found".
NOT_FOUND_STATUSES: Final = frozenset({400, 404})

DEFAULT_DISCOVER_MAX_MISSES: Final = 10
DEFAULT_REQUESTS_PER_SECOND: Final = 10.0

SETTING_PREFIX: Final = "SOURCES__ALATION__"
