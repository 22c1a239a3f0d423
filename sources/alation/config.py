"""Reading the job lists from settings: TOML arrays, JSON lists in the environment, and the
forms people type by hand (`5`, `12,13`, a single name)."""

from __future__ import annotations

import json
from typing import Any

from jobpulse.sources.alation.settings import SETTING_PREFIX, VENDOR
from jobpulse.sources.shared.errors import SourceConfigError


def job_ids_setting(value: Any) -> list[int]:
    """Whole numbers, in the order given, without repeats; numbers sent as text are accepted."""
    ids = []
    for item in _items(value):
        try:
            number = int(str(item).strip())
        except ValueError:
            raise SourceConfigError(
                VENDOR, f"{SETTING_PREFIX}JOB_IDS holds {item!r}, not an integer id"
            ) from None
        ids.append(number)
    return list(dict.fromkeys(ids))


def job_names_setting(value: Any) -> list[str]:
    """Job names, in the order given, without repeats or blanks."""
    return list(dict.fromkeys(str(item).strip() for item in _items(value) if str(item).strip()))


def _items(value: Any) -> list[Any]:
    """A list as given; text is read as JSON (a list or one value), else as comma-separated."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [part for part in value.split(",") if part.strip()]
    return list(value) if isinstance(value, list | tuple) else [value]
