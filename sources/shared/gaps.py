"""Rows for `load_gaps`: spans of a vendor's history that jobpulse could not fetch, and why.

Every source writes to the one table, told apart by `source`. Rows are dispatched with dlt's
per-item hints, so a source can emit them from whichever resource detects the gap.
"""

from __future__ import annotations

import dlt
import pendulum
from dlt.common import logger
from dlt.extract.items import DataItemWithMeta

from jobpulse.sources.shared.timeutil import utc_now

LOAD_GAPS_TABLE = "load_gaps"

_HINTS = dlt.mark.make_hints(
    table_name=LOAD_GAPS_TABLE,
    primary_key=("source", "gap_from"),
    write_disposition="merge",
    columns=[
        {"name": "gap_from", "data_type": "timestamp", "nullable": False},
        {"name": "gap_to", "data_type": "timestamp"},
        {"name": "detected_at", "data_type": "timestamp"},
    ],
)


def load_gap(
    source: str, gap_from: pendulum.DateTime, gap_to: pendulum.DateTime, reason: str
) -> DataItemWithMeta:
    """Warn about a gap and return its `load_gaps` row, ready to be yielded from any resource."""
    logger.warning(f"{source}: history gap {gap_from} .. {gap_to}: {reason}")
    row = {
        "source": source,
        "gap_from": gap_from,
        "gap_to": gap_to,
        "reason": reason,
        "detected_at": utc_now(),
    }
    return dlt.mark.with_hints(row, _HINTS, create_table_variant=True)
