"""`python -m gpttrader` is the `gpttrader` command."""

import sys

from gpttrader.app.cli import main

sys.exit(main())
