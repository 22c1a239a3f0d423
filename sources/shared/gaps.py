"""`load_gaps`: spans of a vendor's history that jobpulse could not fetch, and why.

Every source writes to the one table, told apart by `source`. A source's resource yields `Gap`
items among its others; piping it into `load_gaps(source=...)` turns those into rows. A
transformer of its own, not per-item hints on the resource's rows: a table variant would start
from the resource's hints and so inherit its columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import dlt
import pendulum
from dlt.common import logger

from jobpulse.sources.shared.timeutil import utc_now

LOAD_GAPS_TABLE = "load_gaps"


@dataclass(frozen=True)
class Gap:
    """A span of history jobpulse could not fetch, and why."""

    start: pendulum.DateTime
    end: pendulum.DateTime
    reason: str


def gap_row(source: str, gap: Gap) -> dict[str, Any]:
    """Warn about a gap and return its `load_gaps` row."""
    logger.warning(f"{source}: history gap {gap.start} .. {gap.end}: {gap.reason}")
    return {
        "source": source,
        "gap_from": gap.start,
        "gap_to": gap.end,
        "reason": gap.reason,
        "detected_at": utc_now(),
    }


@dlt.transformer(
    name=LOAD_GAPS_TABLE,
    primary_key=("source", "gap_from"),
    write_disposition="merge",
    columns=[
        {"name": "gap_from", "data_type": "timestamp", "nullable": False},
        {"name": "gap_to", "data_type": "timestamp"},
        {"name": "detected_at", "data_type": "timestamp"},
    ],
)
def load_gaps(item: Any, source: str) -> Iterator[dict[str, Any]]:
    """Rows for the `Gap`s among the items (or pages of items) of the resource piped in; other
    items are ignored."""
    for one in item if isinstance(item, list) else [item]:
        if isinstance(one, Gap):
            yield gap_row(source, one)
