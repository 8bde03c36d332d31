"""A local Coinbase-compatible exchange, so the official SDK and our adapter run end to end offline."""

from gpttrader.sandbox.keys import SandboxKey, generate_key_file
from gpttrader.sandbox.runner import RunningSandbox, SandboxSettings

__all__ = ["RunningSandbox", "SandboxKey", "SandboxSettings", "generate_key_file"]
