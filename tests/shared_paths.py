"""Where the shared annotation data lives (used by conftest files and tests)."""

from __future__ import annotations

from pathlib import Path


def find_shared_data_dir() -> Path:
    """The shared annotation data (FineDiving, MTL-AQA): ``$JUDGEMIND_SHARED_DATA`` if set, else ``shared/data``
    beside the repository (repo at ``/work/main`` -> ``/work/shared/data``), else ``/work/shared/data``; the
    returned folder may not exist (the tests that need it then skip)."""
    import os

    env = os.environ.get("JUDGEMIND_SHARED_DATA")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if beside.is_dir():
        return beside
    return Path("/work/shared/data")
