"""One bot per profile, under real processes: a second `gpttrader run`, a panel session or a notebook
session is refused at once, naming the holder; read-only commands and the kill switch are not; and a
holder killed with SIGKILL leaves no lock behind."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gpttrader.app.profile_lock import LOCK_FILE, ProfileLockedError, hold_profile
from gpttrader.app.sessions import canary_session
from gpttrader.config import load_config
from gpttrader.panel import Phase
from gpttrader.panel.session import BotSession
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

# A process that holds a profile the way a bot does (the container's claim) until its stdin closes.
HOLDER = """
import sys
from gpttrader.app import ApplicationContainer
from gpttrader.config import load_config
container = ApplicationContainer(load_config(sys.argv[1]))
container.claim("test holder")
print("held", flush=True)
sys.stdin.readline()
container.close()
"""


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gpttrader.app.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def hold(profile: str, env: dict[str, str]) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, profile], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def lock_record(state_dir: Path) -> dict[str, object]:
    try:
        record = json.loads((state_dir / LOCK_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return dict(record)


def test_a_second_run_is_refused_while_read_only_commands_and_kill_work_and_sigkill_frees_it(
    clean_env: dict[str, str],
) -> None:
    state_dir = load_config("dev").state_dir
    first = subprocess.Popen(
        [sys.executable, "-m", "gpttrader.app.cli", "run", "--profile", "dev"],
        env=clean_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: (state_dir / "metrics.json").exists(), timeout=60, what="the first bot's first cycle")
        record = lock_record(state_dir)
        assert record["pid"] == first.pid
        assert record["holder"] == "gpttrader run"

        second = cli("run", "--profile", "dev", "--dev-fast", env=clean_env)
        assert second.returncode == 2, second.stderr[-2000:]
        assert f"pid {first.pid}, started {record['started']}" in second.stderr
        assert "Traceback" not in second.stderr

        for read_only in (("events", "tail"), ("risk", "show"), ("config", "show")):
            shown = cli(*read_only, "--profile", "dev", env=clean_env)
            assert shown.returncode == 0, f"{read_only}: {shown.stderr[-2000:]}"
        adopting = cli("store", "adopt", "--profile", "dev", "--reason", "under a running bot", env=clean_env)
        assert adopting.returncode == 2
        assert f"pid {first.pid}" in adopting.stderr
        killed = cli("kill", "--profile", "dev", "--reason", "lock test", env=clean_env)
        assert killed.returncode == 0, killed.stderr[-2000:]
        assert first.poll() is None, "the first bot stopped"
    finally:
        first.kill()  # SIGKILL: no clean shutdown, no chance to unlock
        first.communicate(timeout=60)
    assert first.returncode == -signal.SIGKILL

    after = cli("run", "--profile", "dev", "--dev-fast", "--cycles", "2", env=clean_env)
    assert after.returncode == 0, after.stderr[-2000:]
    assert lock_record(state_dir)["pid"] != first.pid


def test_a_sigkilled_holder_releases_the_lock(clean_env: dict[str, str]) -> None:
    state_dir = load_config("paper").state_dir
    holder = hold("paper", clean_env)
    with pytest.raises(ProfileLockedError, match=f"test holder \\(pid {holder.pid}, started "):
        hold_profile(state_dir, "this test")
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate(timeout=60)
    lock = hold_profile(state_dir, "this test")
    assert lock_record(state_dir)["pid"] == os.getpid()
    lock.release()


def test_a_panel_session_is_refused_while_another_process_holds_the_profile(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    holder = hold("dev", clean_env)
    try:
        session = BotSession("dev", "deterministic", operator="ops", pace_seconds=0.01)
        asyncio.run(session.start())
        assert session.phase is Phase.REFUSED
        assert f"profile dev is already traded by test holder (pid {holder.pid}, started " in session.message
        assert session.bot is None
    finally:
        holder.communicate("\n", timeout=60)
    second = BotSession("dev", "deterministic", operator="ops", pace_seconds=0.01)

    async def start_and_stop() -> None:
        await second.start()
        assert second.phase is Phase.RUNNING, second.message
        await second.stop()

    asyncio.run(start_and_stop())
    assert second.phase is Phase.STOPPED, second.message


def test_a_notebook_session_is_refused_while_another_process_holds_the_profile(clean_env: dict[str, str]) -> None:
    holder = hold("canary", clean_env)
    try:
        with pytest.raises(
            ProfileLockedError, match=f"profile canary is already traded by test holder \\(pid {holder.pid}"
        ):
            canary_session(live=True, max_cycles=1)
    finally:
        holder.communicate("\n", timeout=60)


def test_two_holders_in_one_process_are_refused_too(tmp_path: Path) -> None:
    lock = hold_profile(tmp_path / "dev", "first")
    with pytest.raises(ProfileLockedError, match=f"first \\(pid {os.getpid()}"):
        hold_profile(tmp_path / "dev", "second")
    lock.release()
    hold_profile(tmp_path / "dev", "second").release()
