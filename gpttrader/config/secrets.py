"""Credentials: where they may come from, and a type that never prints them.

Credentials come only from the environment (`COINBASE_API_KEY` / `COINBASE_API_SECRET`) or a CDP key
JSON file (`COINBASE_KEY_FILE`). Profiles and notebook parameters are deliberately not sources: both end
up in files that get shared. The alert webhook's URL (`GPTTRADER_ALERT_WEBHOOK_URL`) is a secret too: whoever
has it can post to the channel, and a Slack webhook's token is its path.
"""

import hmac
import json
import stat
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gpttrader.config.errors import ConfigError

REDACTED = "**********"
# Shorter values are not registered: redacting every "1" or "USD" in a log line would make logs useless,
# and nothing that short is a real credential.
_MIN_REGISTERED_LENGTH = 8
_registered: set[str] = set()


def registered_secret_values() -> frozenset[str]:
    """Values of every Secret made in this process, for redacting text that may contain them."""
    return frozenset(_registered)


class Secret:
    """A string whose str() and repr() are redacted; `reveal()` is the one deliberate way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ConfigError("a secret must be a non-empty string")
        self._value = value
        if len(value) >= _MIN_REGISTERED_LENGTH:
            _registered.add(value)
            # A PEM key is also logged line by line by some libraries; register its body lines too.
            _registered.update(line for line in value.splitlines() if len(line) >= _MIN_REGISTERED_LENGTH * 4)

    def reveal(self) -> str:
        return self._value

    def hint(self) -> str:
        """The last four characters, enough to tell two keys apart in a listing, for identifiers only."""
        return f"****{self._value[-4:]}" if len(self._value) > 8 else REDACTED

    def __str__(self) -> str:
        return REDACTED

    def __repr__(self) -> str:
        return f"Secret('{REDACTED}')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled: it would leave the process unredacted")


CredentialSource = Literal["environment", "key_file"]


@dataclass(frozen=True, slots=True)
class Credentials:
    """A Coinbase API key: the key name (`organizations/.../apiKeys/...`) and its private key (PEM or Ed25519)."""

    api_key: Secret
    api_secret: Secret
    source: CredentialSource

    def describe(self) -> dict[str, str]:
        return {"source": self.source, "api_key": self.api_key.hint(), "api_secret": REDACTED}


def load_credentials(env: Mapping[str, str]) -> Credentials | None:
    """Credentials from `env`, or None when none are configured; half-configured is an error."""
    key, secret, key_file = (
        env.get(name) or None for name in ("COINBASE_API_KEY", "COINBASE_API_SECRET", "COINBASE_KEY_FILE")
    )
    if key_file and (key or secret):
        raise ConfigError("set either COINBASE_KEY_FILE or COINBASE_API_KEY/COINBASE_API_SECRET, not both")
    if key_file:
        return read_key_file(Path(key_file))
    if key and secret:
        # Secrets pasted from a JSON file often carry literal "\n" instead of newlines.
        return Credentials(Secret(key), Secret(secret.replace("\\n", "\n")), "environment")
    if key or secret:
        missing = "COINBASE_API_SECRET" if key else "COINBASE_API_KEY"
        raise ConfigError(f"{missing} is not set: COINBASE_API_KEY and COINBASE_API_SECRET go together")
    return None


ALERT_WEBHOOK_VARIABLE = "GPTTRADER_ALERT_WEBHOOK_URL"


def load_alert_webhook(env: Mapping[str, str]) -> Secret | None:
    """The alert webhook's URL from `env`, as a Secret (its path and query registered too, for the libraries
    that log a request by its path), or None when none is set. Errors never repeat the value."""
    value = (env.get(ALERT_WEBHOOK_VARIABLE) or "").strip()
    if not value:
        return None
    url = Secret(value)
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{ALERT_WEBHOOK_VARIABLE} must be an http:// or https:// URL (its value is not shown)")
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    if len(tail) >= _MIN_REGISTERED_LENGTH * 2:
        Secret(tail)
    return url


def read_key_file(path: Path) -> Credentials:
    """Read a CDP key JSON file (`name` or `id`, and `privateKey`), refusing one that others can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"COINBASE_KEY_FILE {path} does not exist") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"COINBASE_KEY_FILE {path} is readable by group or others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"COINBASE_KEY_FILE {path} is not a readable JSON file: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"COINBASE_KEY_FILE {path} must hold a JSON object with 'name' and 'privateKey'")
    name = data.get("name") or data.get("id")
    private_key = data.get("privateKey")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"COINBASE_KEY_FILE {path} has no 'name' (or 'id') string")
    if not isinstance(private_key, str) or not private_key:
        raise ConfigError(f"COINBASE_KEY_FILE {path} has no 'privateKey' string")
    return Credentials(Secret(name), Secret(private_key), "key_file")
