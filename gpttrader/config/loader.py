"""Build a BotConfig: profile YAML (package data), then environment overrides, then explicit arguments."""

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from gpttrader.config.environment import environment_overrides, resolve_profile_name
from gpttrader.config.errors import ConfigError
from gpttrader.config.models import BotConfig, ProfileName
from gpttrader.config.risk_limits import load_risk_limits
from gpttrader.config.secrets import load_credentials
from gpttrader.config.validation import format_validation_error, section_model
from gpttrader.config.yaml_files import parse_yaml, read_yaml

# Keys the loader fills in itself; a profile or an override that sets them is refused, so that a
# credential can never come from a file that gets shared and the profile name cannot disagree with the file.
_LOADER_ONLY = {
    "profile": "the profile name comes from the profile chosen",
    "credentials": "credentials come from COINBASE_API_KEY/COINBASE_API_SECRET or COINBASE_KEY_FILE only",
    "risk_limits": "risk limits are loaded from risk.limits_file",
}


def load_config(
    profile: str | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> BotConfig:
    environ = os.environ if env is None else env
    name = resolve_profile_name(profile, environ)
    # First: secrets are registered for redaction before any error could repeat one (a key pasted into a file).
    credentials = load_credentials(environ)
    arguments, environment = dict(overrides or {}), environment_overrides(name, environ)
    data_dir = Path(arguments.get("data_dir") or environment.get("data_dir") or default_data_dir())
    layers = (
        (f"profile {name}", read_profile(name)),
        *operator_layer(data_dir, name),
        ("environment", environment),
        ("arguments", arguments),
    )
    merged: dict[str, Any] = {"profile": name, "data_dir": default_data_dir()}
    for source, layer in layers:
        for key, why in _LOADER_ONLY.items():
            if key in layer and source != "environment":
                raise ConfigError(f"{source}: {key} cannot be set here: {why}")
        merged = merge_layer(BotConfig, merged, layer)
    config = _validate(name, merged)
    if config.risk.limits_file is not None:
        merged["risk_limits"] = load_risk_limits(config.risk.limits_file)
    merged["credentials"] = credentials
    return _validate(name, merged)


def operator_file(data_dir: Path, name: str) -> Path:
    """An operator's settings for a profile, kept with its data: read over the packaged profile at every load,
    and what `gpttrader config reload` re-reads in a running bot."""
    return data_dir / "profiles" / f"{name}.yaml"


def operator_layer(data_dir: Path, name: ProfileName) -> tuple[tuple[str, dict[str, Any]], ...]:
    path = operator_file(data_dir, name)
    if not path.is_file():
        return ()
    source = f"operator file {path}"
    data = read_yaml(path) or {}  # a file that is not UTF-8 (or not readable) is a ConfigError naming it
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the file must hold a mapping")
    if "data_dir" in data:
        raise ConfigError(f"{source}: data_dir cannot be set here: the file is found through it")
    return ((source, data),)


def read_profile(name: ProfileName) -> dict[str, Any]:
    file = resources.files("gpttrader.config") / "profiles" / f"{name}.yaml"
    data = parse_yaml(file.read_text(encoding="utf-8"), f"profile {name} ({file})") or {}
    if not isinstance(data, dict):
        raise ConfigError(f"profile {name}: the file must hold a mapping")
    return data


def default_data_dir() -> Path:
    """`data/` of the project checkout we run in (notebooks run from notebooks/), else ./data."""
    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "data").is_dir():
            return folder / "data"
    return cwd / "data"


def merge_layer(model: type[BaseModel], base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Lay `top` over `base`: a configuration section merges key by key, any other value is replaced.

    A mapping that is data rather than a section (`risk.max_position_size`, `strategy.params`) is replaced
    whole, so that a later layer can also remove entries, not only add them.
    """
    merged = dict(base)
    for key, value in top.items():
        field = model.model_fields.get(key)
        section = None if field is None else section_model(field.annotation)
        current = merged.get(key)
        if current is None and field is not None and isinstance(field.default, BaseModel):
            # A section not set yet starts from its defaults, so that a layer may change one field of a
            # nested model whose other fields are required (a guard's limit without its comparison).
            current = field.default.model_dump()
        if section is not None and isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = merge_layer(section, current, value)
        else:
            merged[key] = value
    return merged


def _validate(name: str, data: dict[str, Any]) -> BotConfig:
    try:
        return BotConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(f"profile {name}", exc, BotConfig)) from None
