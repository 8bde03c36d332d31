"""Per-symbol risk limits shipped as package data (`risk/<name>.yaml`) or read from a user's file."""

from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gpttrader.config.errors import ConfigError
from gpttrader.config.validation import format_validation_error
from gpttrader.config.yaml_files import parse_yaml, read_yaml

PositiveDecimal = Annotated[Decimal, Field(gt=0)]


class SymbolLimit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_notional: PositiveDecimal
    max_leverage: Annotated[Decimal, Field(ge=1)] = Decimal(1)


class RiskLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    max_leverage: Annotated[Decimal, Field(ge=1)]
    symbols: dict[str, SymbolLimit] = Field(min_length=1)

    def for_symbol(self, symbol: str) -> SymbolLimit | None:
        return self.symbols.get(symbol)


def packaged_limit_names() -> list[str]:
    folder = resources.files("gpttrader.config") / "risk"
    return sorted(Path(entry.name).stem for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def load_risk_limits(name_or_path: str) -> RiskLimits:
    """Load limits by packaged name (`spot_top10`) or from a path to a YAML file."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise ConfigError(f"risk.limits_file: {name_or_path} does not exist")
        raw = read_yaml(path)
        name = path.stem
    else:
        if name_or_path not in packaged_limit_names():
            raise ConfigError(
                f"risk.limits_file: unknown limits {name_or_path!r}; packaged: {', '.join(packaged_limit_names())} "
                "(or give a path to a .yaml file)"
            )
        file = resources.files("gpttrader.config") / "risk" / f"{name_or_path}.yaml"
        raw = parse_yaml(file.read_text(encoding="utf-8"), f"risk limits {name_or_path} ({file})")
        name = name_or_path
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"risk limits {name}: the file must hold a mapping")
    try:
        limits = RiskLimits.model_validate({"name": name, **raw})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(f"risk limits {name}", exc, RiskLimits)) from None
    for symbol, limit in limits.symbols.items():
        if limit.max_leverage > limits.max_leverage:
            raise ConfigError(
                f"risk limits {name}: symbols.{symbol}.max_leverage {limit.max_leverage} exceeds "
                f"max_leverage {limits.max_leverage}"
            )
    return limits
