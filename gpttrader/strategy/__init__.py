"""Strategies and what they are built from: indicators, signals, the ensemble and filters."""

from gpttrader.strategy.indicators import ATR, EMA, MACD, RSI, SMA, Bollinger, atr, bollinger, ema, macd, rsi, sma

__all__ = ["ATR", "EMA", "MACD", "RSI", "SMA", "Bollinger", "atr", "bollinger", "ema", "macd", "rsi", "sma"]
