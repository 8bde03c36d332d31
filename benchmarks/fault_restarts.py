"""The fault suite at length: the canary bot restarted 500 times (--restarts) against the sandbox, killed
at random moments and meeting lost answers, 5xx, 429s and cut sockets (tests/integration/engine/
fault_harness.py, which the test suite runs for 50). Prints restarts, orders, fills, the highest position
against the cap and the wall time; exits 1 if a check was violated, naming it.
"""

import argparse
import sys
import tempfile
from pathlib import Path

# The harness lives in the test tree; `make bench` runs this file as a script, from the project root.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.engine.fault_harness import run_suite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--restarts", type=int, default=500)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        figures = run_suite(Path(directory), restarts=args.restarts, seed=args.seed)
    print("\n".join(figures.lines()))
    sys.exit(1 if figures.violations else 0)


if __name__ == "__main__":
    main()
