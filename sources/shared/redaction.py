"""Keep secrets out of logs and error messages.

Every secret a source handles (API keys, minted tokens, passwords) is registered here. Log records
are redacted when they are created, whichever logger or handler they go to, and error messages
are passed through `redact` before they are raised.

A vendor's answer can hold a secret nobody registered (a token minted for someone else, a refresh
token, a body cut short before jobpulse could read its token): `redact` also masks every value
that sits under a key named like a credential, in JSON (quoted, even when the body ends inside
the value), in query strings and forms (`access_token=...`), and after `Bearer`.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

REDACTED = "***"
# Key names whose values are credentials, as vendors spell them: accessToken, refresh_token,
# client_secret, password, apiKey, X-API-Key, authorization, jwt, feedKey, ...
_KEY = (
    r"[\w.-]*(?:token|secret|passw(?:or)?d|api[_-]?key|auth(?:orization)?|credential|jwt"
    r"|feed[_-]?key|private[_-]?key|session[_-]?id|cookie)[\w.-]*"
)
# "key": "value" or 'key': 'value' (Python reprs); a value cut short runs to the end of the text.
_QUOTED_VALUE = re.compile(
    rf"""(?P<key>(?P<q>["'])(?:{_KEY})(?P=q)\s*:\s*)(?P<v>["'])(?:\\.|(?!(?P=v)).)*(?:(?P=v)|$)""",
    re.IGNORECASE | re.DOTALL,
)
# key=value in a query string, a form body or a header dump.
_ASSIGNED_VALUE = re.compile(rf"(?P<key>\b(?:{_KEY})=)[^&\s\"'<>;,]+", re.IGNORECASE)
_BEARER = re.compile(r"(?P<key>\bBearer\s+)[\w\-.~+/]+=*", re.IGNORECASE)
# Shorter values would match inside ordinary words; no real credential is this short.
_MIN_SECRET_LENGTH = 6

_lock = threading.Lock()
_secrets: set[str] = set()
_factory_installed = False


def register_secret(value: str | None) -> None:
    """Remember `value` so that it never appears in a log line or a jobpulse error message."""
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets.add(value)
    _install_log_record_factory()


def redact(text: str) -> str:
    """`text` with every registered secret, and every credential-like value, replaced by `***`."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _QUOTED_VALUE.sub(rf"\g<key>\g<v>{REDACTED}\g<v>", text)
    text = _ASSIGNED_VALUE.sub(rf"\g<key>{REDACTED}", text)
    return _BEARER.sub(rf"\g<key>{REDACTED}", text)


def _install_log_record_factory() -> None:
    """Redact at record creation: unlike a handler filter, this covers every logger and handler."""
    global _factory_installed
    with _lock:
        if _factory_installed:
            return
        _factory_installed = True
    make_record = logging.getLogRecordFactory()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return record  # a malformed log call: logging reports it, as without this factory
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and record.exc_info[0] is not None:
            # Formatted now, so that a secret in an exception's text is redacted as well;
            # handlers use this cached text instead of formatting the exception again.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(redacting_factory)
