"""Property: any command line built from the real commands and flags and from adversarial values ends with
exit status 0 or 2 (1 only for a preflight that ran and failed), never with an uncaught exception.

Only commands that end quickly and offline: `run`, `sandbox`, `schedule` and `notebook` are left out. A
backtest that gets through runs on the shipped samples (half the time on a one-day window that the generated
arguments may move), in a temporary folder, so that an example takes seconds at most and writes nothing here.
"""

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpttrader.app import ApplicationContainer
from gpttrader.app.cli import main
from gpttrader.config import PROFILE_NAMES, load_config
from gpttrader.domain.events import EventType
from gpttrader.strategy import STRATEGIES

SAMPLES = Path(__file__).resolve().parents[3] / "data" / "sample"

NUMBERS = ["0", "1", "-1", "0.006", "1.5e-3", "12", "1e308", "-1e308", "1e999999999", "1e-999999999", "1_0"]
NUMBERS += ["nan", "NaN", "inf", "-Infinity", "0x10", "١٢", " 1", "1 ", "1,5", "1e", ".", "+", "9" * 400]
NUMBERS += ["9223372036854775808", "18446744073709551616", "99999999999999999999"]  # past SQLite's and C's ints
GARBAGE = ["", " ", "-", "--", "abc", "\u202e", "🙂", "é", "\t", "null", "~", "=", "a=b=c", "a/../b", "-x"]
DATES = ["2025-02-01", "2025-02-02", "2025-02-03", "2025-02-30", "2025-2-1", "20250201", "9999-12-31", "0001-01-01"]
PRODUCTS = ["BTC-USD", "ETH-USD", "SOL-USD", "DOGE-USD", "btc-usd", "BTC-PERP-INTX"]
GRANULARITIES = ["ONE_MINUTE", "FIVE_MINUTE", "ONE_HOUR", "ONE_DAY", "WEEKLY", "60"]
PARAMS = ["fast=2", "slow=5", "fast=1_0", "slow=ten", "period=3", "threshold=nan", "allow_short=maybe", "fsat=2"]
PARAMS += ["fast", "=", "fast=", "lookback=2", "method=weighted", "method=coin"]
PROFILES = [*PROFILE_NAMES, "staging", "DEV"]

# command -> flag -> values a person might give it (an empty list: a switch that takes none)
COMMANDS: dict[tuple[str, ...], dict[str, list[str]]] = {
    ("config", "show"): {"--profile": PROFILES, "--format": ["yaml", "json", "toml"]},
    ("events", "tail"): {"--profile": PROFILES, "-n": NUMBERS, "--type": ["order.intent", "cycle"], "--json": []},
    ("risk", "show"): {"--profile": PROFILES},
    ("backtest",): {
        "--strategy": [*STRATEGIES, "turtle"],
        "--product": PRODUCTS,
        "--granularity": GRANULARITIES,
        "--start": DATES,
        "--end": DATES,
        "--source": ["sample", "cache", ".", "missing.csv", "/dev/null"],
        "--param": PARAMS,
        "--fee": NUMBERS,
        "--slippage-bps": NUMBERS,
        "--cash": NUMBERS,
        "--risk": PROFILES,
        "--out": ["report.html", ".", "", "sub/dir/r.html"],
    },
    ("order", "place"): {
        "--profile": PROFILES,
        "--product": PRODUCTS,
        "--side": ["BUY", "sell", "HOLD"],
        "--size": NUMBERS,
        "--limit-price": NUMBERS,
        "--tif": ["GTC", "IOC", "FOK", "GTD", "day"],
        "--post-only": [],
    },
    ("order", "list"): {"--profile": PROFILES, "--open": []},
    ("order", "cancel"): {"--profile": PROFILES},
    ("preflight",): {"--profile": PROFILES},
}
# A backtest that gets through argparse, over one day: what the generated tokens are appended to, half the time.
BACKTEST = ["--strategy", "ma_cross", "--param", "fast=2", "--param", "slow=5", "--product", "BTC-USD"]
BACKTEST += ["--start", "2025-02-01", "--end", "2025-02-02"]


# Any value at all: the adversarial ones, and text. No OS passes a NUL in argv; no leading "/", since a value
# taken for --out must not write outside the test's folder.
ANYTHING = st.one_of(
    st.sampled_from(NUMBERS + GARBAGE + DATES + PRODUCTS),
    st.text(st.characters(exclude_characters="\x00"), max_size=12).map(lambda text: text.lstrip("/")),
)
EVERY_FLAG = sorted({flag for flags in COMMANDS.values() for flag in flags} | {"--bogus", "-h"})


def _flag_and_value(flag: str, choices: list[str], values: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    if not choices:
        return st.just([flag])
    return st.tuples(st.just(flag), st.one_of(st.sampled_from(choices), values)).map(list)


@st.composite
def command_lines(draw: st.DrawFn, command: tuple[str, ...]) -> list[str]:
    flags = COMMANDS[command]
    if draw(st.booleans()):
        # Well-formed: each flag of the command with a value meant for it (adversarial ones included), so
        # that a bad value is not hidden behind an unknown flag that argparse refuses first.
        token = st.sampled_from(sorted(flags)).flatmap(lambda flag: _flag_and_value(flag, flags[flag], st.nothing()))
    else:
        token = st.one_of(
            st.sampled_from(sorted(flags)).flatmap(lambda flag: _flag_and_value(flag, flags[flag], ANYTHING)),
            st.sampled_from(EVERY_FLAG).map(lambda flag: [flag]),  # a flag of another command, or with no value
            ANYTHING.map(lambda text: [text]),  # a stray value, or a positional (a client order id)
        )
    tokens = [part for group in draw(st.lists(token, max_size=5)) for part in group]
    if draw(st.integers(0, 9)) == 0:  # sometimes a group without its command (`gpttrader order`), or none
        return [*command[: draw(st.integers(0, len(command) - 1))], *tokens]
    base = BACKTEST if command == ("backtest",) and draw(st.booleans()) else []
    return [*command, *base, *tokens]


@pytest.fixture
def sandboxed(clean_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A temporary working directory and data dir (with the shipped samples): nothing lands in the repo."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "sample").symlink_to(SAMPLES)
    monkeypatch.setenv("GPTTRADER_DATA_DIR", str(data))
    monkeypatch.chdir(tmp_path)
    with ApplicationContainer(load_config("dev")) as container:  # a store, so that `events tail` reads one
        container.event_store.append(EventType.BOT_PAUSED, {"operator": "ops"})


# Each command its own examples, so that every one gets its share (10 to 20 s in all, most of it in backtests that run).
@pytest.mark.slow
@pytest.mark.usefixtures("sandboxed")
@pytest.mark.parametrize("command", sorted(COMMANDS), ids=" ".join)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_command_line_ends_in_0_or_2(
    command: tuple[str, ...], data: st.DataObject, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = data.draw(command_lines(command), label="argv")
    status: int | str | None
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse: usage errors, --help
        status = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    if status == 1:
        assert "preflight" in argv
        assert out.rstrip().endswith("preflight failed")
    else:
        assert status in (0, 2), (status, err)
    if status == 2 and "usage:" not in out:
        assert err.startswith("gpttrader: error: "), err


def test_an_argument_the_terminal_could_not_decode_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A byte the locale cannot decode reaches argv as a lone surrogate; echoed back to a strict stderr (a
    captured or redirected one) it used to crash the error message itself."""
    with pytest.raises(SystemExit) as exited:
        main(["order", "cancel", "0", "\udced"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == "gpttrader: error: unrecognized arguments: \\udced (see gpttrader --help)\n"
