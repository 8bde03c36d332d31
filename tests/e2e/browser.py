"""What the browser tests share: Debian's headless Chromium, started as the project starts it, and the mark
that skips a test (naming the package) on a machine without it. A helper module: import from it."""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

NEEDS_CHROMIUM = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="headless Chromium is missing: install Debian's package `chromium` (apt-get install chromium)",
    ),
]
