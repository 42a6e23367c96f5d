"""Fixtures for the data tests: a valid aerials record, tiny dataset folders, a tiny real video, real data (the cut in
tests/fixtures and, when beside the repository, the full shared files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from record_files import aerials_record_dict, write_folder

from shared_paths import FIXTURES, find_shared_data_dir

SHARED_DATA = find_shared_data_dir()


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
    "full": {
        "n": 3000,
        "train": 1801,
        "val": 450,
        "test": 749,
        "judges": {7: 1369, 3: 1024, 5: 607},
        "reproduced_7": (1269, 1369, 0.927),
        "reproduced_3": 0.987,
        "dd_34_33": 60,
        "warnings": 124,
        "codes": 52,
        "seeded_val": 450,
    },
    "sample": {
        "n": 277,
        "train": 173,
        "val": 38,
        "test": 66,
        "judges": {7: 135, 3: 88, 5: 54},
        "reproduced_7": (126, 135, 0.9333),
        "reproduced_3": 0.9432,
        "dd_34_33": 3,
        "warnings": 20,
        "codes": 36,
        "seeded_val": 42,
    },
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
        pytest.skip(
            f"{path} is absent (the full data is expected beside the repository in shared/data, or at "
            f"$JUDGEMIND_SHARED_DATA)"
        )
    return RealData(size, path, expect[size])


@pytest.fixture(scope="session", params=["sample", "full"])
def finediving_data(request) -> RealData:
    return _real(
        request.param,
        FIXTURES / "finediving" / "Annotations",
        SHARED_DATA / "FineDiving" / "Annotations",
        FINEDIVING_EXPECT,
    )


@pytest.fixture(scope="session", params=["sample", "full"])
def mtl_aqa_data(request) -> RealData:
    return _real(
        request.param, FIXTURES / "mtl_aqa" / "CoRe_info", SHARED_DATA / "MTL-AQA" / "CoRe_info", MTL_AQA_EXPECT
    )


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
