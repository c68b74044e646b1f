"""python -m devstack run    the whole system, supervised (what `make run` calls);
                          --workers N starts N worker processes (`make run WORKERS=2`)
python -m devstack seed   first-start data only (`run` does it on every start)
python -m devstack apps   the web apps installed and built when something changed (`make ui`)"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("command", choices=("run", "seed", "apps"))
    parser.add_argument(
        "--workers", type=int, default=1, help="run: how many worker processes (default 1)"
    )
    args = parser.parse_args(argv)
    # Imported late: the seed runs as its own process and needs none of the supervisor.
    if args.command == "seed":
        from devstack.seed import main as seed_main

        return seed_main()
    if args.command == "apps":
        from devstack.web_apps import main as apps_main

        return apps_main()
    from devstack.run import main as run_main

    return run_main(workers=args.workers)


if __name__ == "__main__":
    sys.exit(main())
