"""Broker adapters: Coinbase (official SDK), and the simulated fill model shared by backtest, paper and sandbox."""
