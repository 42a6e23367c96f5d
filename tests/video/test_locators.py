"""Athlete locators: registry, gap filling, and real footage (walkers in vtest.avi, a man in carphone)."""

from __future__ import annotations

import types

import numpy as np
import pytest

from judgemind.errors import JudgemindError
from judgemind.video import iter_frames
from judgemind.video.locators import (
    Detection,
    Locator,
    fill_gaps,
    get_locator,
    interpolate_boxes,
    list_locators,
    register_locator,
)


def test_registry_lists_the_builtins():
    infos = {x.name: x for x in list_locators()}
    assert {"annotation", "mediapipe", "hog", "motion"} <= set(infos)
    assert infos["mediapipe"].keypoints and infos["hog"].keypoints and not infos["motion"].keypoints
    assert infos["annotation"].needs_record_boxes


def test_unknown_locator_and_option():
    with pytest.raises(JudgemindError, match="unknown locator 'nope'.*annotation"):
        get_locator("nope")
    with pytest.raises(JudgemindError, match="no option no_such_option"):  # issue 14: no TypeError traceback
        get_locator("motion", no_such_option=1)


def test_register_a_custom_locator():
    @register_locator
    class Centre(Locator):
        name = "test-centre"

        def detect(self, frame, index):
            h, w = frame.shape[:2]
            return Detection((w / 4, h / 4, 3 * w / 4, 3 * h / 4), 1.0) if index % 2 == 0 else Detection(None)

    frames = [(i, np.zeros((20, 40, 3), np.uint8)) for i in range(4)]
    dets = get_locator("test-centre").locate(frames)
    assert [d.filled for d in dets] == [False, True, False, True]
    assert dets[1].box == (10.0, 5.0, 30.0, 15.0) and dets[1].confidence == 0.0


# -- gap filling ---------------------------------------------------------------------------------------------------
def test_interpolate_hold_and_whole_frame():
    idx = [0, 10, 20, 30]
    boxes = np.array([[0, 0, 10, 10], [np.nan] * 4, [20, 0, 30, 10], [np.nan] * 4], np.float32)
    out, filled = interpolate_boxes(idx, boxes, [0, 5, 10, 20, 25, 30], (100, 50))
    np.testing.assert_allclose(out[1], [5, 0, 15, 10])  # halfway between frames 0 and 20
    np.testing.assert_allclose(out[2], [10, 0, 20, 10])
    np.testing.assert_allclose(out[4], [20, 0, 30, 10])  # held after the last detection
    assert filled.tolist() == [False, True, True, False, True, True]
    out, filled = interpolate_boxes([0, 1], np.full((2, 4), np.nan, np.float32), [0, 1], (100, 50))
    np.testing.assert_allclose(out, [[0, 0, 100, 50]] * 2) and filled.all()


def test_no_interpolation_across_cuts():
    idx = [0, 10, 20]
    boxes = np.array([[0, 0, 10, 10], [np.nan] * 4, [50, 0, 60, 10]], np.float32)
    out, _ = interpolate_boxes(idx, boxes, [5, 10, 15], (100, 50), cuts=[12])
    np.testing.assert_allclose(out[0], [0, 0, 10, 10])  # shot 1 holds its own box
    np.testing.assert_allclose(out[1], [0, 0, 10, 10])
    np.testing.assert_allclose(out[2], [50, 0, 60, 10])  # shot 2 holds its own box


def test_fill_gaps_flags():
    dets = [Detection(None), Detection((0, 0, 4, 4), 0.9), Detection(None)]
    out = fill_gaps([3, 4, 5], dets, (8, 8))
    assert [d.filled for d in out] == [True, False, True]
    assert out[0].box == (0, 0, 4, 4) and out[1] is dets[1]


# -- annotation ----------------------------------------------------------------------------------------------------
def test_annotation_locator_scales_and_interpolates():
    rec = types.SimpleNamespace(id="r1", boxes={10: (0, 0, 40, 80), 20: (40, 0, 80, 80)}, cuts=())
    frames = [(i, np.zeros((50, 100, 3), np.uint8)) for i in (10, 15, 20, 25)]
    dets = get_locator("annotation").locate(frames, record=rec, scale=0.5)
    assert dets[0].box == (0, 0, 20, 40) and not dets[0].filled and dets[0].confidence == 1.0
    assert dets[1].box == (10, 0, 30, 40) and dets[1].filled
    assert dets[3].box == (20, 0, 40, 40) and dets[3].filled


def test_annotation_locator_without_boxes_is_an_error():
    rec = types.SimpleNamespace(id="r1", boxes=None, cuts=())
    with pytest.raises(JudgemindError, match="'r1' has no `boxes`.*--locator"):
        get_locator("annotation").locate([(0, np.zeros((4, 4, 3), np.uint8))], record=rec)


# -- real footage --------------------------------------------------------------------------------------------------
def _heights(dets):
    return np.array([d.box[3] - d.box[1] for d in dets if not d.filled])


def test_motion_finds_walkers_in_vtest(vtest_path):
    frames = list(iter_frames(vtest_path, 0, 40, 1, short_side=288))
    dets = get_locator("motion").locate(frames)
    found = [d for d in dets if not d.filled]
    assert len(found) >= 0.8 * len(dets)
    h = _heights(dets)
    assert 20 < np.median(h) < 200  # a person (or a small group) in a 288-pixel-high frame


def test_hog_finds_and_tracks_walkers_in_vtest(vtest_path):
    frames = list(iter_frames(vtest_path, 0, 30, 2, short_side=360))
    loc = get_locator("hog", pose=False, detect_every=4)
    dets = loc.locate(frames)
    assert sum(not d.filled for d in dets) >= 0.8 * len(dets)
    h = _heights(dets)
    assert 40 < np.median(h) < 250
    assert all(d.box[2] > d.box[0] for d in dets)
    # tracked between detections: consecutive boxes move little
    c = np.array([((d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2) for d in dets])
    assert np.median(np.linalg.norm(np.diff(c, axis=0), axis=1)) < 20


def test_hog_with_pose_on_the_crop_gives_keypoints(vtest_path):
    frames = list(iter_frames(vtest_path, 0, 16, 2, short_side=360))
    dets = get_locator("hog").locate(frames)
    with_kp = [d for d in dets if d.keypoints is not None]
    assert len(with_kp) >= len(dets) // 2
    kp = with_kp[0].keypoints
    assert kp.shape == (33, 3) and kp.dtype == np.float32
    x0, y0, x1, y1 = with_kp[0].box
    vis = kp[kp[:, 2] > 0.5]
    assert ((vis[:, 0] > x0 - 5) & (vis[:, 0] < x1 + 5)).mean() > 0.8


def test_mediapipe_finds_the_man_in_carphone(carphone_path):
    frames = list(iter_frames(carphone_path, 0, 120, 15))
    dets = get_locator("mediapipe").locate(frames)
    found = [d for d in dets if not d.filled]
    assert len(found) >= 0.75 * len(dets)
    d = found[0]
    assert d.keypoints.shape == (33, 3) and 0 < d.confidence <= 1
    x0, y0, x1, y1 = d.box
    assert x0 < 88 < x1 and y0 < 72 < y1  # he sits in the middle of the 176x144 frame
