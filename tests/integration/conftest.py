"""Fixtures the integration tests share: sandbox exchanges on free ports (the sandbox's, the engine's, the
Coinbase adapter's and the runs' tests all start them)."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gpttrader.sandbox import RunningSandbox, SandboxSettings, generate_key_file

SandboxFactory = Callable[..., RunningSandbox]


@pytest.fixture
def start_sandbox(tmp_path: Path) -> Iterator[SandboxFactory]:
    started: list[RunningSandbox] = []

    def start(**overrides: Any) -> RunningSandbox:
        key_file = tmp_path / f"key-{len(started)}.json"
        generate_key_file(key_file, overrides.pop("algorithm", "ES256"))
        settings = SandboxSettings(
            state_dir=tmp_path / f"sandbox-{len(started)}", key_files=(key_file,), **{"speed": 0.0, **overrides}
        )
        sandbox = RunningSandbox(settings)
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()
