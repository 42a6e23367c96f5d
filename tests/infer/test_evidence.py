"""Issue 21: each deduction's evidence is its own -- the frame its attention picks (off a camera cut when the
attention allows), a strip of frames for an item about motion -- and the sheet's pictures are cut around the
athlete (box track, else skeleton, else the whole frame), at least 160 px, with the skeleton carried into them."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from judgemind.data.track import track_from_skeleton
from judgemind.infer.evidence import (
    CROP_PX,
    MOTION_STRIP,
    STRIP_CROP_PX,
    evidence_steps,
    near_cut,
    sheet_frame_indices,
    sheet_thumbnails,
)
from judgemind.infer.score import deduction_evidence
from judgemind.rules import load_catalogue

pytest.importorskip("cv2")

CAT = load_catalogue()
IDS = list(CAT.ids)
FRAMES = np.arange(0, 120, 4)  # 30 steps, a frame every 4
FPS = 25.0


def _att(peaks: dict[int, float], lo: int = 0, hi: int = 30) -> np.ndarray:
    """Attention over the 30 steps: 0 outside [lo, hi) (another stage), a small floor inside, and the given peaks."""
    a = np.zeros(30)
    a[lo:hi] = 0.01
    for t, v in peaks.items():
        a[t] = v
    return a / a.sum()


def test_near_cut_marks_a_cut_and_the_frames_just_after_it():
    assert near_cut(np.array([0, 40, 44, 48, 52]), [44], 5).tolist() == [False, False, True, True, False]
    assert not near_cut(np.array([0, 4]), [], 5).any()


def test_the_peak_is_shown_when_no_cut_is_near():
    step, strip = evidence_steps(_att({12: 0.6, 20: 0.3}), 12, FRAMES, [80], FPS, motion=False)
    assert (step, strip) == (12, [12])


def test_a_peak_just_after_a_cut_moves_to_the_strongest_step_away_from_it_when_the_attention_allows():
    cuts = [48]  # step 12 is frame 48: the cut's first frame; step 13 (frame 52) is 4 frames after (guard 5)
    step, _ = evidence_steps(_att({12: 0.4, 13: 0.3, 16: 0.25}), 12, FRAMES, cuts, FPS, motion=False)
    assert step == 16  # 13 is still inside the guard
    # the only other step is too weak (< half the peak's attention): the peak stays
    step, _ = evidence_steps(_att({12: 0.8, 16: 0.1}), 12, FRAMES, cuts, FPS, motion=False)
    assert step == 12
    # a model without attention keeps its peak
    assert evidence_steps(None, 12, FRAMES, cuts, FPS, motion=False)[0] == 12


def test_a_motion_item_gets_a_strip_inside_its_stage_and_shot_away_from_the_cut():
    # stage = steps 10..24, a cut at step 8 (frame 32): the strip of a peak at step 11 may not reach step 9
    step, strip = evidence_steps(_att({11: 0.5}, 10, 25), 11, FRAMES, [32], FPS, motion=True)
    assert step == 11 and len(strip) == MOTION_STRIP and strip == sorted(strip)
    assert strip == [10, 11, 12, 13, 14]
    # a cut inside the stage at step 15 (frame 60): the strip of a peak at 14 stays before it
    _, strip = evidence_steps(_att({14: 0.5}, 10, 25), 14, FRAMES, [60], FPS, motion=True)
    assert strip == [10, 11, 12, 13, 14]
    # after a cut, the strip starts past the frames just after it when the shot has enough steps
    _, strip = evidence_steps(_att({15: 0.5, 18: 0.4}, 10, 25), 18, FRAMES, [60], FPS, motion=True)
    assert min(strip) >= 17 and 18 in strip


def _info():
    return SimpleNamespace(item_ids=tuple(IDS), item_stages=tuple(i.stage for i in CAT))


def test_items_of_one_stage_point_to_their_own_frames_and_motion_items_carry_strips():
    K = len(IDS)
    att = np.zeros((K, 30))
    att[:, 10:25] = 0.01
    peaks = {"legs_apart": 14, "bent_knees": 20, "hand_drag": 26, "crash": 28}
    for item, t in peaks.items():
        att[IDS.index(item), :] = 0.0
        lo, hi = (10, 25) if CAT.get(item).stage == "flight" else (25, 30)
        att[IDS.index(item), lo:hi] = 0.01
        att[IDS.index(item), t] = 1.0
    raw = np.full(K, 0.05)
    for item in peaks:
        raw[IDS.index(item)] = 0.9
    out = {"deduction_probs": raw, "deduction_step": att.argmax(1), "item_points": None, "deduction_attention": att}
    ev = deduction_evidence(out, FRAMES, _info(), None, 0.5, None, cuts=(), fps=FPS)
    got = {d["item"]: d for d in ev["deductions"]}
    assert {i: got[i]["evidence_frame"] for i in peaks} == {i: int(FRAMES[t]) for i, t in peaks.items()}
    assert got["legs_apart"]["evidence_frames"] == [56]  # a posture: one frame
    assert len(got["hand_drag"]["evidence_frames"]) == MOTION_STRIP  # a landing: motion
    assert all(f >= 100 for f in got["hand_drag"]["evidence_frames"])  # inside the landing (steps 25..29)
    assert got["crash"]["evidence_peak_frame"] == got["crash"]["evidence_frame"] == 112


def _frames(steps) -> dict:
    """Sheet frames 240 x 160 (the video is 480 x 320: scale 0.5), a bright athlete block at (100..140, 40..120)."""
    out = {}
    for f in steps:
        img = np.full((160, 240, 3), 30, np.uint8)
        img[40:120, 100:140] = 220
        out[int(f)] = img
    return out


def _skeleton():
    """A track at every step frame: 19 points spread over the athlete block (video pixels = 2 x sheet pixels)."""
    n, P = len(FRAMES), 19
    uv = np.zeros((n, P, 2), np.float32)
    uv[:, :, 0] = np.linspace(210, 270, P)
    uv[:, :, 1] = np.linspace(90, 230, P)
    vis = np.full((n, P), 2, np.int8)
    return track_from_skeleton(uv, vis, None, FRAMES, (), (480, 320), FPS, "annotated")


def _result(items) -> dict:
    deds = [{"item": i, "evidence_frame": f, "evidence_frames": fs} for i, f, fs in items]
    return {"frames": [0, 120], "deductions": deds}


def test_crops_are_cut_around_the_athlete_box_with_the_skeleton_carried_into_them():
    strip, want = sheet_frame_indices((0, 120), FRAMES)
    assert set(strip) <= set(want) and set(FRAMES.tolist()) <= set(want)
    boxes = {int(f): np.array([200.0, 80.0, 280.0, 240.0]) for f in FRAMES}  # video pixels
    res = _result([("legs_apart", 56, [56]), ("hand_drag", 104, [96, 100, 104, 108, 112])])
    th = sheet_thumbnails(_frames(want), 0.5, res, boxes, _skeleton())
    legs, hand = th["evidence"]["legs_apart"], th["evidence"]["hand_drag"]
    assert legs["kind"] == "frame" and hand["kind"] == "strip" and len(hand["crops"]) == MOTION_STRIP
    (c,) = legs["crops"]
    assert c["image"].shape == (CROP_PX, CROP_PX, 3) and CROP_PX >= 160 and STRIP_CROP_PX >= 160
    assert c["box_from"] == "athlete box"
    # the athlete fills the crop's middle (its box is 40 x 80 sheet pixels, the crop 1.4 x 80 = 112 around it)
    mid = c["image"][CROP_PX // 2 - 10 : CROP_PX // 2 + 10, CROP_PX // 2 - 10 : CROP_PX // 2 + 10]
    assert mid.mean() > 200
    # the skeleton's points land where they are in the frame: the first point (210, 90) video = (105, 45) sheet
    x0, y0, x1, y1 = legs["large"]["window"]
    k = CROP_PX / (x1 - x0)
    assert c["points"][0] == pytest.approx([(105 - x0) * k, (45 - y0) * k], abs=0.5)
    assert c["inside"].all() and legs["large"]["points"][0] == pytest.approx([105, 45], abs=1e-3)
    assert legs["large"]["image"].shape == (160, 240, 3) and set(th["images"]) == set(strip)


def test_without_a_box_the_skeleton_then_the_whole_frame_frame_the_crop():
    _, want = sheet_frame_indices((0, 120), FRAMES)
    res = _result([("legs_apart", 56, [56])])
    bad = {56: np.array([0.0, 0.0, 0.0, 0.0])}  # a filled, empty box
    th = sheet_thumbnails(_frames(want), 0.5, res, bad, _skeleton())
    assert th["evidence"]["legs_apart"]["crops"][0]["box_from"] == "skeleton"
    th = sheet_thumbnails(_frames(want), 0.5, res, {}, None)
    c = th["evidence"]["legs_apart"]["crops"][0]
    assert c["box_from"] == "whole frame" and c["points"] is None and c["image"].shape == (CROP_PX, CROP_PX, 3)
    x0, y0, x1, y1 = th["evidence"]["legs_apart"]["large"]["window"]
    assert (x0, x1) == pytest.approx((0, 240), abs=1e-3)  # the whole width, letterboxed
