"""Registered secrets never reach a log line or a jobpulse error message."""

from __future__ import annotations

import logging

import pytest

from jobpulse.sources.shared.errors import (
    SourceConfigError,
    SourceError,
    VendorAPIError,
    VendorAuthError,
    VendorPayloadError,
)
from jobpulse.sources.shared.redaction import REDACTED, redact, register_secret

SECRET = "s3cr3t-api-key-0042"


def test_a_registered_secret_is_replaced_everywhere_in_the_text() -> None:
    register_secret(SECRET)

    assert redact(f"key={SECRET}&again={SECRET}") == "key=***&again=***"


def test_text_without_secrets_is_returned_unchanged() -> None:
    register_secret(SECRET)

    assert redact("nothing to hide here") == "nothing to hide here"


def test_a_longer_secret_is_redacted_whole_when_it_contains_a_shorter_one() -> None:
    register_secret("abcdef")
    register_secret("abcdef-ghijkl")

    assert redact("token abcdef-ghijkl") == "token ***"


@pytest.mark.parametrize("value", ["", None, "a", "12345"])
def test_values_shorter_than_six_characters_are_not_registered(value: str | None) -> None:
    register_secret(value)

    assert redact("a 12345 abc") == "a 12345 abc"


def test_a_six_character_value_is_registered() -> None:
    register_secret("123456")

    assert redact("pin 123456") == f"pin {REDACTED}"


@pytest.mark.parametrize(
    ("msg", "args"),
    [
        (f"calling with key {SECRET}", ()),
        ("calling with key %s", (SECRET,)),
        ("calling with %s=%r", ("key", SECRET)),
        ("calling with key %(key)s", ({"key": SECRET},)),
    ],
    ids=["in-message", "percent-arg", "repr-arg", "mapping-arg"],
)
def test_a_log_record_from_any_logger_is_redacted(
    caplog: pytest.LogCaptureFixture, msg: str, args: tuple[object, ...]
) -> None:
    register_secret(SECRET)

    with caplog.at_level(logging.INFO):
        logging.getLogger("anything.at.all").info(msg, *args)

    (record,) = caplog.records
    assert SECRET not in record.getMessage()
    assert REDACTED in record.getMessage()
    assert SECRET not in caplog.text


def test_a_log_record_is_redacted_for_a_handler_attached_directly_to_a_logger() -> None:
    register_secret(SECRET)
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(self.format(record))

    logger = logging.getLogger("jobpulse.test.direct")
    logger.propagate = False
    handler = Collect()
    logger.addHandler(handler)
    try:
        logger.warning("auth header Bearer %s", SECRET)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True

    assert seen == ["auth header Bearer ***"]


def test_a_secret_registered_after_the_factory_is_installed_is_redacted_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    register_secret("first-secret-value")
    register_secret("second-secret-value")

    with caplog.at_level(logging.INFO):
        logging.getLogger("anything").info(
            "%s then %s", "first-secret-value", "second-secret-value"
        )

    assert caplog.records[0].getMessage() == "*** then ***"


@pytest.mark.parametrize(
    "make_error",
    [
        lambda: SourceError(f"failed with {SECRET}"),
        lambda: SourceConfigError("Acme", f"bad value {SECRET}"),
        lambda: VendorAPIError("Acme", f"GET /x?k={SECRET}", "refused", status=400),
        lambda: VendorAPIError("Acme", "GET /x", "refused", status=400, body=f"echo {SECRET}"),
        lambda: VendorAuthError("Acme", "GET /x", f"rejected {SECRET}", status=401),
        lambda: VendorPayloadError("Acme", "GET /x", "not JSON", body=f"<p>{SECRET}</p>"),
    ],
    ids=["source", "config", "api-endpoint", "api-body", "auth-detail", "payload-body"],
)
def test_error_messages_are_redacted(make_error) -> None:  # type: ignore[no-untyped-def]
    register_secret(SECRET)

    error = make_error()

    assert SECRET not in str(error)
    assert REDACTED in str(error)


def test_a_malformed_log_call_does_not_raise_into_the_caller() -> None:
    register_secret(SECRET)  # installs the factory
    logger = logging.getLogger("jobpulse.test.malformed")
    logger.propagate = False  # pytest's own handlers re-raise formatting errors on purpose
    logger.setLevel(logging.INFO)
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        logger.info("two args %s %s", "only one")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def test_a_secret_in_a_logged_exception_traceback_is_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    register_secret(SECRET)

    with caplog.at_level(logging.INFO):
        try:
            raise RuntimeError(f"upstream said {SECRET}")
        except RuntimeError:
            logging.getLogger("anything").exception("load failed")

    assert SECRET not in caplog.text
