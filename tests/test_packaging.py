"""The wheel installs one package, `jobpulse`, that works beside a user's own `pipelines/` and
`sources/` packages and, run from an empty folder, uses the defaults the README lists.

The wheel is built from a copy of the repository (so the working tree gets no build output) and
installed with `--no-deps` into a fresh venv that sees this venv's site-packages through a `.pth`
file: its dependencies come from there, so the test needs no package index (no test reaches the
internet), while `jobpulse` itself, its console script and its metadata come only from the wheel.
`.pth` files inside the borrowed folder are not processed, so the editable install of the
repository stays invisible.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import dlt
import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
_NOT_SOURCES = shutil.ignore_patterns(
    ".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "*_cache", "*.duckdb*"
)


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The wheel, and what building it printed (pip -v shows the build backend's warnings)."""
    workspace = tmp_path_factory.mktemp("wheel")
    source = workspace / "source"
    shutil.copytree(REPOSITORY, source, ignore=_NOT_SOURCES)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-v", "--wheel-dir", str(workspace), str(source)],
        check=True, capture_output=True, text=True,
        env={**os.environ, "PYTHONWARNINGS": "default"},
    )  # fmt: skip
    (wheel,) = workspace.glob("jobpulse-*.whl")
    return wheel, built.stdout + built.stderr


@pytest.fixture(scope="module")
def wheel(build: tuple[Path, str]) -> Path:
    return build[0]


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `bin` folder of a fresh venv holding the wheel."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return venv / "bin"


def _clean_environment(home: Path, **extra: str) -> dict[str, str]:
    """What a user's shell might have: no jobpulse or dlt settings, a home of its own."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", **extra}


def test_the_wheel_installs_jobpulse_as_its_only_top_level_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top_level = {
        name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")
    }
    assert top_level == {"jobpulse"}
    assert "jobpulse/sources/snowplow/README.md" in names


def test_the_projects_build_metadata_raises_no_deprecation_warning(
    build: tuple[Path, str],
) -> None:
    _, output = build
    assert "Building wheel for jobpulse" in output, "pip -v shows the backend's output"
    assert "deprecat" not in output.lower()


def test_the_demo_runs_beside_a_users_own_pipelines_and_sources_packages(
    installed: Path, tmp_path: Path
) -> None:
    dags = tmp_path / "dags"
    for package in ("pipelines", "sources"):
        (dags / package).mkdir(parents=True)
        (dags / package / "__init__.py").write_text(
            f"raise ImportError('the user package {package}')\n"
        )
    work = tmp_path / "work"
    work.mkdir()
    environment = _clean_environment(
        tmp_path / "home", PYTHONPATH=str(dags), DLT_DATA_DIR=str(tmp_path / "dlt")
    )

    demo = subprocess.run(
        [str(installed / "jobpulse"), "demo"], cwd=work, env=environment,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip

    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Job runs loaded from the sandboxes, per source and job" in demo.stdout
    assert (work / "jobpulse_demo.duckdb").exists()
    where = subprocess.run(
        [str(installed / "python"), "-c", "import jobpulse.pipelines.cli as m; print(m.__file__)"],
        cwd=work, env=environment, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(installed.parent)), "jobpulse comes from the installed wheel"


def test_jobpulse_run_from_an_empty_folder_uses_the_readme_defaults_and_no_telemetry(
    installed: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    work = tmp_path / "empty"
    work.mkdir()
    environment = _clean_environment(home, DLT_DATA_DIR=str(tmp_path / "dlt"))

    demo = subprocess.run(
        [str(installed / "jobpulse"), "demo"], cwd=work, env=environment,
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout + demo.stderr

    trace = dlt.attach("jobpulse_demo_snowplow", pipelines_dir=str(tmp_path / "dlt" / "pipelines"))
    assert trace.last_trace is not None
    resolved = {
        (".".join(value.sections), value.key): (value.value, value.provider_name)
        for value in trace.last_trace.resolved_config_values
    }
    assert resolved["runtime", "request_max_retry_delay"] == (60, "jobpulse defaults")
    assert resolved["runtime", "request_max_attempts"] == (5, "jobpulse defaults")
    assert resolved["extract", "workers"] == (16, "jobpulse defaults")
    assert resolved["runtime", "dlthub_telemetry"] == (False, "jobpulse defaults")
    # Not only resolved as off: no telemetry client is left running in the process.
    tracker = subprocess.run(
        [str(installed / "python"), "-c",
         "from jobpulse.pipelines.defaults import install_defaults; install_defaults(); "
         "from dlt.common.runtime import anon_tracker; print(anon_tracker._ANON_TRACKER_ENDPOINT)"],
        cwd=work, env=environment, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert tracker.strip() == "None"
