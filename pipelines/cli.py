"""`jobpulse`: load vendor job history, check credentials, run the sandboxes and the demo."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shlex
import sys
import threading
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path

from jobpulse.pipelines.defaults import install_defaults
from jobpulse.pipelines.demo import run_demo
from jobpulse.pipelines.models import as_of_argument, models_after_load, models_command
from jobpulse.pipelines.mparticle_cli import add_mparticle_commands
from jobpulse.pipelines.pipeline import (
    DEFAULT_DATASET,
    destination_for,
    exit_code,
    explain,
    load_source,
    log_progress,
    print_summaries,
)
from jobpulse.pipelines.registry import SOURCES
from jobpulse.pipelines.sandboxes import running_sandboxes
from jobpulse.pipelines.settings_check import (
    SettingError,
    check_dlt_numbers,
    checked_dataset,
    checked_destination,
    checked_source,
)
from jobpulse.pipelines.tailer_commands import add_tailer_parser
from jobpulse.sources.shared.errors import SourceError

ALL = "all"
EX_USAGE = 2  # argparse's code for a bad command line; a bad setting is the same kind of mistake
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.log_level:
        # dlt reads its log level from the environment; an explicit flag wins over .dlt/ files.
        os.environ["RUNTIME__LOG_LEVEL"] = args.log_level
    level = args.log_level or "WARNING"
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s")
    # A scheduler reads the exit code and a few lines: a mistake is one line, never a traceback
    # (which `--log-level DEBUG` still logs).
    try:
        install_defaults()  # dlt resolves its runtime settings here: a bad one fails here
        return int(args.command(args))
    except (SettingError, SourceError) as exc:
        print(f"jobpulse {args.command_name}: {explain(exc)}", file=sys.stderr)
        return EX_USAGE
    except Exception as exc:
        logging.debug("jobpulse %s failed", args.command_name, exc_info=True)
        print(f"jobpulse {args.command_name}: FAILED: {explain(exc)}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jobpulse",
        description="Keep the job-run history of SaaS data platforms in your own warehouse.",
        epilog="Settings come from .dlt/config.toml, .dlt/secrets.toml or environment variables "
        "such as SOURCES__SNOWPLOW__API_KEY; see README.md.",
    )
    parser.add_argument("--version", action="version", version=f"jobpulse {version('jobpulse')}")
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        help="log verbosity (default: [runtime] log_level, WARNING)",
    )
    # Also accepted after the command; SUPPRESS keeps a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-level", choices=LOG_LEVELS, default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    commands = parser.add_subparsers(
        title="commands", dest="command_name", required=True, metavar="COMMAND"
    )
    source_choices = [*SOURCES, ALL]

    load_cmd = commands.add_parser(
        "load", parents=[common], help="load new job runs into the warehouse"
    )
    load_cmd.add_argument(
        "--source", action="append", required=True, choices=source_choices,
        help="vendor to load; repeat for several, or 'all'",
    )  # fmt: skip
    load_cmd.add_argument(
        "--destination", default="duckdb", type=_argument(checked_destination),
        help="any dlt destination name (default: duckdb, the file ./jobpulse.duckdb)",
    )  # fmt: skip
    load_cmd.add_argument(
        "--dataset",
        default=DEFAULT_DATASET,
        type=_argument(checked_dataset),
        help=f"dataset/schema name: lower case letters, digits, _ (default: {DEFAULT_DATASET})",
    )
    load_cmd.add_argument(
        "--workers",
        type=positive_int,
        help="parallel requests for steps and logs (default: [extract] workers, else 16)",
    )
    load_cmd.add_argument(
        "--wait-for-lock", type=non_negative_float, default=0, metavar="SECONDS",
        help="if another load of a source is running, wait up to this long for it "
        "(default: 0, exit at once with code 75)",
    )  # fmt: skip
    load_cmd.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    load_cmd.add_argument(
        "--no-models", action="store_true", help="do not build the dbt models after the load"
    )
    load_cmd.set_defaults(command=_load)

    models_cmd = commands.add_parser(
        "models",
        parents=[common],
        help="build the staging views and reliability marts (dbt) on the loaded data",
    )
    models_cmd.add_argument(
        "--destination",
        help="dlt destination name (default: the destination of the last load, else duckdb)",
    )
    models_cmd.add_argument(
        "--dataset", help=f"raw dataset (default: the last load's, else {DEFAULT_DATASET})"
    )
    models_cmd.add_argument(
        "--as-of",
        type=as_of_argument,
        help="'now' for the marts, ISO 8601 UTC (default: build time)",
    )
    models_cmd.add_argument("--test", action="store_true", help="also run the dbt tests")
    models_cmd.set_defaults(command=_models)

    check_cmd = commands.add_parser(
        "check", parents=[common], help="prove the settings and credentials with the cheapest calls"
    )
    check_cmd.add_argument(
        "--source", action="append", required=True, choices=source_choices,
        help="vendor to check; repeat for several, or 'all'",
    )  # fmt: skip
    check_cmd.set_defaults(command=_check)

    sandbox_cmd = commands.add_parser(
        "sandbox", parents=[common], help="serve the vendor emulators on 127.0.0.1"
    )
    sandbox_cmd.add_argument(
        "--port", type=port_number, default=0, help="first port to use (default: free ports)"
    )
    sandbox_cmd.set_defaults(command=_sandbox)

    demo_cmd = commands.add_parser(
        "demo",
        parents=[common],
        help="load every source from its sandbox into ./jobpulse_demo.duckdb and summarise",
    )
    demo_cmd.set_defaults(command=_demo)
    add_tailer_parser(commands)
    add_mparticle_commands(commands)
    return parser


def _argument(check: Callable[[str], str]) -> Callable[[str], str]:
    """An argparse type from a check that raises SettingError: its message becomes the error."""

    def checked(text: str) -> str:
        try:
            return check(text)
        except SettingError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return checked


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def port_number(text: str) -> int:
    """argparse type for a TCP port; 0 means any free port."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= _MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be 0 to {_MAX_PORT}, got {value}")
    return value


