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


@pytest.fixture(scope="session", autouse=True)
def knowledge_cache(tmp_path_factory):
    """Point the judgemind cache (knowledge-bank embeddings) at a per-session folder shared by all test folders
    and their subprocesses, so tests never write to the user's cache."""
    import os

    path = tmp_path_factory.getbasetemp() / "judgemind-cache"
    path.mkdir(exist_ok=True)
    old = os.environ.get("JUDGEMIND_CACHE_DIR")
    os.environ["JUDGEMIND_CACHE_DIR"] = str(path)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    yield path
    if old is None:
        os.environ.pop("JUDGEMIND_CACHE_DIR", None)
    else:
        os.environ["JUDGEMIND_CACHE_DIR"] = old
