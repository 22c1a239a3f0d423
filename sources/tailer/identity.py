"""Which data operations jobpulse tracks, and how the API names them.

Users write a table-to-table `configuration_id` as in their Tailer JSON files, without the
environment; the API knows it as `<id>_<ENVIRONMENT>` (the doc's warning). jobpulse adds the
suffix itself, never twice, and says so once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dlt.common import logger

from jobpulse.sources.shared.errors import SourceConfigError
from jobpulse.sources.tailer.settings import SUFFIXED_CONFIGURATION_TYPES, VENDOR

IDENTITY_FIELDS = ("account", "environment", "configuration_type", "configuration_id")


@dataclass(frozen=True)
class Operation:
    """One tracked data operation, as the user wrote it."""

    account: str
    environment: str
    configuration_type: str
    configuration_id: str

    @property
    def needs_suffix(self) -> bool:
        return self.configuration_type.strip().lower() in SUFFIXED_CONFIGURATION_TYPES

    @property
    def api_configuration_id(self) -> str:
        """The `configuration_id` the API knows: with `_<ENVIRONMENT>` for table-to-table."""
        suffix = f"_{self.environment}"
        if not self.needs_suffix or self.configuration_id.lower().endswith(suffix.lower()):
            return self.configuration_id
        return self.configuration_id + suffix

    def body(self) -> dict[str, str]:
        """The identity fields of every documented request body."""
        return {
            "account": self.account,
            "environment": self.environment,
            "configuration_type": self.configuration_type,
            "configuration_id": self.api_configuration_id,
        }

    @property
    def key(self) -> str:
        """A stable name for this operation in dlt state and messages."""
        return "|".join(
            (self.account, self.environment, self.configuration_type, self.api_configuration_id)
        )

    def describe(self) -> str:
        return (
            f"{self.configuration_type} {self.api_configuration_id} "
            f"(account {self.account}, environment {self.environment})"
        )


def parse_jobs(jobs: Any) -> list[Operation]:
    """The `jobs` setting as operations: a list of tables (TOML) or a JSON list (environment).

    Duplicates (the same operation as the API names it) are tracked once.
    """
    if isinstance(jobs, str):
        try:
            jobs = json.loads(jobs)
        except ValueError:
            raise SourceConfigError(
                VENDOR, "SOURCES__TAILER__JOBS is not a JSON list of operations"
            ) from None
    if isinstance(jobs, Mapping):
        jobs = [jobs]
    if not isinstance(jobs, Sequence) or not jobs:
        raise SourceConfigError(
            VENDOR,
            "SOURCES__TAILER__JOBS must list at least one operation "
            "{account, environment, configuration_type, configuration_id}",
        )
    operations: dict[str, Operation] = {}
    for position, entry in enumerate(jobs):
        operation = operation_from(entry, f"SOURCES__TAILER__JOBS entry {position}")
        operations.setdefault(operation.key, operation)
    return list(operations.values())


def operation_from(entry: Any, where: str) -> Operation:
    if not isinstance(entry, Mapping):
        raise SourceConfigError(VENDOR, f"{where} is not a table of {', '.join(IDENTITY_FIELDS)}")
    values: dict[str, str] = {}
    for name in IDENTITY_FIELDS:
        value = entry.get(name)
        if value is not None and not isinstance(value, str):
            # A number would lose the leading zeros of an account such as "000099".
            raise SourceConfigError(VENDOR, f"{where}: {name} must be a quoted string")
        if not value or not value.strip():
            raise SourceConfigError(VENDOR, f"{where} has no {name}")
        values[name] = value.strip()
    return Operation(**values)


def log_suffixes(operations: Iterable[Operation]) -> None:
    """One log line naming every id that jobpulse suffixed with its environment."""
    added = [
        f"{op.configuration_id} -> {op.api_configuration_id}"
        for op in operations
        if op.api_configuration_id != op.configuration_id
    ]
    if added:
        logger.info(
            f"{VENDOR}: added the environment suffix to table-to-table configuration ids, "
            f"as the API expects: {', '.join(added)}"
        )
