"""The engine's tests run against the sandbox exchange too."""

from tests.integration.sandbox.conftest import start_sandbox

__all__ = ["start_sandbox"]
