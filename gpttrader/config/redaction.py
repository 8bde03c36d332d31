"""Keep secrets out of logs and stored text.

Redaction is by pattern (bearer tokens, JWTs, PEM private keys) and by value (every `Secret` made in
this process), so a secret that reaches a log line through a third-party library's debug output, an
exception message or a formatted request is caught as well as one we log ourselves.
"""

import logging
import re

from gpttrader.config.secrets import REDACTED, registered_secret_values

_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.DOTALL),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
)


def redact(text: str) -> str:
    for value in sorted(registered_secret_values(), key=len, reverse=True):
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() and m.group(1) else "") + REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """A handler filter that rewrites each record's message and traceback with secrets redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _RedactingStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Our own stderr handler, told apart from handlers that notebooks or pytest installed."""


def configure_logging(level: str) -> None:
    """Send logs to stderr at `level` and put the redacting filter on every root handler.

    Idempotent, so a notebook may call it in every cell; handlers installed by others (Jupyter, pytest)
    get the filter too, because a secret must not leak through a handler we did not make.
    """
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(handler, _RedactingStreamHandler) for handler in root.handlers):
        ours = _RedactingStreamHandler()
        ours.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(ours)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
