"""Secrets kept out of what a run leaves behind and what the commands print: the executed notebook, its HTML,
the registry's `error` column, stderr; and out of what goes in, the parameters.

A registered secret (gpttrader.config.secrets) counts as leaked when any FRAGMENT characters of it in a row
appear: a secret printed in two halves, or cut by a line break, gives itself away just the same, and the
whole-value match of `redact` would miss it. Shorter runs are too likely to occur by chance in a plot's
data to be worth flagging, and too short to rebuild a key from.
"""

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from gpttrader.config.errors import ConfigError
from gpttrader.config.redaction import redact
from gpttrader.config.secrets import REDACTED, load_alert_webhook, load_credentials, registered_secret_values

FRAGMENT = 12
_PARTS = {"source": "source", "outputs": "output", "attachments": "attachments", "metadata": "metadata"}


def register_environment_secrets() -> None:
    """Register this environment's credentials and alert webhook, so that the checks below know them (they
    never print them)."""
    load_credentials(os.environ)
    with contextlib.suppress(ConfigError):  # a malformed URL is registered all the same, before it is refused
        load_alert_webhook(os.environ)


def redact_secrets(text: str) -> str:
    """`text` with every fragment of a registered secret, and what `redact` finds by pattern, replaced."""
    covered: list[tuple[int, int]] = []
    for fragment in _fragments():
        at = text.find(fragment)
        while at != -1:
            covered.append((at, at + FRAGMENT))
            at = text.find(fragment, at + 1)
    merged: list[list[int]] = []
    for start, stop in sorted(covered):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    pieces, end = [], 0
    for start, stop in merged:
        pieces += [text[end:start], REDACTED]
        end = stop
    return redact("".join(pieces) + text[end:])


def holds_secret(text: str) -> bool:
    return redact_secrets(text) != text


def _fragments() -> set[str]:
    return {
        value[start : start + FRAGMENT]
        for value in registered_secret_values()
        for start in range(len(value) - FRAGMENT + 1)
    }


def scan_notebook(path: Path) -> list[str]:
    """Where in the notebook at `path` a secret is (`the output of cell 3`, ...); the file is left as it is."""
    return _places(_read(path))


def scrub_notebook(path: Path) -> list[str]:
    """Redact the secrets in the notebook at `path`, in place; returns where they were, as `scan_notebook`."""
    notebook = _read(path)
    places = _places(notebook)
    if places:
        path.write_text(json.dumps(_redacted(notebook), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return places


def _read(path: Path) -> dict[str, Any]:
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable notebook ({type(exc).__name__})") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ConfigError(f"{path}: not a notebook (a JSON object with a list of `cells`)")
    return notebook


def _places(notebook: dict[str, Any]) -> list[str]:
    # A cell's source matters as much as its outputs in a notebook saved by hand (a key pasted into a cell),
    # and widget state in the notebook's metadata holds outputs too.
    places = [
        f"the {label} of cell {index}"
        for index, cell in enumerate(notebook["cells"])
        for key, label in _PARTS.items()
        if key in cell and _redacted(cell[key]) != cell[key]
    ]
    metadata = notebook.get("metadata", {})
    return places + (["the notebook's metadata"] if _redacted(metadata) != metadata else [])


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_secrets(value)
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        # nbformat's multiline text: one text cut into lines, and a secret may run across them
        text = "".join(value)
        cleaned = redact_secrets(text)
        return value if cleaned == text else cleaned.splitlines(keepends=True)
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    return value
