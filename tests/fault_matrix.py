"""The fault-matrix harness: every sandbox-kit fault against a vendor's whole `jobpulse load`.

A vendor joins with a `FaultMatrixCase` and a few lines (see tests/snowplow/test_fault_matrix.py):

    CASE = FaultMatrixCase(source="snowplow", vendor="Snowplow", ...)

    @pytest.mark.parametrize("scenario", scenarios(CASE))
    def test_fault_matrix(scenario: Scenario, fault_matrix: FaultMatrix) -> None:
        fault_matrix.run(CASE, scenario)

Each scenario: a clean load into its own DuckDB file; then, into another, a load with the fault
injected (once, and persistently for the faults a retry can cure), then a recovery load. It
checks that the final tables equal the clean load's; that a failing load exits non-zero with a
line naming the vendor, the endpoint and what was wrong, and commits nothing (no rows, no state);
and that no secret appears in any output, log, state, trace file or table.

The sandbox's clock is frozen for the whole scenario (the client's ticks on, from the same
instant), so every load sees the same history however long the retries take.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pendulum
import pytest
import time_machine

from jobpulse.pipelines.cli import main
from jobpulse.pipelines.pipeline import DEFAULT_DATASET, PIPELINE_PREFIX
from jobpulse.pipelines.registry import SOURCES
from jobpulse.sources.shared.sandbox import Fault, Sandbox, SandboxClock
from tests.secret_scan import assert_no_secret, files_under

# Short retries: a persistent fault fails a load in seconds, not minutes. The timeout still
# leaves room for an ordinary answer on a busy machine.
CLIENT_TIMEOUT_SECONDS = 3
_RETRY_SETTINGS = {
    "RUNTIME__REQUEST_MAX_ATTEMPTS": "3",
    "RUNTIME__REQUEST_TIMEOUT": str(CLIENT_TIMEOUT_SECONDS),
    "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.01",
    "RUNTIME__REQUEST_MAX_RETRY_DELAY": "2",
}
FROZEN_AT = pendulum.datetime(2026, 3, 2, 12, 30, 0)
# Keyed by case (a module-level constant): one source may have several cases, on other tables.
_CLEAN_TABLES: dict[int, dict[str, list[tuple[Any, ...]]]] = {}


@dataclass(frozen=True)
class MatrixFault:
    """A kit fault, whether one retry can cure it, and how a failed load may describe it."""

    name: str
    fault: Fault
    retryable: bool
    described_as: tuple[str, ...]  # a failing load's message holds one of these


FAULTS: tuple[MatrixFault, ...] = (
    MatrixFault(
        "429-retry-after",
        Fault.status_code(429, headers={"Retry-After": "1"}),
        retryable=True,
        described_as=("HTTP 429",),
    ),
    MatrixFault("503", Fault.status_code(503), retryable=True, described_as=("HTTP 503",)),
    MatrixFault("reset", Fault.reset(), retryable=True, described_as=("could not reach",)),
    MatrixFault(
        "timeout",
        Fault.delay(CLIENT_TIMEOUT_SECONDS + 1),
        retryable=True,
        described_as=("could not reach", "timed out", "Timeout"),
    ),
    MatrixFault(
        "truncated-json", Fault.truncated_json(), retryable=False, described_as=("not JSON",)
    ),
    MatrixFault("html-200", Fault.html_page(), retryable=False, described_as=("not JSON", "HTML")),
    MatrixFault("401", Fault.unauthorized(), retryable=True, described_as=("HTTP 401",)),
)


@dataclass(frozen=True)
class FaultMatrixCase:
    """What the harness needs to know of one vendor."""

    source: str  # the registry name, as `jobpulse load --source` takes it
    vendor: str  # as the vendor's error messages name it
    make_sandbox: Callable[[SandboxClock], Sandbox]  # an unstarted sandbox on the given clock
    paths: Sequence[str]  # path globs where faults are injected, each a scenario of its own
    endpoint_hints: Mapping[str, str]  # path glob -> the text a failing load names it by
    tables: Mapping[str, str]  # table -> its ORDER BY columns; compared clean vs recovered
    ignore_columns: frozenset[str] = frozenset()  # columns that differ by load (load times)
    remints_on_401: bool = True  # False: a 401 fails the load even once (a static token)
    settings: Callable[[Sandbox], Mapping[str, str]] | None = None  # default: the registry's


@dataclass(frozen=True)
class Scenario:
    path: str
    fault: MatrixFault
    persistent: bool

    @property
    def id(self) -> str:
        mode = "persistent" if self.persistent else "once"
        return f"{self.path.strip('*/').replace('/', '_')}-{self.fault.name}-{mode}"

    def load_succeeds(self, case: FaultMatrixCase) -> bool:
        """Whether the load with the fault injected should still succeed."""
        if self.persistent or not self.fault.retryable:
            return False
        return self.fault.fault.kind != "unauthorized" or case.remints_on_401


def scenarios(case: FaultMatrixCase) -> list[Any]:
    """pytest params: each path and fault, once, and persistently where a retry could cure it."""
    found = []
    for path in case.paths:
        for fault in FAULTS:
            for persistent in (False, True) if fault.retryable else (True,):
                scenario = Scenario(path, fault, persistent)
                found.append(pytest.param(scenario, id=scenario.id))
    return found


@dataclass
class LoadOutcome:
    exit_code: int
    output: str


@dataclass
class FaultMatrix:
    """Runs scenarios inside one test: its tmp_path, environment and captured output."""

    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    capfd: pytest.CaptureFixture[str]
    outputs: list[str] = field(default_factory=list)

    def run(self, case: FaultMatrixCase, scenario: Scenario) -> None:
        for key, value in _RETRY_SETTINGS.items():
            self.monkeypatch.setenv(key, value)
        clock = SandboxClock(frozen_at=FROZEN_AT)
        with time_machine.travel(FROZEN_AT, tick=True), case.make_sandbox(clock) as sandbox:
            self._point_at(case, sandbox)
            expected = self._clean_tables(case)

            sandbox.inject(
                scenario.path, scenario.fault.fault, times=None if scenario.persistent else 1
            )
            faulty = self._load_into(case, "faulty")
            if scenario.load_succeeds(case):
                assert faulty.exit_code == 0, faulty.output
            else:
                self._assert_failed_cleanly(case, scenario, faulty)
            sandbox.clear_faults()

            recovery = self._load_into(case, "faulty")
            assert recovery.exit_code == 0, recovery.output
            assert self._tables(case, "faulty") == expected
            self._assert_no_secret(case, sandbox.secrets())

    # the loads

    def _clean_tables(self, case: FaultMatrixCase) -> dict[str, list[tuple[Any, ...]]]:
        """The clean load's tables: loaded once per source, as its frozen history never changes."""
        if id(case) not in _CLEAN_TABLES:
            clean = self._load_into(case, "clean")
            assert clean.exit_code == 0, clean.output
            _CLEAN_TABLES[id(case)] = self._tables(case, "clean")
        expected = _CLEAN_TABLES[id(case)]
        assert any(expected.values()), "the clean load must load rows to compare"
        return expected

    def _point_at(self, case: FaultMatrixCase, sandbox: Sandbox) -> None:
        settings = (case.settings or SOURCES[case.source].sandbox_settings)(sandbox)
        for key, value in settings.items():
            self.monkeypatch.setenv(key, value)

    def _load_into(self, case: FaultMatrixCase, name: str) -> LoadOutcome:
        """One `jobpulse load` into `<name>.duckdb`, with its own dlt data folder."""
        self.monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(self._database(name)))
        self.monkeypatch.setenv("DLT_DATA_DIR", str(self.tmp_path / f"dlt-{name}"))
        exit_code = main(["load", "--source", case.source, "--quiet", "--no-models"])
        captured = self.capfd.readouterr()
        output = captured.out + captured.err
        self.outputs.append(output)
        return LoadOutcome(exit_code, output)

    def _database(self, name: str) -> Path:
        return self.tmp_path / f"{name}.duckdb"

    # what the loads left

    def _tables(self, case: FaultMatrixCase, name: str) -> dict[str, list[tuple[Any, ...]]]:
        path = self._database(name)
        if not path.exists():
            return {table: [] for table in case.tables}
        with duckdb.connect(str(path), read_only=True) as connection:
            existing = {
                row[0]
                for row in connection.execute(
                    "select table_name from information_schema.tables where table_schema = ?",
                    [DEFAULT_DATASET],
                ).fetchall()
            }
            return {
                table: _rows(connection, table, order, case.ignore_columns)
                if table in existing
                else []
                for table, order in case.tables.items()
            }

    def _source_state(self, case: FaultMatrixCase, name: str) -> Any:
        pipeline = dlt.attach(
            f"{PIPELINE_PREFIX}{case.source}", pipelines_dir=str(self._pipelines_dir(name))
        )
        return pipeline.state.get("sources", {})

    def _pipelines_dir(self, name: str) -> Path:
        return self.tmp_path / f"dlt-{name}" / "pipelines"

    # the checks

    def _assert_failed_cleanly(
        self, case: FaultMatrixCase, scenario: Scenario, outcome: LoadOutcome
    ) -> None:
        assert outcome.exit_code != 0, outcome.output
        assert "Traceback" not in outcome.output, outcome.output
        assert case.vendor in outcome.output, outcome.output
        assert case.endpoint_hints[scenario.path] in outcome.output, outcome.output
        assert any(text in outcome.output for text in scenario.fault.described_as), outcome.output
        assert not any(self._tables(case, "faulty").values()), "a failed load committed rows"
        if (self._pipelines_dir("faulty") / f"{PIPELINE_PREFIX}{case.source}").exists():
            assert not self._source_state(case, "faulty"), "a failed load advanced the state"

    def _assert_no_secret(self, case: FaultMatrixCase, secrets: list[str]) -> None:
        places = {"command output": "\n".join(self.outputs)}
        for name in ("clean", "faulty"):  # the clean load's folder exists in its first scenario
            places.update(files_under(self.tmp_path / f"dlt-{name}"))
            places[f"{name} tables"] = json.dumps(
                self._tables(case, name), default=str, ensure_ascii=False
            )
        assert_no_secret(secrets, places)


def _rows(
    connection: duckdb.DuckDBPyConnection, table: str, order: str, ignore: frozenset[str]
) -> list[tuple[Any, ...]]:
    columns = [
        row[0]
        for row in connection.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [DEFAULT_DATASET, table],
        ).fetchall()
        if not row[0].startswith("_dlt") and row[0] not in ignore
    ]
    selected = ", ".join(f'"{column}"' for column in columns)
    sql = f'select {selected} from {DEFAULT_DATASET}."{table}" order by {order}'
    return [tuple(row) for row in connection.execute(sql).fetchall()]
