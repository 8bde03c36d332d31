"""`gpttrader sandbox` serves the local exchange; `gpttrader sandbox keys` makes a key file for it."""

import argparse
import sys
from pathlib import Path

from gpttrader.app.arguments import candle_source, port
from gpttrader.config import load_config
from gpttrader.config.redaction import configure_logging
from gpttrader.marketdata import CandleFileError
from gpttrader.marketdata.samples import SAMPLES, sample_file
from gpttrader.sandbox import SandboxSettings, generate_key_file
from gpttrader.sandbox.runner import serve_forever


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    sandbox = commands.add_parser("sandbox", help="serve a local Coinbase-compatible exchange")
    sandbox.add_argument("--port", type=port, default=8443, help="port to listen on (default 8443; 0 picks one)")
    sandbox.add_argument(
        "--tls",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve https with a self-signed certificate (default; the SDK speaks https only)",
    )
    sandbox.add_argument(
        "--key-file",
        action="append",
        type=Path,
        dest="key_files",
        metavar="PATH",
        help="trust this CDP key file (default: data/state/sandbox/key.json, made if missing)",
    )
    sandbox.add_argument(
        "--derivatives", action="store_true", help="serve INTX perpetuals (also COINBASE_ENABLE_DERIVATIVES=1)"
    )
    sandbox.add_argument("--speed", type=float, default=1.0, help="minutes of price path per wall minute")
    sandbox.add_argument("--seed", type=int, default=7, help="seed of the synthetic price paths")
    sandbox.add_argument(
        "--candles",
        action="append",
        type=candle_source,
        default=[],
        metavar="PRODUCT=PATH",
        help="replay this parquet/CSV file for a spot product (default: the shipped samples "
        "in data/sample for BTC, ETH and SOL; a seeded synthetic path for the others)",
    )
    sandbox.set_defaults(run=_sandbox_serve)
    sandbox_commands = sandbox.add_subparsers(title="sandbox commands", metavar="COMMAND")
    keys = sandbox_commands.add_parser("keys", help="write a new CDP-style key file (mode 0600)")
    keys.add_argument("--out", type=Path, required=True, help="where to write the key file")
    keys.add_argument("--algorithm", choices=("ES256", "EdDSA"), default="ES256")
    keys.set_defaults(run=_sandbox_keys)


def _sandbox_serve(args: argparse.Namespace) -> int:
    config = load_config(None)
    configure_logging(config.log_level)
    state_dir = config.data_dir / "state" / "sandbox"
    key_files = tuple(args.key_files or ())
    if not key_files:
        default_key = state_dir / "key.json"
        if not default_key.exists():
            generate_key_file(default_key)
        key_files = (default_key,)
    for path in key_files:
        print(f"trusting key file {path} (use it with COINBASE_KEY_FILE={path})", flush=True)
    candle_files = {product_id: sample_file(config.data_dir / "sample", product_id) for product_id in SAMPLES}
    candle_files = {product_id: path for product_id, path in candle_files.items() if path.is_file()}
    candle_files.update(dict(args.candles))
    for product_id, path in sorted(candle_files.items()):
        print(f"replaying {path} for {product_id}", flush=True)
    settings = SandboxSettings(
        candle_files=candle_files,
        state_dir=state_dir,
        key_files=key_files,
        port=args.port,
        tls=args.tls,
        derivatives_enabled=args.derivatives or config.derivatives_enabled,
        speed=args.speed,
        seed=args.seed,
    )
    try:
        serve_forever(settings)
    except CandleFileError as exc:
        print(f"gpttrader: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _sandbox_keys(args: argparse.Namespace) -> int:
    if args.out.exists():
        print(f"gpttrader: error: {args.out} exists; refusing to overwrite a key", file=sys.stderr)
        return 2
    key = generate_key_file(args.out, args.algorithm)
    print(f"wrote {args.algorithm} key {key.name} to {args.out} (mode 600)")
    return 0
