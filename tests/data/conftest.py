"""Fixtures for the data tests: a valid aerials record, tiny dataset folders, a tiny real video, real data (the cut in
tests/fixtures and, when beside the repository, the full shared files)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from shared_paths import FIXTURES, find_shared_data_dir

SHARED_DATA = find_shared_data_dir()

# A valid 5-judge aerials jump: judge totals 8.9, 8.9, 8.9 (counted), 9.7 and 7.8 (dropped); J = 26.7;
# 26.7 x 4.425 = 118.1475 -> truncated 118.14.
VALID_RECORD = {
    "id": "jump_0001",
    "video": "videos/jump_0001.mp4",
    "frames": [0, 10],
    "action_code": "bFdFF",
    "dd": 4.425,
    "sex": "M",
    "stages": {"takeoff": [0, 3], "flight": [3, 7], "landing": [7, 10]},
    "judges": [
        {"air": 1.8, "form": 4.4, "landing": 2.7},
        {"air": 1.9, "form": 4.5, "landing": 2.5},
        {"air": 1.8, "form": 4.3, "landing": 2.8},
        {"air": 2.0, "form": 4.8, "landing": 2.9},
        {"air": 1.5, "form": 3.9, "landing": 2.4},
    ],
    "final_score": 118.14,
    "deductions": [{"item": "bent_knees", "stage": "flight", "points": 0.3, "frames": [4, 6], "severity": 0.4}],
}


def aerials_record_dict(**changes) -> dict:
    """A fresh copy of :data:`VALID_RECORD` with top-level fields replaced (``None`` deletes a field)."""
    d = copy.deepcopy(VALID_RECORD)
    for k, v in changes.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    return d


def write_folder(root: Path, lines: list, splits: dict | None = None, **meta) -> Path:
    """Write ``dataset.json`` and ``annotations.jsonl`` by hand (lines: dicts, or raw strings written as is)."""
    root.mkdir(parents=True, exist_ok=True)
    ids = [x["id"] for x in lines if isinstance(x, dict) and isinstance(x.get("id"), str)]
    d = {"name": "test", "schema_version": 1, "fps": 25, "scoring": "aerials5",
         "stage_names": ["take-off", "flight", "landing"], "catalogue_version": "1",
         "splits": splits if splits is not None else {"train": ids}, **meta}
    (root / "dataset.json").write_text(json.dumps(d), encoding="utf-8")
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    (root / "annotations.jsonl").write_text(text, encoding="utf-8")
    return root


def make_video(path: Path, n_frames: int = 10, size: int = 32) -> Path:
    """A real ``n_frames`` x size x size mpeg4 mp4 written with PyAV."""
    av = pytest.importorskip("av")
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=25)
        s.width = s.height = size
        s.pix_fmt = "yuv420p"
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(np.full((size, size, 3), i * 20, np.uint8), format="rgb24")
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


@pytest.fixture
def record_dict():
    """Factory: ``record_dict(**changes)`` -> a valid aerials record dict with changes applied."""
    return aerials_record_dict


@pytest.fixture
def dataset_dir(tmp_path):
    """Factory: ``dataset_dir(lines, splits=None, video=True, **meta)`` -> a dataset folder in tmp_path; with
    ``video`` a 10-frame ``videos/jump_0001.mp4``."""
    counter = iter(range(1000))

    def make(lines, splits=None, video=True, **meta):
        root = write_folder(tmp_path / f"ds{next(counter)}", lines, splits, **meta)
        if video:
            make_video(root / "videos" / "jump_0001.mp4")
        return root

    return make


# The real annotation data in two sizes: "sample", the cut in tests/fixtures (always there), and "full", the whole
# files beside the repository (skipped when absent). Tests that take these fixtures run on both; ``expect`` holds
# the numbers each size must give.
FINEDIVING_EXPECT = {
    "full": {"n": 3000, "train": 1801, "val": 450, "test": 749, "judges": {7: 1369, 3: 1024, 5: 607},
             "reproduced_7": (1269, 1369, 0.927), "reproduced_3": 0.987, "dd_34_33": 60, "warnings": 124,
             "codes": 52, "seeded_val": 450},
    "sample": {"n": 277, "train": 173, "val": 38, "test": 66, "judges": {7: 135, 3: 88, 5: 54},
               "reproduced_7": (126, 135, 0.9333), "reproduced_3": 0.9432, "dd_34_33": 3, "warnings": 20,
               "codes": 36, "seeded_val": 42},
}
MTL_AQA_EXPECT = {
    "full": {"n": 1412, "train_val": 1059, "test": 353, "exact": 1382, "reproduced": 1385},
    "sample": {"n": 247, "train_val": 183, "test": 64, "exact": 235, "reproduced": 238},
}


class RealData:
    """One size of one real data set: its folder and the numbers it must give."""

    def __init__(self, size: str, path: Path, expect: dict):
        self.size, self.path, self.expect = size, path, expect


def _real(size: str, sample: Path, full: Path, expect: dict) -> RealData:
    path = sample if size == "sample" else full
    if not path.is_dir():
        pytest.skip(f"{path} is absent (the full data is expected beside the repository in shared/data, or at "
                    f"$JUDGEMIND_SHARED_DATA)")
    return RealData(size, path, expect[size])


@pytest.fixture(scope="session", params=["sample", "full"])
def finediving_data(request) -> RealData:
    return _real(request.param, FIXTURES / "finediving" / "Annotations", SHARED_DATA / "FineDiving" / "Annotations",
                 FINEDIVING_EXPECT)


@pytest.fixture(scope="session", params=["sample", "full"])
def mtl_aqa_data(request) -> RealData:
    return _real(request.param, FIXTURES / "mtl_aqa" / "CoRe_info", SHARED_DATA / "MTL-AQA" / "CoRe_info",
                 MTL_AQA_EXPECT)


@pytest.fixture(scope="session")
def finediving_dir(finediving_data) -> Path:
    return finediving_data.path


@pytest.fixture(scope="session")
def mtl_aqa_dir(mtl_aqa_data) -> Path:
    return mtl_aqa_data.path


@pytest.fixture(scope="session")
def finediving_sample_dir() -> Path:
    """The FineDiving cut in tests/fixtures (for tests whose result does not depend on the data's size)."""
    return FIXTURES / "finediving" / "Annotations"


@pytest.fixture(scope="session")
def mtl_aqa_sample_dir() -> Path:
    return FIXTURES / "mtl_aqa" / "CoRe_info"


@pytest.fixture(scope="session")
def finediving(finediving_dir):
    """``(meta, records)`` from the FineDiving adapter, loaded once per size."""
    from judgemind.data.adapters import load_finediving

    return load_finediving(finediving_dir)


@pytest.fixture(scope="session")
def mtl_aqa(mtl_aqa_dir):
    from judgemind.data.adapters import load_mtl_aqa

    return load_mtl_aqa(mtl_aqa_dir)
