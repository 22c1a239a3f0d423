"""The stored rows of specs gone from the API, read back from the destination being loaded.

A deleted spec can no longer be fetched, and dlt's merge replaces a whole row: marking it deleted
with only `id`, `is_deleted` and `deleted_seen_at` would blank every other column. So its last
stored row is read back (the list call is the only place that says it is gone, and the fields are
not worth keeping in dlt state for every spec) and loaded again with the mark. Where the
destination cannot be queried with SQL, the mark is loaded alone and a warning says so.

For the same reason a live spec whose compatibility this load did not check takes its stored
`compatibility_checked_at` over (`StoredColumn`): the whole column is read once, on first need.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import dlt
from dlt.common import logger
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from jobpulse.sources.shared.records import Record


def stored_rows(table: str, key: str, ids: Sequence[str]) -> dict[str, Record]:
    """The rows of `table` whose `key` is one of `ids`, JSON columns decoded; {} if unreadable."""
    try:
        json_columns = {
            name
            for name, column in dlt.current.source_schema().get_table_columns(table).items()
            if column.get("data_type") == "json"
        }
        rows = _select(table, key=key, ids=ids)
    except Exception as exc:  # any destination, any failure: the mark is still worth loading
        logger.warning(f"could not read back {table} rows of deleted specs ({exc}); marked only")
        return {}
    return {str(row[key]): _decoded(row, json_columns) for row in rows}


class StoredColumn:
    """`column` of every stored row of `table` by `key`, read at most once (on the first `get`):
    one query per load however many rows need it. A table not created yet has no values; a
    destination that cannot be read gives none either, with a warning."""

    def __init__(self, table: str, key: str, column: str) -> None:
        self.table, self.key, self.column = table, key, column
        self._values: dict[str, Any] | None = None

    def get(self, key_value: str) -> Any:
        if self._values is None:
            self._values = self._read()
        return self._values.get(key_value)

    def _read(self) -> dict[str, Any]:
        try:
            rows = _select(self.table, (self.key, self.column))
        except DatabaseUndefinedRelation:
            return {}
        except Exception as exc:  # any destination, any failure: the rows load without it
            logger.warning(f"could not read back {self.column} of stored {self.table} ({exc})")
            return {}
        return {str(row[self.key]): row[self.column] for row in rows}


def _select(
    table: str, columns: Sequence[str] = (), key: str | None = None, ids: Sequence[str] = ()
) -> list[Record]:
    """Rows of `table` in the dataset being loaded ([] before the dataset exists): `columns`
    (every column when empty), only those whose `key` is one of `ids` when `key` is given."""
    with dlt.current.pipeline().sql_client() as client:
        if not client.has_dataset():
            return []
        # Identifiers quoted by the destination's own client; the ids go as parameters.
        selected = ", ".join(client.escape_column_name(name) for name in columns) or "*"
        query = f"select {selected} from {client.make_qualified_table_name(table)}"  # noqa: S608
        if key is not None:
            placeholders = ", ".join(["%s"] * len(ids))
            query += f" where {client.escape_column_name(key)} in ({placeholders})"
        with client.execute_query(query, *ids) as cursor:
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


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
