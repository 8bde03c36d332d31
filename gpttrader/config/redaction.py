"""Keep secrets out of logs and stored text.

Redaction is by pattern (bearer tokens, JWTs, PEM private keys, CDP key names) and by value (every `Secret`
made in this process), so a secret that reaches a log line through a third-party library's debug output, an
exception message or a formatted request is caught as well as one we log ourselves.

What looks like a secret is defined here once, for every check that asks: the same patterns redact logs and
stored text and refuse a notebook parameter (gpttrader.runs.parameters), so a pattern added for one cannot
be missing from the other.
"""

import logging
import re

from gpttrader.config.secrets import REDACTED, registered_secret_values

_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.DOTALL),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    # Any CDP key's name, not only this process's registered one: another environment's key is a secret too.
    re.compile(r"organizations/[^/\s]+/apiKeys/[^\s/\"']*"),
)
# Names under which a value is a secret whatever it looks like (a notebook parameter `api_key`).
_SECRET_NAME = re.compile(r"(?i)(api_?key|secret|token|password|passphrase|private|credential)")


def is_secret_name(name: str) -> bool:
    """Whether a value named `name` is to be treated as a secret, for places that pair names with values."""
    return _SECRET_NAME.search(name) is not None


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
