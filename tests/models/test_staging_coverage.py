"""Every raw table a vendor source can write has its staging view: declared as a table of the
`jobpulse_raw` dbt source and read by exactly one staging model; no other model reads the raw
dataset. A source that gains a table fails here until the table is staged."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from dbt.clients.yaml_helper import load_yaml_text

from jobpulse.pipelines.registry import SOURCES
from jobpulse.sql import PROJECT_DIR

MODELS = PROJECT_DIR / "models"
STAGING = MODELS / "staging"
# How a model reads a raw table: the macro, or dbt's source() directly.
RAW_READ = re.compile(
    r"jobpulse_raw_relation\(\s*'(\w+)'|source\(\s*'jobpulse_raw'\s*,\s*'(\w+)'\s*\)"
)


def raw_tables_of_every_source(patch: pytest.MonkeyPatch) -> set[str]:
    """The tables of every registered source (and of each source a vendor loads together), as
    built with its sandbox's settings: the tables of its dlt schema and of its resources."""
    tables: set[str] = set()
    for vendor in SOURCES.values():
        sandbox = vendor.make_sandbox(0)
        sandbox.start()
        try:
            for key, value in vendor.sandbox_settings(sandbox).items():
                patch.setenv(key, value)
            made = vendor.make_source()
            for source in made if isinstance(made, list) else [made]:
                tables |= set(source.discover_schema().data_table_names())
                tables |= {
                    resource.table_name
                    for resource in source.selected_resources.values()
                    if isinstance(resource.table_name, str)
                }
        finally:
            sandbox.stop()
    return tables


def declared_raw_tables() -> set[str]:
    document = load_yaml_text((STAGING / "_sources.yml").read_text())  # dbt's own reader
    assert document is not None
    sources = document["sources"]
    (raw,) = [source for source in sources if source["name"] == "jobpulse_raw"]
    return {table["name"] for table in raw["tables"]}


def raw_reads(model: Path) -> list[str]:
    return [macro or source for macro, source in RAW_READ.findall(model.read_text())]


def test_every_raw_table_a_source_can_write_has_one_staging_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    written = raw_tables_of_every_source(monkeypatch)
    assert {"snowplow_job_runs", "mparticle_pipeline_status", "load_gaps"} <= written
    assert declared_raw_tables() == written
    staged = Counter(table for model in STAGING.glob("*.sql") for table in raw_reads(model))
    assert set(staged) == written
    assert [table for table, views in staged.items() if views > 1] == []


def test_only_staging_models_read_the_raw_dataset() -> None:
    readers = {
        model.relative_to(MODELS).as_posix()
        for model in MODELS.rglob("*.sql")
        if model.parent != STAGING and raw_reads(model)
    }
    assert readers == set()


def test_each_staging_view_reads_a_raw_table_and_is_named_stg_vendor__entity() -> None:
    for model in STAGING.glob("*.sql"):
        assert re.fullmatch(r"stg_[a-z]+__[a-z_]+", model.stem), model.name
        assert raw_reads(model), model.name