_MAX_PORT = 65535


def positive_int(text: str) -> int:
    """argparse type for counts that must be at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _selected(names: Sequence[str]) -> list[str]:
    return list(SOURCES) if ALL in names else list(dict.fromkeys(names))


def _load(args: argparse.Namespace) -> int:
    if args.workers is not None:
        os.environ["EXTRACT__WORKERS"] = str(args.workers)
    check_dlt_numbers()
    summaries = []
    for name in _selected(args.source):
        summaries.append(
            load_source(
                name,
                SOURCES[name].make_source,
                destination_for(args.destination),
                args.dataset,
                progress=None if args.quiet else log_progress(),
                wait_for_lock=args.wait_for_lock,
                on_wait=_say_waiting(name, args.wait_for_lock),
            )
        )
    print_summaries(summaries)
    code = exit_code(summaries)
    if code == 0 and not args.no_models:
        return 0 if models_after_load(args.destination, args.dataset) else 1
    return code


def _say_waiting(source: str, seconds: float) -> Callable[[Path], None]:
    def say(lock: Path) -> None:
        print(
            f"{source}: another load of {source} is running; waiting up to {seconds:g} s "
            f"(lock {lock})",
            file=sys.stderr,
            flush=True,
        )

    return say


def _models(args: argparse.Namespace) -> int:
    return models_command(args.destination, args.dataset, args.as_of, args.test)


def _check(args: argparse.Namespace) -> int:
    failed = False
    for name in _selected(args.source):
        try:
            # Every setting `load` would read is validated first, then the credentials proved.
            check_dlt_numbers()
            checked_source(name, SOURCES[name].make_source)
            print(SOURCES[name].check())
        except Exception as exc:
            failed = True
            print(f"{name}: FAILED: {explain(exc)}")
    return 1 if failed else 0


def _sandbox(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        try:
            settings = stack.enter_context(running_sandboxes(list(SOURCES), args.port))
        except OSError as exc:
            where = f"port {args.port} and the next ones" if args.port else "a free port"
            raise SettingError(
                f"cannot listen on 127.0.0.1, {where}: {exc.strerror}; choose another --port, "
                "or 0 for free ports"
            ) from None
        print("Sandboxes running on 127.0.0.1. Point jobpulse at them with:")
        for key, value in settings.items():
            print(f"export {key}={shlex.quote(value)}")  # JSON lists hold quotes and spaces
        print("Press Ctrl-C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


def _demo(args: argparse.Namespace) -> int:
    return run_demo()


if __name__ == "__main__":
    sys.exit(main())
