"""The Coinbase broker adapter, built from a BotConfig exactly as the app builds it, against a sandbox."""

from collections.abc import Callable
from pathlib import Path

import pytest

from gpttrader.brokers.coinbase import CoinbaseBroker, create_coinbase_broker
from gpttrader.config import BotConfig, load_config
from gpttrader.sandbox import RunningSandbox
from tests.integration.sandbox.conftest import SandboxFactory

ConfigFactory = Callable[..., BotConfig]


def config_for(sandbox: RunningSandbox, env: dict[str, str], **extra_env: str) -> BotConfig:
    assert sandbox.cert_path is not None
    return load_config(
        "canary",
        env={
            **env,
            "COINBASE_SANDBOX_URL": f"https://{sandbox.base_url}",
            "COINBASE_SANDBOX_CERT": str(sandbox.cert_path),
            "COINBASE_KEY_FILE": str(sandbox.settings.key_files[0]),
            **extra_env,
        },
    )


@pytest.fixture
def sandbox(start_sandbox: SandboxFactory) -> RunningSandbox:
    return start_sandbox()


@pytest.fixture
def config(sandbox: RunningSandbox, clean_env: dict[str, str], tmp_path: Path) -> BotConfig:
    return config_for(sandbox, clean_env)


@pytest.fixture
def broker(config: BotConfig) -> CoinbaseBroker:
    return create_coinbase_broker(config)
