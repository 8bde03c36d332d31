"""Every bad command-line input ends with status 2 and one line that names the flag, the value and what is
allowed, before anything runs."""

from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.app.cli import main
from gpttrader.config import load_config
from gpttrader.domain.events import EventType

SAMPLES = Path(__file__).resolve().parents[3] / "data" / "sample"
BACKTEST = ["backtest", "--strategy", "ma_cross", "--param", "fast=2", "--param", "slow=5", "--product", "BTC-USD"]
PLACE = ["order", "place", "--profile", "canary", "--product", "BTC-USD", "--side", "BUY"]


def outcome(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str | None, str]:
    """The exit status of `gpttrader argv` (argparse exits by SystemExit) and what it wrote to stderr."""
    try:
        status: int | str | None = main(argv)
    except SystemExit as exc:
        status = exc.code
    return status, capsys.readouterr().err


@pytest.fixture
def data_dir(clean_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir holding the shipped samples, so that a backtest that wrongly runs would find candles."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "sample").symlink_to(SAMPLES)
    monkeypatch.setenv("GPTTRADER_DATA_DIR", str(folder))
    return folder


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--fee", "abc"], "argument --fee: 'abc' is not a plain decimal number"),
        (["--fee", "1e999999999"], "argument --fee: 1e999999999 is out of range: a fee rate per side is from 0 to 0.1"),
        (["--fee", "5"], "argument --fee: 5 is out of range: a fee rate per side is from 0 to 0.1 (10%)"),
        (["--fee", "-0.001"], "argument --fee: -0.001 is out of range: a fee rate per side is from 0 to 0.1"),
        (["--fee", "NaN"], "argument --fee: 'NaN' is not a plain decimal number"),
        (["--slippage-bps", "-1"], "argument --slippage-bps: -1 is out of range: slippage is from 0 to 1000 bps"),
        (["--slippage-bps", "Infinity"], "argument --slippage-bps: 'Infinity' is not a plain decimal number"),
        (["--cash", "1e308"], "argument --cash: 1e308 is out of range: an amount is above 0 and at most 1000000000000"),
        (["--cash", "0"], "argument --cash: 0 is out of range: an amount is above 0"),
        (["--cash", "1e-999999999"], "argument --cash: 1e-999999999 has more than 18 decimal places"),
        (["--cash", ""], "argument --cash: '' is not a plain decimal number"),
        (["--start", "2025-03-01", "--end", "2025-02-01"], "--start 2025-03-01 must be before --end 2025-02-01"),
        (["--start", "2025-02-01", "--end", "2025-02-01"], "--start 2025-02-01 must be before --end 2025-02-01"),
        (["--out", "."], "argument --out: '.' is a folder, not a file to write"),
        (["--out", ""], "argument --out: '' is a folder, not a file to write"),
    ],
)
def test_backtest_refuses_bad_numbers_and_dates(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    out = tmp_path / "report.html"
    status, err = outcome(
        [*BACKTEST, "--start", "2025-02-01", "--end", "2025-02-02", "--out", str(out), *extra], capsys
    )
    assert status == 2
    assert err.startswith("gpttrader: error: ")
    assert err.count("\n") == 1, err
    assert message in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--size", "1e308"], "argument --size: 1e308 is out of range: an amount is above 0 and at most 1000000000000"),
        (["--size", "1_0"], "argument --size: '1_0' is not a plain decimal number"),
        (["--size", "١٢"], "argument --size: '١٢' is not a plain decimal number"),  # Arabic-Indic digits
        (["--size", " 1"], "argument --size: ' 1' is not a plain decimal number"),
        (["--size", "0.001", "--limit-price", "1e308"], "argument --limit-price: 1e308 is out of range"),
        (["--size", "0.001", "--limit-price", "-5"], "argument --limit-price: -5 is out of range"),
        (["--size"], "argument --size: expected one argument"),
        (["--size", "0.001", "--colour", "red"], "unrecognized arguments: --colour red"),
        (["--size", "0.001"], "order commands run against a sandbox exchange only"),
    ],
)
def test_order_place_refuses_bad_sizes_and_prices(
    clean_env: dict[str, str], capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    status, err = outcome([*PLACE, *extra], capsys)
    assert status == 2
    assert err.startswith("gpttrader: error: ")
    assert err.count("\n") == 1, err
    assert message in err


def test_plain_numbers_in_range_are_taken(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    window = ["--start", "2025-02-01", "--end", "2025-02-02", "--out", str(out)]
    numbers = ["--fee", "1.5e-3", "--slippage-bps", "2.5", "--cash", "1000000000000"]
    status, err = outcome([*BACKTEST, *window, *numbers], capsys)
    assert status == 0, err
    assert out.exists()


def test_a_usage_error_names_the_command_and_its_help(
    clean_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = outcome(["events", "tail", "-n", "0"], capsys)
    assert status == 2
    assert err == (
        "gpttrader: error: argument -n/--lines: 0 is out of range: from 1 to 1000000000 "
        "(see gpttrader events tail --help)\n"
    )


@pytest.mark.parametrize(
    ("count", "message"),
    [
        (
            "99999999999999999999999",
            "argument -n/--lines: 99999999999999999999999 is out of range: from 1 to 1000000000",
        ),
        ("0", "argument -n/--lines: 0 is out of range: from 1 to 1000000000"),
        ("1_0", "argument -n/--lines: '1_0' is not a whole number (digits only, like 20)"),
        ("٣", "argument -n/--lines: '٣' is not a whole number"),
        ("2.0", "argument -n/--lines: '2.0' is not a whole number"),
    ],
)
def test_events_tail_refuses_bad_counts(
    clean_env: dict[str, str], capsys: pytest.CaptureFixture[str], count: str, message: str
) -> None:
    with ApplicationContainer(load_config("dev")) as container:  # a store to read, so that -n reaches the query
        container.event_store.append(EventType.BOT_PAUSED, {"operator": "ops"})
    status, err = outcome(["events", "tail", "--profile", "dev", "-n", count], capsys)
    assert status == 2
    assert err.startswith("gpttrader: error: ")
    assert err.count("\n") == 1, err
    assert message in err


@pytest.mark.parametrize(
    "command", [["place", "--side", "BUY", "--product", "BTC-USD", "--size", "1"], ["list"], ["cancel", "cli-1"]]
)
@pytest.mark.parametrize("profile", ["canary", "prod"])
def test_order_commands_without_a_sandbox_say_so(
    clean_env: dict[str, str], capsys: pytest.CaptureFixture[str], command: list[str], profile: str
) -> None:
    status, err = outcome(["order", *command, "--profile", profile], capsys)
    assert status == 2
    assert err.startswith(
        "gpttrader: error: order commands run against a sandbox exchange only: set COINBASE_SANDBOX_URL"
    )
    assert err.count("\n") == 1, err
