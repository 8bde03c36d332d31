"""The engine: execution with durable intents, and (as it grows) the trading loop and reconciliation."""

from gpttrader.engine.execution import OrderExecutor

__all__ = ["OrderExecutor"]
