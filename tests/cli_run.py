"""``jm(*args)``: run ``judgemind ARGS`` in a fresh Python process (offline, one thread) the way a user runs it;
the completed process with its exit code and text output. One copy for every test that drives the command line."""

from __future__ import annotations

import os
import subprocess
import sys

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def jm(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=cwd,
        timeout=600,
    )
