"""Reading YAML that a person wrote: every failure is a ConfigError naming the file, and the line and column."""

from pathlib import Path
from typing import Any

import yaml

from gpttrader.config.errors import ConfigError


def parse_yaml(text: str, source: str) -> Any:
    """The document in `text`; `source` names where it came from (a path, or `profile canary`)."""
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = "" if mark is None else f", line {mark.line + 1}, column {mark.column + 1}"
        what = exc.problem or exc.context or "not valid YAML"
        raise ConfigError(f"{source}{where}: {what}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    except RecursionError:  # nesting deeper than the parser can follow: no configuration is that deep
        raise ConfigError(f"{source}: nested too deeply to be a configuration") from None


def read_yaml(path: Path) -> Any:
    """The document in the file at `path`: a missing, unreadable or non-UTF-8 file is an error naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a YAML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start : exc.start + 1]!r})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    return parse_yaml(text, str(path))
