"""Shared pytest fixtures for the judgemind test suite."""

from __future__ import annotations

from pathlib import Path

import pytest


from shared_paths import find_shared_data_dir  # noqa: E402  (tests/ is on sys.path: no __init__.py)


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """The shared data folder; skips the test when this checkout has none beside it."""
    path = find_shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} is absent (expected beside the repository as ../shared/data)")
    return path
