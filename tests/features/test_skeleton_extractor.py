"""The ``skeleton`` extractor: annotated skeletons -> tokens, without decoding video; simulated estimator noise."""

from __future__ import annotations

import numpy as np
import pytest

from judgemind.errors import JudgemindError
from judgemind.features.base import get_extractor
from judgemind.features.cache import FeatureCache
from judgemind.features.pipeline import run_extract
from judgemind.features.skeleton import FG_DIM, GLOBAL_DIM, skeleton_tokens


@pytest.fixture(scope="module")
def skel_dataset(tmp_path_factory):
    """Four SynthAerials jumps, annotations and skeletons only (no videos: the extractor needs none)."""
    from judgemind.synth import generate

    return generate(
        tmp_path_factory.mktemp("sk") / "ds", n=4, seed=5, size=96, fps=25, workers=1, progress=False, render=False
    )


def test_extracts_every_record_without_videos(skel_dataset):
    s = run_extract(skel_dataset, "skeleton", progress=False)
    assert s.done == 4 and not s.failed
    cache = FeatureCache(skel_dataset, "skeleton")
    t = cache.load("synth_00000")
    assert t["global"].shape == (48, GLOBAL_DIM) and t["foreground"].shape == (48, FG_DIM)
    assert (t["foreground"][:, 176] == 1).all()  # the 3D block is there (SynthAerials has world coordinates)
    assert np.isfinite(t["global"]).all() and np.isfinite(t["foreground"]).all()
    assert (np.diff(t["frame_index"]) > 0).all()
    assert s.config["perception"] == "annotated skeletons"
    # the same settings again: everything cached
    assert run_extract(skel_dataset, "skeleton", progress=False).skipped == 4


def _legs(knee_bend_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """One frame of a standing skeleton (19 points) with both knees bent by ``knee_bend_deg``."""
    from judgemind.data.skeleton import SKELETON_POINTS

    P = {n: i for i, n in enumerate(SKELETON_POINTS)}
    uv = np.zeros((1, 19, 2))
    for n, (x, y) in {
        "head": (50, 10),
        "neck": (50, 20),
        "pelvis": (50, 50),
        "l_shoulder": (45, 22),
        "r_shoulder": (55, 22),
        "l_elbow": (43, 35),
        "r_elbow": (57, 35),
        "l_hand": (42, 48),
        "r_hand": (58, 48),
        "l_hip": (47, 52),
        "r_hip": (53, 52),
    }.items():
        uv[0, P[n]] = (x, y)
    a = np.radians(knee_bend_deg)
    for side, x in (("l", 47), ("r", 53)):
        uv[0, P[f"{side}_knee"]] = (x, 72)
        uv[0, P[f"{side}_ankle"]] = (x + 20 * np.sin(a), 72 + 20 * np.cos(a))
        ank = uv[0, P[f"{side}_ankle"]]
        uv[0, P[f"{side}_ski_tip"]] = ank + (15, 0)
        uv[0, P[f"{side}_ski_tail"]] = ank - (10, 0)
    return uv, np.full((1, 19), 2)


def test_knee_angle_token_follows_the_drawn_knee():
    straight = skeleton_tokens(*_legs(0.0), (100, 100), np.array([False]))[1][0]
    bent = skeleton_tokens(*_legs(60.0), (100, 100), np.array([False]))[1][0]
    knee_l = 76  # first joint angle: left knee, / pi
    assert straight[knee_l] == pytest.approx(1.0, abs=1e-3)
    assert bent[knee_l] == pytest.approx(120 / 180, abs=1e-3)


def test_simulated_noise_is_seeded_and_changes_the_tokens(skel_dataset):
    from judgemind.data import load_dataset

    ds = load_dataset(skel_dataset)
    rec = ds.records[1]

    def tokens(**kw):
        ext = get_extractor("skeleton", **kw)
        ext.bind(ds.root, ds.meta, ds.records)
        return ext.encode_record(rec)["foreground"]

    clean = tokens()
    a, b = tokens(jitter=5.0, noise_seed=1), tokens(jitter=5.0, noise_seed=1)
    assert np.array_equal(a, b) and not np.array_equal(a, clean)
    assert not np.array_equal(tokens(jitter=5.0, noise_seed=2), a)
    assert not np.array_equal(tokens(dropout=0.3), clean)
    swapped = tokens(swaps=1.0)
    assert not np.array_equal(swapped, clean)
    # every frame swapped: the left knee angle is the right one
    assert np.allclose(swapped[:, 76], clean[:, 77], atol=1e-5)
    # the noise settings are part of the cache key
    assert get_extractor("skeleton", jitter=5.0).config() != get_extractor("skeleton").config()


@pytest.mark.parametrize(
    "kw, words",
    [
        ({"jitter": -1}, "jitter"),
        ({"jitter": 80}, "jitter"),
        ({"dropout": 0.95}, "dropout"),
        ({"swaps": 2}, "swaps"),
        ({"steps": 0}, "steps"),
        ({"weights": "x.pt"}, "no --weights"),
    ],
)
def test_bad_options(kw, words):
    with pytest.raises(JudgemindError, match=words):
        get_extractor("skeleton", **kw)


def test_a_dataset_without_skeletons_gets_a_clear_error(skel_dataset, tmp_path):
    """The same jumps as a version-1 data set (no skeleton field): one error naming the data set and how to add
    skeletons; no cache is started."""
    import json
    import shutil

    root = tmp_path / "v1"
    root.mkdir()
    meta = json.loads((skel_dataset / "dataset.json").read_text())
    meta["schema_version"] = 1
    meta.pop("skeleton")
    (root / "dataset.json").write_text(json.dumps(meta))
    lines = [json.loads(x) for x in (skel_dataset / "annotations.jsonl").read_text().splitlines()]
    for d in lines:
        d.pop("skeleton")
    (root / "annotations.jsonl").write_text("".join(json.dumps(d) + "\n" for d in lines))
    shutil.copytree(skel_dataset / "skeletons", root / "skeletons")  # files alone do not make a v2 data set
    with pytest.raises(JudgemindError) as e:
        run_extract(root, "skeleton", progress=False)
    msg = str(e.value)
    assert str(root) in msg and "schema v2" in msg and "judgemind synth" in msg and "skeletons/<id>.npy" in msg
    assert not (root / "features" / "skeleton").exists()
