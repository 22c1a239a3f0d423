"""What jobpulse remembers between Snowplow loads, kept in dlt resource state.

- `listed_through`: the instant up to which run starts have been listed; the next load lists
  from there, minus an overlap.
- `runs`: `{run_id: {"state", "terminal", "start"}}` for runs still in progress at the last load
  (fetched again until terminal) and for recent runs that the next load's overlap lists again
  (so their steps are not fetched twice). Entries older than the API's retention are dropped:
  the state is bounded by the retention, not by history. No token or key is ever stored here.

dlt commits this state together with the data of the same load, so a failed load leaves the
previous state in place and nothing is skipped.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

import pendulum

from jobpulse.sources.shared.timeutil import iso_z, parse_timestamp
from jobpulse.sources.snowplow.records import is_terminal, started_at, state_of

Change = Literal["new", "updated", "unchanged"]


@dataclass(frozen=True)
class RunUpdate:
    """A run as just fetched, how it changed since the last load, and its steps if fetched too."""

    run: dict[str, Any]
    run_id: str
    change: Change
    endpoint: str
    steps: list[dict[str, Any]] | None = None

    @property
    def needs_steps(self) -> bool:
        """Steps are fetched for new and changed runs, and for runs still in progress."""
        return self.change != "unchanged" or not is_terminal(self.run)


class RunTracker:
    """Classifies fetched runs against the last load and writes the state for the next one."""

    def __init__(self, state: MutableMapping[str, Any]) -> None:
        self._state = state
        self._known: dict[str, dict[str, Any]] = dict(state.get("runs", {}))
        self.listed_through = parse_timestamp(state.get("listed_through"))

    def observe(
        self,
        run: dict[str, Any],
        run_id: str,
        endpoint: str,
        steps: list[dict[str, Any]] | None = None,
    ) -> RunUpdate:
        entry = {"state": state_of(run), "terminal": is_terminal(run), "start": None}
        start = started_at(run, endpoint)
        if start is not None:
            entry["start"] = iso_z(start)
        known = self._known.get(run_id)
        change: Change = "new"
        if known is not None:
            same = known["state"] == entry["state"] and known["terminal"] == entry["terminal"]
            change = "unchanged" if same else "updated"
        self._known[run_id] = entry
        return RunUpdate(run, run_id, change, endpoint, steps)

    def open_runs(self) -> dict[str, pendulum.DateTime | None]:
        """Run ids still in progress at the last observation, with their start times."""
        return {
            run_id: parse_timestamp(entry["start"])
            for run_id, entry in self._known.items()
            if not entry["terminal"]
        }

    def forget(self, run_id: str) -> None:
        self._known.pop(run_id, None)

    def commit(
        self,
        listed_through: pendulum.DateTime,
        keep_after: pendulum.DateTime,
        floor: pendulum.DateTime,
    ) -> list[str]:
        """Store the state for the next load; return the open runs dropped for being past `floor`.

        Kept: open runs that started after `floor`, and runs that started after `keep_after`.
        """
        kept: dict[str, dict[str, Any]] = {}
        expired: list[str] = []
        for run_id, entry in self._known.items():
            start = parse_timestamp(entry["start"])
            if start is not None and start < floor:
                if not entry["terminal"]:
                    expired.append(run_id)
                continue
            if not entry["terminal"] or (start is not None and start >= keep_after):
                kept[run_id] = entry
        self._state["runs"] = kept
        self._state["listed_through"] = iso_z(listed_through)
        return expired
