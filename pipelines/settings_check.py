"""Settings checked before anything runs, so a mistake is one line naming the setting.

`load` and `check` both call `checked_source`, so `check` validates every setting `load` reads:
dlt's runtime and extract settings here, the vendor's own when its source is built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import dlt
from dlt.common.configuration.exceptions import ConfigValueCannotBeCoercedException
from dlt.common.destination.exceptions import DestinationException
from dlt.common.destination.reference import Destination
from dlt.common.exceptions import MissingDependencyException
from dlt.common.normalizers.naming.snake_case import NamingConvention
from dlt.extract.source import DltSource

from jobpulse.sources.shared.errors import SourceConfigError
from jobpulse.sources.shared.redaction import redact


class SettingError(ValueError):
    """A setting or option that jobpulse refuses; the message is the whole explanation."""


@dataclass(frozen=True)
class _Number:
    kind: type[int] | type[float]
    minimum: float
    strict: bool = False  # the minimum itself is not allowed


# The numbers dlt reads for every load, with the values that make sense (dlt checks none).
_DLT_NUMBERS: dict[str, _Number] = {
    "runtime.request_max_attempts": _Number(int, 1),
    "runtime.request_backoff_factor": _Number(float, 0),
    "runtime.request_max_retry_delay": _Number(float, 0),
    "runtime.request_timeout": _Number(float, 0, strict=True),
    "extract.workers": _Number(int, 1),
}


def env_name(key: str) -> str:
    """`runtime.request_timeout` → `RUNTIME__REQUEST_TIMEOUT`, as the README lists settings."""
    return key.replace(".", "__").upper()


def check_dlt_numbers() -> None:
    for key, number in _DLT_NUMBERS.items():
        raw: object = dlt.config.get(key)
        if raw is None:
            continue
        value = _as_number(raw, number.kind)
        if value is None or (value <= number.minimum if number.strict else value < number.minimum):
            bound = "above" if number.strict else "at least"
            raise SettingError(
                f"{env_name(key)} = {raw!r}: must be {_kind_name(number.kind)} "
                f"{bound} {number.minimum:g}"
            )


def _as_number(raw: object, kind: type[int] | type[float]) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return raw if kind is float or isinstance(raw, int) else None
    try:
        return kind(str(raw).strip())
    except ValueError:
        return None


def _kind_name(kind: type) -> str:
    return "a whole number" if kind is int else "a number"


SourceFactory = Callable[[], DltSource | list[DltSource]]
"""Builds a vendor's dlt source (or sources, loaded together in its one pipeline)."""


def checked_source(source_name: str, make_source: SourceFactory) -> DltSource | list[DltSource]:
    """The source(s), built: every setting resolved and validated, nothing requested yet."""
    check_dlt_numbers()
    try:
        return make_source()
    except ConfigValueCannotBeCoercedException as exc:
        # dlt names only the field; the user sets it under the source's section.
        raise SourceConfigError(
            source_name, not_coercible(exc, f"sources.{source_name}.{exc.field_name}")
        ) from None


def not_coercible(exc: ConfigValueCannotBeCoercedException, key: str | None = None) -> str:
    """`RUNTIME__REQUEST_TIMEOUT = 'soon': not a valid number`, from dlt's coercion error."""
    if key is None:
        known = [k for k in _DLT_NUMBERS if k.rsplit(".", 1)[-1] == exc.field_name]
        key = known[0] if known else exc.field_name
    value = redact(repr(exc.field_value))
    return f"{env_name(key)} = {value}: not a valid {_type_name(exc.hint)}"


def _type_name(hint: object) -> str:
    names: dict[object, str] = {int: "whole number", float: "number", bool: "true/false"}
    return names.get(hint) or str(getattr(hint, "__name__", hint))


def checked_dataset(name: str) -> str:
    """A dataset name dlt stores as given; otherwise say what dlt would make of it."""
    if not name.strip():
        raise SettingError("the dataset name is empty")
    stored = NamingConvention().normalize_identifier(name)
    if stored != name:
        raise SettingError(
            f"dlt would store dataset {name!r} as {stored!r} (lower case letters, digits and _ "
            f"only); pass --dataset {stored}"
        )
    return name


def checked_destination(name: str) -> str:
    """A destination name dlt knows and can use here; otherwise list the ones it can."""
    try:
        _client_class(name)
    except (DestinationException, MissingDependencyException, ImportError, SettingError) as exc:
        usable = ", ".join(installed_destinations())
        reason = "its client library is not installed" if _missing(exc) else "unknown name"
        raise SettingError(
            f"destination {name!r}: {reason}; installed destinations: {usable}"
        ) from None
    return name


def _client_class(name: str) -> type:
    """The destination's client class: importing it proves its libraries are installed."""
    destination = Destination.from_reference(name)
    if destination is None:
        raise SettingError(f"destination {name!r}: unknown name")
    return destination.client_class


def _missing(exc: Exception) -> bool:
    return isinstance(exc, MissingDependencyException | ImportError)


def installed_destinations() -> list[str]:
    """The dlt destinations whose client libraries import in this environment."""
    names = []
    for name in sorted(_known_destinations()):
        try:
            _client_class(name)
        except Exception:  # noqa: S112 - any failure means it cannot be used here
            continue
        names.append(name)
    return names


def _known_destinations() -> set[str]:
    from dlt.common.destination.reference import DestinationReference

    # `destination` is the custom-callable factory: it is made in code, never named on a CLI.
    names = {ref.rsplit(".", 1)[-1] for ref in DestinationReference.DESTINATIONS}
    return names - {"destination"}
