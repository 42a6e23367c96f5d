"""The in-distribution check's signals and decision (judgemind.runs.calibrate), without a model."""

from __future__ import annotations

import numpy as np

from judgemind.runs import calibrate as C
from judgemind.runs.intervals import interval_of


def test_stage_doubt_low_for_a_clear_structure_high_for_none():
    clear = np.array([[1, 0, 0]] * 4 + [[0, 1, 0]] * 4 + [[0, 0, 1]] * 4, float)
    assert C.stage_doubt(clear, (4, 8)) == 0.0
    assert C.stage_doubt(np.full((12, 3), 1 / 3), (4, 8)) > 0.6


def test_feature_distance_and_track_fraction():
    mean, std = np.zeros(4), np.ones(4)
    assert C.feature_distance(np.array([0, 0, 0, 0.0]), mean, std) == 0.0
    assert C.feature_distance(np.array([2, 2, 2, 2.0]), mean, std) == 2.0
    assert C.pooled_tokens(np.ones((3, 2)), np.zeros((3, 1))).tolist() == [1, 1, 0]
    box = np.array([[0, 0, 1, 1], [np.nan] * 4, [0, 0, 1, 1], [0, 0, 1, 1]], float)
    assert C.track_fraction({"box": box}) == 0.75
    assert C.track_fraction({"box": box, "box_filled": np.array([0, 0, 1, 1])}) == 0.25
    assert C.track_fraction({}) is None


def test_ood_check_reasons():
    ref = {"thresholds": {"feature_distance": 2.0, "stage_doubt": 0.1}}
    assert C.ood_check({"feature_distance": 1.0, "stage_doubt": 0.05, "track_fraction": 0.9}, ref) == (True, [])
    ok, why = C.ood_check({"feature_distance": 5.0, "stage_doubt": 0.4, "track_fraction": 0.2}, ref)
    assert not ok and len(why) == 3
    assert "located in only 20%" in why[0] and "far from the training set" in why[1] and "take-off" in why[2]
    # no calibration: only the track check can run
    assert C.ood_check({"feature_distance": 50.0, "track_fraction": None}, None) == (True, [])


def test_threshold_falls_back_to_the_largest_score_for_small_sets():
    assert C._threshold([0.1, 0.3, 0.2], 0.01) == 0.3
    assert C._threshold([], 0.01) is None
    assert interval_of(50.0, {"intervals": {"final_score": {"q": 10.0}}}, "final_score") == [40.0, 60.0]
    assert interval_of(5.0, {"intervals": {"final_score": {"q": 10.0}}}, "final_score") == [0.0, 15.0]
    assert interval_of(5.0, {"intervals": {"final_score": {"q": None}}}, "final_score") is None
