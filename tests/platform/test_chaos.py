"""`make chaos`, short form: the whole stack as production runs it (2 API processes, 2 workers,
Temporal and PostgreSQL with their state on disk) under every kind of fault at least once, while
a mix of purchases, renewals, visits, live streams and a campaign goes through the HTTP API; the
run's own checks then read the database, the sandbox provider's records and Temporal.

A subprocess, as a developer runs it, on free ports and a temporary data dir. What a user would
notice is the summary: nothing lost, duplicated or stuck. The bound on the run is generous (a busy
machine), never an expectation.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
RUN_BOUND_S = 900.0
SUMMARY = re.compile(
    r"^chaos: (\d+) faults \(([^)]*)\), (\d+) operations, (\d+) lost, (\d+) duplicated, "
    r"(\d+) stuck",
    re.MULTILINE,
)
KINDS = (
    "kill_worker",
    "kill_api",
    "restart_temporal",
    "restart_postgres",
    "cut_worker_postgres",
    "cut_worker_temporal",
)


def test_the_short_chaos_run_loses_duplicates_and_strands_nothing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaos", "--short", "--data-dir", str(tmp_path / "chaos")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=RUN_BOUND_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        output += f"\n(the chaos run did not end within {RUN_BOUND_S:.0f} s)"
    finally:
        left_behind(tmp_path)
    summary = SUMMARY.search(output)
    assert summary, f"no summary line:\n{output[-6000:]}"
    assert proc.returncode == 0, output[-6000:]
    _faults, by_kind, operations, lost, duplicated, stuck = summary.groups()
    kinds = dict(part.rsplit(" ", 1) for part in by_kind.split(", "))
    assert {kind: int(kinds.get(kind, 0)) >= 1 for kind in KINDS} == dict.fromkeys(KINDS, True)
    assert int(operations) > 0
    assert (lost, duplicated, stuck) == ("0", "0", "0")


def left_behind(data_dir: Path) -> None:
    """Nothing of the run may outlive the test: a server still running on its data (the harness
    stops them itself; this is for a run that was killed) is killed."""
    for process in psutil.process_iter(["pid", "cmdline"]):
        with contextlib.suppress(psutil.Error, ProcessLookupError, PermissionError):
            if str(data_dir) in " ".join(process.info["cmdline"] or []):
                os.kill(process.info["pid"], signal.SIGKILL)
