"""The stored rows of specs gone from the API, read back from the destination being loaded.

A deleted spec can no longer be fetched, and dlt's merge replaces a whole row: marking it deleted
with only `id`, `is_deleted` and `deleted_seen_at` would blank every other column. So its last
stored row is read back (the list call is the only place that says it is gone, and the fields are
not worth keeping in dlt state for every spec) and loaded again with the mark. Where the
destination cannot be queried with SQL, the mark is loaded alone and a warning says so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import dlt
from dlt.common import logger

from jobpulse.sources.snowplow.event_spec_records import Record


def stored_rows(table: str, key: str, ids: Sequence[str]) -> dict[str, Record]:
    """The rows of `table` whose `key` is one of `ids`, JSON columns decoded; {} if unreadable."""
    try:
        pipeline = dlt.current.pipeline()
        json_columns = {
            name
            for name, column in dlt.current.source_schema().get_table_columns(table).items()
            if column.get("data_type") == "json"
        }
        with pipeline.sql_client() as client:
            if not client.has_dataset():
                return {}
            placeholders = ", ".join(["%s"] * len(ids))
            # Identifiers quoted by the destination's own client; the ids go as parameters.
            query = (
                f"select * from {client.make_qualified_table_name(table)} "  # noqa: S608
                f"where {client.escape_column_name(key)} in ({placeholders})"
            )
            with client.execute_query(query, *ids) as cursor:
                columns = [column[0] for column in cursor.description]
                rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    except Exception as exc:  # any destination, any failure: the mark is still worth loading
        logger.warning(f"could not read back {table} rows of deleted specs ({exc}); marked only")
        return {}
    return {str(row[key]): _decoded(row, json_columns) for row in rows}


def _decoded(row: Record, json_columns: set[str]) -> Record:
    """JSON columns come back as text from some destinations; load them as JSON again."""
    return {name: _json(value) if name in json_columns else value for name, value in row.items()}


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
