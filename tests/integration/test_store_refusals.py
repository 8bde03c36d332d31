"""A store that cannot be lost silently, through the real CLI on real SQLite files: an emptied, garbled or
lost store stops `run` and the read-only commands with exit 2, naming the file and the fix; the operator's
`store adopt` starts over on purpose, recorded; and a new store never meets open orders it does not know."""

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from gpttrader.app import ApplicationContainer
from gpttrader.config import load_config
from gpttrader.domain import OrderRequest, OrderType, Side
from gpttrader.domain.events import EventType

pytestmark = pytest.mark.slow


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gpttrader.app.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def refused(result: subprocess.CompletedProcess[str], path: Path) -> None:
    assert result.returncode == 2, f"exit {result.returncode}: {result.stdout[-1000:]}{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr
    assert f"gpttrader: error: {path} " in result.stderr
    assert "gpttrader store adopt --profile dev" in result.stderr


@pytest.fixture
def ran(clean_env: dict[str, str]) -> Path:
    """The dev profile after a bot ran on it: its state directory."""
    first = cli("run", "--profile", "dev", "--dev-fast", "--cycles", "3", env=clean_env)
    assert first.returncode == 0, first.stderr[-2000:]
    return load_config("dev").state_dir


def test_an_emptied_store_stops_run_and_the_read_only_commands_until_adopted(
    ran: Path, clean_env: dict[str, str]
) -> None:
    store = ran / "gpttrader.sqlite"
    backups = sorted((ran / "backups").glob("gpttrader-*.sqlite"))
    assert backups, "the bot's shutdown made no backup"
    os.truncate(store, 0)
    for command in (("run", "--dev-fast"), ("events", "tail"), ("risk", "show")):
        result = cli(*command, "--profile", "dev", env=clean_env)
        refused(result, store)
        assert f"cp {backups[-1]} {store}" in result.stderr
    checked = cli("store", "check", "--profile", "dev", env=clean_env)
    assert checked.returncode == 2
    assert f"{store} is empty (zero bytes)" in checked.stderr
    assert store.stat().st_size == 0

    adopted = cli("store", "adopt", "--profile", "dev", "--reason", "disk replaced", env=clean_env)
    assert adopted.returncode == 0, adopted.stderr[-2000:]
    assert "the damaged one is kept as" in adopted.stdout
    again = cli("run", "--profile", "dev", "--dev-fast", "--cycles", "2", env=clean_env)
    assert again.returncode == 0, again.stderr[-2000:]
    shown = cli("events", "tail", "--profile", "dev", "--type", "store.adopted", env=clean_env)
    assert '"reason": "disk replaced"' in shown.stdout
    assert cli("store", "check", "--profile", "dev", env=clean_env).returncode == 0


def test_a_store_garbled_in_the_middle_is_refused_by_run_events_tail_and_risk_show(
    ran: Path, clean_env: dict[str, str]
) -> None:
    store = ran / "gpttrader.sqlite"
    with ApplicationContainer(load_config("dev")) as container:  # history enough for a middle to garble
        for i in range(2000):
            container.event_store.append(EventType.FEED_RESYNC, {"message": f"{i} {'x' * 300}"})
    data = bytearray(store.read_bytes())
    middle = len(data) // 2 // 4096 * 4096
    data[middle : middle + 4 * 4096] = b"\xff" * (4 * 4096)
    store.write_bytes(bytes(data))
    for command in (("run", "--dev-fast"), ("events", "tail"), ("risk", "show")):
        refused(cli(*command, "--profile", "dev", env=clean_env), store)


def test_an_emptied_venue_store_is_refused(ran: Path, clean_env: dict[str, str]) -> None:
    venue = ran / "venue.sqlite"
    os.truncate(venue, 0)
    refused(cli("run", "--profile", "dev", "--dev-fast", env=clean_env), venue)
    checked = cli("store", "check", "--profile", "dev", env=clean_env)
    assert checked.returncode == 2
    assert f"{ran / 'gpttrader.sqlite'}: ok" in checked.stdout


def test_a_new_store_refuses_an_account_with_open_orders_until_they_are_adopted(clean_env: dict[str, str]) -> None:
    config = load_config("dev")
    # The venue's books alone: an order of this bot's (its prefix) that its store lacks, as after a lost store.
    with ApplicationContainer(config) as container:
        price = container.broker.quote("BTC-USD").bid * Decimal("0.5")
        resting = container.broker.place_order(
            OrderRequest(
                client_order_id="dev-placed-by-hand",
                product_id="BTC-USD",
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                size=Decimal("0.001"),
                limit_price=price.quantize(Decimal("0.01")),
            )
        )
    assert not (config.state_dir / "gpttrader.sqlite").exists()

    first = cli("run", "--profile", "dev", "--dev-fast", "--cycles", "2", env=clean_env)
    assert first.returncode == 2, first.stderr[-2000:]
    assert "profile dev has a new store, but the exchange account shows open orders dev-placed-by-hand" in first.stderr
    assert "gpttrader store adopt --profile dev" in first.stderr
    assert "Traceback" not in first.stderr

    adopted = cli("store", "adopt", "--profile", "dev", "--reason", "orders placed by hand", env=clean_env)
    assert adopted.returncode == 0, adopted.stderr[-2000:]
    assert "open orders: dev-placed-by-hand" in adopted.stdout
    second = cli("run", "--profile", "dev", "--dev-fast", "--cycles", "2", env=clean_env)
    assert second.returncode == 0, second.stderr[-2000:]
    with ApplicationContainer(config) as container:
        assert [o.client_order_id for o in container.broker.list_orders("BTC-USD", open_only=True)] == [
            resting.client_order_id
        ], "the adopted order was cancelled"
        assert container.orders_store.get("dev-placed-by-hand") is not None
    assert cli("store", "adopt", "--profile", "dev", "--reason", "again", env=clean_env).returncode == 2


def test_backup_and_check_commands(ran: Path, clean_env: dict[str, str]) -> None:
    before = set((ran / "backups").iterdir())
    made = cli("store", "backup", "--profile", "dev", env=clean_env)
    assert made.returncode == 0, made.stderr[-2000:]
    assert {p.name.split("-")[0] for p in set((ran / "backups").iterdir()) - before} == {"gpttrader", "venue"}
    checked = cli("store", "check", "--profile", "dev", env=clean_env)
    assert checked.returncode == 0
    assert checked.stdout.count(": ok") == 2
