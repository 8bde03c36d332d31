"""A notebook's parameters, read from its cell tagged `parameters`, and the values a run is given checked
against them before any kernel starts: unknown names and wrong types are refused with the accepted ones
listed, and anything that looks like a secret is refused outright (credentials come from the environment,
never from a parameter that papermill would write into the output notebook)."""

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papermill.inspection import inspect_notebook

_SECRET_NAME = re.compile(r"(?i)(api_?key|secret|token|password|passphrase|private|credential)")
_SECRET_VALUE = (
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\."),
    re.compile(r"organizations/[^/\s]+/apiKeys/"),
)
_TYPES: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "float": (int, float),
    "str": (str,),
    "bool": (bool,),
    "list": (list, tuple),
    "dict": (dict,),
}


class ParameterError(ValueError):
    pass


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


def check_parameters(path: Path, given: Mapping[str, Any]) -> dict[str, Any]:
    accepted = notebook_parameters(path)
    problems = []
    for name, value in given.items():
        if _SECRET_NAME.search(name) or any(p.search(str(value)) for p in _SECRET_VALUE):
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
    if problems:
        raise ParameterError(f"{path.name}: bad parameters\n  " + "\n  ".join(problems))
    return dict(given)
