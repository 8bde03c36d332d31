"""The `gpttrader` command groups, one module each; `app.cli` loads only the one a command line names."""
