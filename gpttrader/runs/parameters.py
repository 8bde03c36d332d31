"""A notebook's parameters, read from its cell tagged `parameters`, and the values a run is given checked
against them before any kernel starts: unknown names and wrong types are refused with the accepted ones
listed, and anything that looks like a secret (or holds a piece of a registered one) is refused outright
(credentials come from the environment, never from a parameter that papermill would write into the output
notebook).

A value typed on the command line is read as the notebook declares its parameter: the text as typed for a
`str` (`-p start 2025-02-01` is the string, not YAML's date), YAML for the others (`-p fast 20`).
"""

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from papermill.inspection import inspect_notebook

from gpttrader.config.errors import ConfigError
from gpttrader.config.redaction import is_secret_name
from gpttrader.config.yaml_files import parse_yaml
from gpttrader.domain.symbols import SymbolError, normalize_symbol, normalize_symbols
from gpttrader.runs.leaks import holds_secret

# Parameters that name products, normalized as a profile's symbols are (btc-usd, BTC/USD, BTCUSD: BTC-USD).
SYMBOL_PARAMETERS = frozenset({"symbol", "symbols", "product", "products", "product_id", "product_ids"})
_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list, tuple),
    "dict": (dict,),
}


class ParameterError(ConfigError):
    """Parameters a notebook cannot be run with; nothing was run."""


@dataclass(frozen=True, slots=True)
class NotebookParameter:
    name: str
    type_name: str  # what its default is: int, float, str, bool, list, dict, or None (anything)
    default: str
    help: str


def notebook_parameters(path: Path) -> dict[str, NotebookParameter]:
    found = inspect_notebook(str(path))
    if not found:
        raise ParameterError(f"{path.name} has no cell tagged `parameters`")
    return {
        name: NotebookParameter(name, _type_of(info), str(info["default"]), str(info["help"]))
        for name, info in found.items()
    }


def _type_of(info: Mapping[str, Any]) -> str:
    """The declared type (`fast: int = 10`), else the type of the default's literal, else None (any)."""
    declared = str(info.get("inferred_type_name") or "None")
    if declared != "None":
        return declared
    try:
        value = ast.literal_eval(str(info["default"]))
    except (ValueError, SyntaxError):
        return "None"
    kind = "list" if isinstance(value, tuple) else type(value).__name__
    return kind if kind in _TYPES else "None"


def read_parameters(path: Path, typed: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Values typed on the command line (`-p NAME VALUE`), read as the notebook at `path` declares them."""
    accepted = notebook_parameters(path)
    return {
        name: text if _declared(accepted, name) == "str" else parse_yaml(text, f"-p {name} {text!r}")
        for name, text in typed
    }


def _declared(accepted: Mapping[str, NotebookParameter], name: str) -> str | None:
    parameter = accepted.get(name)
    return None if parameter is None else parameter.type_name


def _as_written(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def check_parameters(path: Path, given: Mapping[Any, Any]) -> dict[str, Any]:
    """The values a run of the notebook at `path` gets; a YAML date (`start: 2025-02-01` in a file) given for
    a `str` parameter is the date as written, as on the command line."""
    accepted = notebook_parameters(path)
    problems = []
    checked: dict[str, Any] = {}
    for key, given_value in given.items():
        name = str(key)
        value = _as_written(given_value) if _declared(accepted, name) == "str" else given_value
        # What looks like a secret is config.redaction's to say: the values it redacts from logs are refused here.
        if is_secret_name(name) or holds_secret(str(value)):
            problems.append(
                f"{name}: looks like a secret; credentials come from the environment (COINBASE_API_KEY, "
                "COINBASE_API_SECRET or COINBASE_KEY_FILE), never from notebook parameters"
            )
            continue
        parameter = accepted.get(name)
        if parameter is None:
            problems.append(f"{name}: unknown; {path.name} accepts {', '.join(sorted(accepted))}")
            continue
        kinds = _TYPES.get(parameter.type_name)
        wrong_bool = isinstance(value, bool) and parameter.type_name in ("int", "float")
        if kinds is not None and (not isinstance(value, kinds) or wrong_bool):
            problems.append(f"{name} = {value!r}: must be {parameter.type_name} (default {parameter.default})")
        elif name in SYMBOL_PARAMETERS:
            try:
                value = _product_ids(value)
            except SymbolError as exc:
                problems.append(f"{name} = {value!r}: {exc}")
        checked[name] = value
    if problems:
        raise ParameterError(f"{path.name}: bad parameters\n  " + "\n  ".join(problems))
    return checked


def _product_ids(value: Any) -> Any:
    """A product id, or a list of them, normalized (SymbolError for one that is none); anything else as given."""
    if isinstance(value, str):
        return normalize_symbol(value)
    if isinstance(value, list | tuple):
        return list(normalize_symbols(value))
    return value
