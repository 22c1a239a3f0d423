"""`jobpulse`: load vendor job history, check credentials, run the sandboxes and the demo."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Sequence

from jobpulse.pipelines.defaults import install_defaults
from jobpulse.pipelines.demo import run_demo
from jobpulse.pipelines.pipeline import (
    DEFAULT_DATASET,
    build_pipeline,
    destination_for,
    explain,
    load,
    log_progress,
    print_summaries,
)
from jobpulse.pipelines.registry import SOURCES
from jobpulse.pipelines.sandboxes import running_sandboxes

ALL = "all"


def main(argv: Sequence[str] | None = None) -> int:
    install_defaults()
    args = _parser().parse_args(argv)
    if args.log_level:
        # dlt reads its log level from the environment; an explicit flag wins over .dlt/ files.
        os.environ["RUNTIME__LOG_LEVEL"] = args.log_level
    level = args.log_level or "WARNING"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s")
    return int(args.command(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jobpulse",
        description="Keep the job-run history of SaaS data platforms in your own warehouse.",
        epilog="Settings come from .dlt/config.toml, .dlt/secrets.toml or environment variables "
        "such as SOURCES__SNOWPLOW__API_KEY; see README.md.",
    )
    parser.add_argument(
        "--log-level",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log verbosity (default: [runtime] log_level, WARNING)",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")
    source_choices = [*SOURCES, ALL]

    load_cmd = commands.add_parser("load", help="load new job runs into the warehouse")
    load_cmd.add_argument(
        "--source", action="append", required=True, choices=source_choices,
        help="vendor to load; repeat for several, or 'all'",
    )  # fmt: skip
    load_cmd.add_argument(
        "--destination", default="duckdb",
        help="any dlt destination name (default: duckdb, the file ./jobpulse.duckdb)",
    )  # fmt: skip
    load_cmd.add_argument(
        "--dataset",
        default=DEFAULT_DATASET,
        help=f"dataset/schema name (default: {DEFAULT_DATASET})",
    )
    load_cmd.add_argument(
        "--workers",
        type=positive_int,
        help="parallel requests for steps and logs (default: [extract] workers, else 16)",
    )
    load_cmd.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    load_cmd.set_defaults(command=_load)

    check_cmd = commands.add_parser("check", help="prove the credentials with the cheapest calls")
    check_cmd.add_argument(
        "--source", action="append", required=True, choices=source_choices,
        help="vendor to check; repeat for several, or 'all'",
    )  # fmt: skip
    check_cmd.set_defaults(command=_check)

    sandbox_cmd = commands.add_parser("sandbox", help="serve the vendor emulators on 127.0.0.1")
    sandbox_cmd.add_argument(
        "--port", type=int, default=0, help="first port to use (default: free ports)"
    )
    sandbox_cmd.set_defaults(command=_sandbox)

    demo_cmd = commands.add_parser(
        "demo", help="load every source from its sandbox into ./jobpulse.duckdb and summarise"
    )
    demo_cmd.set_defaults(command=_demo)
    return parser


def positive_int(text: str) -> int:
    """argparse type for counts that must be at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _selected(names: Sequence[str]) -> list[str]:
    return list(SOURCES) if ALL in names else list(dict.fromkeys(names))


def _load(args: argparse.Namespace) -> int:
    if args.workers is not None:
        os.environ["EXTRACT__WORKERS"] = str(args.workers)
    summaries = []
    for name in _selected(args.source):
        pipeline = build_pipeline(
            name,
            destination_for(args.destination),
            args.dataset,
            progress=None if args.quiet else log_progress(),
        )
        summaries.append(load(name, SOURCES[name].make_source, pipeline))
    print_summaries(summaries)
    return 0 if all(s.ok for s in summaries) else 1


def _check(args: argparse.Namespace) -> int:
    failed = False
    for name in _selected(args.source):
        try:
            print(SOURCES[name].check())
        except Exception as exc:
            failed = True
            print(f"{name}: FAILED: {explain(exc)}")
    return 1 if failed else 0


def _sandbox(args: argparse.Namespace) -> int:
    with running_sandboxes(list(SOURCES), args.port) as settings:
        print("Sandboxes running on 127.0.0.1. Point jobpulse at them with:")
        for key, value in settings.items():
            print(f"export {key}={value}")
        print("Press Ctrl-C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


def _demo(args: argparse.Namespace) -> int:
    return run_demo()


if __name__ == "__main__":
    sys.exit(main())
