"""The package's layers import only downward, as DESIGN.md draws them."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "gpttrader"
# layer -> what it may import besides itself (prefixes of gpttrader module paths)
ALLOWED: dict[str, tuple[str, ...]] = {
    "domain": (),
    "config": ("domain",),
    "strategy": ("config", "domain"),
    "risk": ("config", "domain"),
    "brokers": ("config", "domain"),
    "marketdata": ("config", "domain"),
    "store": ("config", "domain"),
    "monitoring": ("config", "domain"),
    "sandbox": ("brokers.simulated", "marketdata", "domain"),
    # the broker protocol and the errors it raises are the engine's whole view of a broker; a start reads its
    # warm-up through the candle cache
    "engine": (
        "strategy",
        "risk",
        "brokers.protocol",
        "brokers.errors",
        "store",
        "monitoring",
        "marketdata",
        "config",
        "domain",
    ),
    # a backtest is handed a strategy and a risk manager: it depends on both directly, not only through the engine
    "backtest": ("engine", "strategy", "risk", "brokers.simulated", "marketdata", "config", "domain"),
    "reports": ("backtest", "store", "domain"),
}


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gpttrader."):
            found.add(node.module.removeprefix("gpttrader."))
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("gpttrader.") for a in node.names if a.name.startswith("gpttrader."))
    return found


FRONT_ENDS = {"app", "panel", "runs"}  # may import anything below them
LAYERS = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())


def test_every_layer_is_declared() -> None:
    assert set(LAYERS) - FRONT_ENDS <= set(ALLOWED), "a new layer needs its place in ALLOWED"


@pytest.mark.parametrize("layer", [layer for layer in LAYERS if layer not in FRONT_ENDS])
def test_layer_imports_only_downward(layer: str) -> None:
    folder = PACKAGE / layer
    allowed = (layer, *ALLOWED[layer])
    wrong = {
        f"{path.relative_to(PACKAGE)} imports gpttrader.{module}"
        for path in folder.rglob("*.py")
        for module in imports_of(path)
        if not any(module == a or module.startswith(f"{a}.") for a in allowed)
    }
    assert not wrong, "\n".join(sorted(wrong))
