"""Which jobs a load asks for, and the small state that decides it.

State (dlt resource state, committed with the data):
- `high_water`: every integer id up to it was probed by discovery (found and loaded, or missing);
- `running_ids` / `running_names`: jobs found not yet finished, fetched again on every load;
- `missing_ids`: configured ids not found yet (tried again on every load while configured);
- `finished_ids` / `finished_names`: configured jobs that finished, which are not fetched again;
  only the configured ones above `high_water`, so bounded by the settings, not by history.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any


class JobTracker:
    def __init__(self, state: MutableMapping[str, Any]) -> None:
        self._state = state
        self.high_water: int = int(state.get("high_water", 0))
        self.running_ids: set[int] = set(state.get("running_ids", ()))
        self.missing_ids: set[int] = set(state.get("missing_ids", ()))
        self.finished_ids: set[int] = set(state.get("finished_ids", ()))
        self.running_names: set[str] = set(state.get("running_names", ()))
        self.finished_names: set[str] = set(state.get("finished_names", ()))

    # what to fetch

    def names_to_fetch(self, configured: Sequence[str]) -> list[str]:
        """Configured names not finished yet, then running names no longer configured."""
        wanted = [name for name in configured if name not in self.finished_names]
        return list(dict.fromkeys([*wanted, *sorted(self.running_names)]))

    def ids_to_fetch(self, configured: Sequence[int]) -> list[int]:
        """Configured ids not settled yet, and every running id, in id order."""
        wanted = {job_id for job_id in configured if not self.is_settled(job_id)}
        return sorted(wanted | self.running_ids)

    def is_settled(self, job_id: int) -> bool:
        """Found finished, or passed by discovery (found and loaded, or missing then)."""
        if job_id in self.running_ids or job_id in self.missing_ids:
            return False
        return job_id <= self.high_water or job_id in self.finished_ids

    def highest_known(self) -> int:
        """The highest id ever found (discovery counts its misses past this one)."""
        found = self.running_ids | self.finished_ids
        return max([self.high_water, *found])

    # what was seen

    def saw_id(self, job_id: int, *, terminal: bool) -> None:
        self.missing_ids.discard(job_id)
        if terminal:
            self.running_ids.discard(job_id)
            self.finished_ids.add(job_id)
        else:
            self.running_ids.add(job_id)

    def missed_id(self, job_id: int, *, configured: bool) -> None:
        """A not-found answer: configured ids are tried again; running ids stay running."""
        if configured and job_id not in self.running_ids:
            self.missing_ids.add(job_id)

    def saw_name(self, name: str, *, terminal: bool) -> None:
        if terminal:
            self.running_names.discard(name)
            self.finished_names.add(name)
        else:
            self.running_names.add(name)

    def discovered_through(self, job_id: int) -> None:
        """Discovery probed every id up to `job_id`."""
        self.high_water = max(self.high_water, job_id)

    def save(self, configured_ids: Iterable[int], configured_names: Iterable[str]) -> None:
        """Write back, dropping what no longer needs remembering."""
        ids, names = set(configured_ids), set(configured_names)
        self.finished_ids = {i for i in self.finished_ids if i > self.high_water and i in ids}
        self.missing_ids &= ids
        self.finished_names &= names
        self._state.update(
            high_water=self.high_water,
            running_ids=sorted(self.running_ids),
            missing_ids=sorted(self.missing_ids),
            finished_ids=sorted(self.finished_ids),
            running_names=sorted(self.running_names),
            finished_names=sorted(self.finished_names),
        )
