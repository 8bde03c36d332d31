"""The engine's tests run against the sandbox exchange too."""

import pytest

from gpttrader.sandbox import RunningSandbox
from tests.integration.engine.sessions import START, sandbox_env
from tests.integration.sandbox.conftest import SandboxFactory

# Defined in sessions.py; still importable from here, as the engine's tests always have.
__all__ = ["sandbox_env"]


@pytest.fixture
def market(start_sandbox: SandboxFactory) -> RunningSandbox:
    """A sandbox whose virtual clock starts at sessions.START (the canary's window), at speed 1.

    A test module that needs another start (or history) defines its own `market`, which takes precedence."""
    return start_sandbox(virtual_start=START.timestamp(), speed=1.0)
