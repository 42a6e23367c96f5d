"""The skeleton track: one typed object every perception produces and every consumer reads."""

from __future__ import annotations

import numpy as np
import pytest

from judgemind.data.skeleton import SKELETON_POINTS
from judgemind.data.track import SkeletonTrack, track_from_skeleton
from judgemind.errors import JudgemindError
from judgemind.features.skeleton import FG_DIM, GLOBAL_DIM, skeleton_tokens, track_tokens


def _annotated(n=12, seed=0):
    rng = np.random.default_rng(seed)
    uv = 50 + rng.normal(size=(n, 19, 2)) * 10
    vis = np.full((n, 19), 2, np.int8)
    vis[3, :4] = 0
    world = rng.normal(size=(n, 19, 3))
    world[:, SKELETON_POINTS.index("pelvis")] = np.stack([np.arange(n), np.zeros(n), np.full(n, 3.0)], -1)
    return track_from_skeleton(uv, vis, world, np.arange(0, 2 * n, 2), (9,), (128, 96), 25.0), uv, vis, world


def test_annotated_track_splits_the_world_into_pose_and_trajectory():
    tr, uv, vis, world = _annotated()
    pel = SKELETON_POINTS.index("pelvis")
    assert np.allclose(tr.trajectory, world[:, pel], atol=1e-5)
    assert np.allclose(tr.world_rel[:, pel], 0.0, atol=1e-6)
    assert np.allclose(tr.world(), world, atol=1e-5)
    assert tr.found.all() and tr.confidence[3, :4].max() == 0 and tr.confidence[3, 4:].min() == 1
    assert tr.cut_before().tolist() == [False] * 5 + [True] + [False] * 6  # cut at frame 9: between 8 and 10


def test_tokens_of_a_track_are_the_skeleton_tokens_of_its_arrays():
    tr, uv, vis, world = _annotated()
    g, fg, box, filled = track_tokens(tr)
    g2, fg2, _, _ = skeleton_tokens(uv, vis, (128, 96), tr.cut_before(), world, 2 / 25.0)
    assert g.shape == (12, GLOBAL_DIM) and fg.shape == (12, FG_DIM)
    assert np.allclose(fg, fg2, atol=1e-5) and np.allclose(g, g2, atol=1e-6)
    assert np.all(g[:, 11:14] == 0)  # annotated skeletons carry no measured camera motion


def test_round_trip_through_cache_tensors_and_errors():
    tr, *_ = _annotated()
    t = tr.to_tensors()
    back = SkeletonTrack.from_tensors(t, "f.safetensors")
    for k in ("frames", "uv", "visibility", "confidence", "box", "found", "camera", "world_rel", "trajectory"):
        assert np.allclose(np.asarray(getattr(back, k), float), np.asarray(getattr(tr, k), float), atol=1e-6), k
    assert back.cuts == tr.cuts and back.frame_size == (128, 96) and back.source == "annotated"
    with pytest.raises(JudgemindError, match="f.safetensors: holds no skeleton track"):
        SkeletonTrack.from_tensors({k: v for k, v in t.items() if k != "track_uv"}, "f.safetensors")
    bad = dict(t, track_meta=np.frombuffer(b"{not json", np.uint8))
    with pytest.raises(JudgemindError, match="damaged skeleton track"):
        SkeletonTrack.from_tensors(bad, "f.safetensors")
    with pytest.raises(JudgemindError, match="uv has shape"):
        SkeletonTrack.from_tensors(dict(t, track_uv=t["track_uv"][:, :5]), "f.safetensors")


def test_take_and_at_select_rows_and_refuse_unknown_frames():
    tr, *_ = _annotated()
    sub = tr.at([4, 10])
    assert sub.frames.tolist() == [4, 10] and np.allclose(sub.uv, tr.uv[[2, 5]])
    with pytest.raises(JudgemindError, match="does not cover"):
        tr.at([5])
    with pytest.raises(JudgemindError, match="must increase"):
        tr.take([3, 1])


def test_a_shot_without_the_athlete_is_flagged_not_invented():
    """AerialsPose sees nobody in the second shot: the track keeps found=False there (the cache's box_filled is
    ``~found``), its rows only hold the nearest detection for the token layout; nobody at all is an error."""
    from judgemind.features.aerialspose import AerialsPoseExtractor
    from judgemind.features.base import Frames, Plan

    steps = np.arange(0, 24, 2)
    rng = np.random.default_rng(1)
    n = len(steps)
    found = steps < 12  # a cut at frame 12; nobody found after it
    p = {
        "indices": steps,
        "uv": 40 + rng.normal(size=(n, 19, 2)).astype(np.float32),
        "vis_prob": np.tile(np.array([0.0, 0.0, 1.0], np.float32), (n, 19, 1)),
        "world": rng.normal(size=(n, 19, 3)).astype(np.float32),
        "box": np.where(found[:, None], np.array([[30.0, 30, 50, 60]]), np.nan).astype(np.float32),
        "found": found,
        "detector": found.astype(np.float32),
        "cuts": np.array([12]),
        "decoded": np.arange(24),
        "camera": np.zeros((24, 4), np.float32),
    }
    frames = Frames(
        images={0: np.zeros((96, 128, 3), np.uint8)}, boxes={}, filled={}, detections={}, fps=25.0, record_id="r1"
    )
    plan = Plan(steps=steps, decode=np.arange(24), locate=np.zeros(0, np.int64))
    ext = AerialsPoseExtractor()
    track = ext.track(frames, plan, p)
    assert track.found.tolist() == found.tolist() and track.cuts == (12,)
    assert track.cut_before().tolist() == [False] * 6 + [True] + [False] * 5
    assert np.all(np.isfinite(track.uv)) and track.frame_size == (128, 96)
    # the empty shot holds the last detection of the record, it is not extrapolated
    assert np.allclose(track.uv[found.sum() :], track.uv[found.sum() - 1], atol=1e-5)
    nobody = dict(p, found=np.zeros(n, bool))
    with pytest.raises(JudgemindError, match="r1.*found no athlete"):
        ext.track(frames, plan, nobody)
