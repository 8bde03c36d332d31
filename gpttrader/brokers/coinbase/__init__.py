"""The Coinbase Advanced Trade broker on the official `coinbase-advanced-py` SDK."""
