import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gpttrader.app import ApplicationContainer
from gpttrader.app.cli import main
from gpttrader.config import load_config
from gpttrader.domain.events import EventType

SECRET = (
    "-----BEGIN EC PRIVATE KEY-----\\n"
    "MHcCAQEEIGhT0pSuperSecretKeyMaterial0123456789abcdefAoGCCqGSM49\\n"
    "-----END EC PRIVATE KEY-----"
)


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The installed `gpttrader` entry point, in a process of its own."""
    script = Path(sys.executable).with_name("gpttrader")
    return subprocess.run([str(script), *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_config_show_canary_prints_canary_values_and_no_secret(clean_env: dict[str, str]) -> None:
    env = {
        **clean_env,
        "COINBASE_API_KEY": "organizations/org/apiKeys/key-9876",
        "COINBASE_API_SECRET": SECRET,
        "GPTTRADER_LOG_LEVEL": "DEBUG",
    }
    result = run_cli("config", "show", "--profile", "canary", env=env)
    assert result.returncode == 0, result.stderr
    shown = yaml.safe_load(result.stdout)
    assert shown["profile"] == "canary"
    assert shown["broker"] == "coinbase"
    assert shown["risk"]["max_position_size"] == {"BTC-USD": "0.01"}
    assert (shown["guards"]["daily_loss"]["limit"], shown["guards"]["daily_loss"]["unit"]) == ("0.01", "fraction")
    assert shown["trading_window"] == {"start": "14:00:00", "end": "15:00:00"}
    assert all(guard["enabled"] for guard in shown["guards"].values())
    assert shown["credentials"] == {"source": "environment", "api_key": "****9876", "api_secret": "**********"}
    for text in (result.stdout, result.stderr):
        assert "SuperSecretKeyMaterial" not in text
        assert "BEGIN EC PRIVATE KEY" not in text


def test_config_show_json(clean_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "--profile", "dev", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["broker"] == "deterministic"
    assert shown["credentials"] is None


def test_unknown_profile_exits_2_listing_profiles(clean_env: dict[str, str]) -> None:
    for command in (["config", "show"], ["events", "tail"]):
        result = run_cli(*command, "--profile", "staging", env=clean_env)
        assert result.returncode == 2
        assert "unknown profile 'staging'; profiles: dev, paper, canary, prod" in result.stderr


def test_coinbase_trader_alias(clean_env: dict[str, str]) -> None:
    alias = Path(sys.executable).with_name("coinbase-trader")
    result = subprocess.run([str(alias), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    assert "config" in result.stdout
    assert "events" in result.stdout


def test_bad_config_from_environment_exits_2(clean_env: dict[str, str]) -> None:
    result = run_cli("config", "show", "--profile", "paper", env={**clean_env, "SPOT_FORCE_LIVE": "1"})
    assert result.returncode == 2
    assert "SPOT_FORCE_LIVE=1 applies to the dev profile only" in result.stderr


def test_events_tail(clean_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "tail", "--profile", "dev"]) == 0
    assert "no events yet" in capsys.readouterr().err
    with ApplicationContainer(load_config("dev")) as container:
        for i in range(5):
            kind = EventType.BOT_RESUMED if i % 2 else EventType.BOT_PAUSED
            container.event_store.append(kind, {"operator": f"op{i}"}, run_id="run-1")
    assert main(["events", "tail", "--profile", "dev", "-n", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert "bot.paused run=run-1" in lines[0]
    assert lines[-1].endswith('{"operator": "op4"}')
    assert main(["events", "tail", "--profile", "dev", "--type", "bot.resumed", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(row["type"], row["payload"]["operator"]) for row in rows] == [
        ("bot.resumed", "op1"),
        ("bot.resumed", "op3"),
    ]
    with pytest.raises(SystemExit) as info:  # a misspelt type is refused, not read as no events
        main(["events", "tail", "--profile", "dev", "--type", "bot.resume"])
    assert info.value.code == 2
    assert "'bot.resume' is not an event type; the types are" in capsys.readouterr().err


def test_bad_arguments_exit_2(clean_env: dict[str, str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["events", "tail", "-n", "0"])
    assert info.value.code == 2
    assert main([]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "live"], "--mode: mode for profile paper must be one of sandbox, coinbase, got 'live'"),
        (["--mode", "coinbase", "--pace", "0"], "--pace: paper coinbase runs on the wall clock"),
        (["--granularity", "ONE_WEEK"], "granularity 'ONE_WEEK' is not one of ONE_MINUTE (60s)"),
        (["--pace", "-1"], "-1 is negative"),
    ],
)
def test_run_refuses_a_mode_a_pace_or_a_bar_size_it_cannot_run_naming_it(
    clean_env: dict[str, str], capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """Nothing is started: no exchange, no store."""
    try:
        code = main(["run", "--profile", "paper", *args])
    except SystemExit as exit_:  # argparse refuses a bad argument type itself
        code = int(exit_.code or 0)
    assert code == 2
    assert message in capsys.readouterr().err


def test_help_lists_only_working_commands(clean_env: dict[str, str]) -> None:
    result = run_cli("--help", env=dict(os.environ))
    commands = result.stdout.split("commands:")[1]
    # a command sits four spaces in (a long name's help wraps onto a line of its own, further in)
    named = [line for line in commands.splitlines() if line.startswith("    ") and line[4] != " "]
    assert {line.split()[0] for line in named} == {
        "backtest",
        "books",
        "config",
        "data",
        "events",
        "kill",
        "notebook",
        "order",
        "preflight",
        "risk",
        "run",
        "sandbox",
        "schedule",
        "store",
    }


def test_sandbox_keys_writes_a_private_key_file_once(clean_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "keys" / "key.json"
    result = run_cli("sandbox", "keys", "--out", str(out), "--algorithm", "EdDSA", env=clean_env)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    key = json.loads(out.read_text())
    assert key["name"].startswith("organizations/sandbox/apiKeys/")
    assert key["privateKey"] not in result.stdout
    again = run_cli("sandbox", "keys", "--out", str(out), env=clean_env)
    assert again.returncode == 2
    assert "refusing to overwrite" in again.stderr


def test_sandbox_serves_the_sdk_from_the_command_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    from coinbase.rest import RESTClient

    from gpttrader.brokers.coinbase.transport import trust_certificate

    script = Path(sys.executable).with_name("gpttrader")
    proc = subprocess.Popen(
        [str(script), "sandbox", "--port", "0"],
        env=clean_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        key_file = Path(lines[0].split("COINBASE_KEY_FILE=")[1].rstrip(")\n"))
        base_url = lines[1].split("https://")[1].strip()
        cert = Path(lines[2].split("certificate: ")[1].strip())
        key = json.loads(key_file.read_text())
        client = RESTClient(api_key=key["name"], api_secret=key["privateKey"], base_url=base_url, timeout=10)
        trust_certificate(client.session, base_url, cert)
        order = client.market_order_buy(client_order_id="cli-1", product_id="ETH-USD", base_size="0.1")
        assert order.success
        assert client.get_order(order.success_response["order_id"]).order.status == "FILLED"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_sandbox_candles_option_is_checked(clean_env: dict[str, str], tmp_path: Path) -> None:
    bad_format = run_cli("sandbox", "--port", "0", "--candles", "BTC-USD", env=clean_env)
    assert bad_format.returncode == 2
    assert "is not PRODUCT=PATH" in bad_format.stderr
    broken = tmp_path / "broken.csv"
    broken.write_text("time,open\n2026-01-01,1\n")
    bad_file = run_cli("sandbox", "--port", "0", "--candles", f"ETH-USD={broken}", env=clean_env)
    assert bad_file.returncode == 2
    assert "missing columns high, low, close, volume" in bad_file.stderr


def test_backtest_command_writes_the_report(clean_env: dict[str, str], tmp_path: Path) -> None:
    env = {**clean_env, "GPTTRADER_DATA_DIR": str(Path(__file__).resolve().parents[3] / "data")}
    out = tmp_path / "report.html"
    result = run_cli(
        "backtest",
        "--strategy",
        "ma_cross",
        "--product",
        "BTC-USD",
        "--start",
        "2025-02-01",
        "--end",
        "2025-03-01",
        "--param",
        "fast=10",
        "--param",
        "slow=30",
        "--out",
        str(out),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "sharpe" in result.stdout
    assert f"report: {out}" in result.stdout
    assert out.stat().st_size > 100_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "turtle", "--product", "BTC-USD"], "unknown strategy 'turtle'"),
        (
            ["--strategy", "ma_cross", "--product", "BTC-USD", "--param", "slow=thirty"],
            "strategy ma_cross: slow must be int, got 'thirty'",
        ),
        (
            ["--strategy", "macd", "--product", "doge-usd"],
            "argument --product: DOGE-USD is not listed by the sample data; nearest listed: ",
        ),
        (
            ["--strategy", "ma_cross", "--product", "BTC-USD", "--param", "fast=30", "--param", "slow=10"],
            r"fast (30) must be below slow (10)",
        ),
        (["--strategy", "macd", "--product", "BTC-USD", "--fee", "-0.1"], "argument --fee: -0.1 is out of range"),
        (["--strategy", "macd", "--product", "BTC-USD", "--granularity", "WEEKLY"], "granularity 'WEEKLY'"),
    ],
)
def test_backtest_command_bad_input(clean_env: dict[str, str], args: list[str], message: str) -> None:
    env = {**clean_env, "GPTTRADER_DATA_DIR": str(Path(__file__).resolve().parents[3] / "data")}
    result = run_cli("backtest", *args, "--start", "2025-02-01", "--end", "2025-02-03", env=env)
    assert result.returncode == 2
    assert message in result.stderr


def test_backtest_command_runs_the_ensemble_on_three_products(clean_env: dict[str, str], tmp_path: Path) -> None:
    env = {**clean_env, "GPTTRADER_DATA_DIR": str(Path(__file__).resolve().parents[3] / "data")}
    out = tmp_path / "ensemble.html"
    products = [arg for p in ("BTC-USD", "ETH-USD", "SOL-USD") for arg in ("--product", p)]
    result = run_cli(
        "backtest",
        "--strategy",
        "ensemble",
        *products,
        "--start",
        "2025-04-01",
        "--end",
        "2025-05-01",
        "--param",
        "threshold=0.25",
        "--out",
        str(out),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    # header, metrics, three prices with equity, rolling, drawdowns, annual, monthly, PnL, exposure
    assert page.count('class="plotly-graph-div"') == 11


def test_light_commands_do_not_load_heavy_libraries(clean_env: dict[str, str]) -> None:
    probe = (
        "import sys; from gpttrader.app.cli import main; main(['config', 'show', '--profile', 'dev']); "
        "print(sorted(m for m in ('pandas', 'aiohttp', 'coinbase', 'plotly') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=clean_env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


def test_backtest_with_a_profiles_risk(clean_env: dict[str, str], tmp_path: Path) -> None:
    env = {**clean_env, "GPTTRADER_DATA_DIR": str(Path(__file__).resolve().parents[3] / "data")}
    common = ["backtest", "--strategy", "ma_cross", "--param", "fast=10", "--param", "slow=30"]
    window = ["--start", "2025-02-01", "--end", "2025-03-01", "--out", str(tmp_path / "r.html")]
    result = run_cli(*common, "--product", "BTC-USD", "--risk", "canary", "--cash", "20000", *window, env=env)
    assert result.returncode == 0, result.stderr
    # the canary trades 14:00-15:00 UTC only, so most of what the strategy wants is refused
    assert "risk (canary): final state" in result.stdout
    assert "orders rejected" in result.stdout
    uncovered = run_cli(*common, "--product", "SOL-USD", "--risk", "canary", *window, env=env)
    assert uncovered.returncode == 2
    assert "risk.max_position_size names BTC-USD, which are not in symbols" in uncovered.stderr


def test_risk_show_and_operator_set(clean_env: dict[str, str]) -> None:
    shown = run_cli("risk", "show", "--profile", "paper", env=clean_env)
    assert shown.returncode == 0, shown.stderr
    assert "profile paper: active" in shown.stdout
    assert "max_drawdown             drawdown ge 0.10 -> reduce_only" in shown.stdout
    halted = run_cli(
        "risk", "set", "halted", "--profile", "paper", "--reason", "incident", "--operator", "ann", env=clean_env
    )
    assert halted.returncode == 0, halted.stderr
    assert "paper: active -> halted (by ann)" in halted.stdout
    again = run_cli("risk", "show", "--profile", "paper", env=clean_env)
    assert "profile paper: halted" in again.stdout
    assert '"operator": "ann", "reason": "incident"' in again.stdout
    refused = run_cli("risk", "set", "active", "--profile", "paper", "--reason", " ", env=clean_env)
    assert refused.returncode == 2
    assert "needs a reason" in refused.stderr
    bad = run_cli("risk", "set", "paused", "--profile", "paper", "--reason", "x", env=clean_env)
    assert bad.returncode == 2
    assert "invalid choice: 'paused' (choose from 'active', 'reduce_only', 'halted')" in bad.stderr


def test_backtest_an_order_strategy(clean_env: dict[str, str], tmp_path: Path) -> None:
    env = {**clean_env, "GPTTRADER_DATA_DIR": str(Path(__file__).resolve().parents[3] / "data")}
    result = run_cli(
        "backtest",
        "--strategy",
        "breakout",
        "--param",
        "lookback=24",
        "--product",
        "ETH-USD",
        "--granularity",
        "FIVE_MINUTE",
        "--start",
        "2025-06-01",
        "--end",
        "2025-06-15",
        "--out",
        str(tmp_path / "breakout.html"),
        env=env,
    )
    assert result.returncode == 0, result.stderr
    trades = next(line for line in result.stdout.splitlines() if line.startswith("trades "))
    assert float(trades.split()[1]) > 0


def test_risk_show_lists_each_guards_last_reading_and_its_age(
    clean_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--profile", "dev", "--dev-fast", "--cycles", "3"]) == 0
    capsys.readouterr()
    assert main(["risk", "show", "--profile", "dev"]) == 0
    shown = capsys.readouterr().out
    lines = shown.splitlines()
    daily = lines.index(next(line for line in lines if line.strip().startswith("daily_loss")))
    assert lines[daily + 1].strip().startswith("last reading: ")
    # Its age, or its time when the dev clock (fast here) has run ahead of this one.
    assert lines[daily + 1].strip().endswith((" s ago", "(the session's clock)"))
    assert "last reading (BTC-USD): " in shown  # a product's own guard (spread, depth, volatility)
