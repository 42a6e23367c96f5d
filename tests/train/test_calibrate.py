"""The in-distribution check's signals and decision (judgemind.runs.calibrate), without a model."""

from __future__ import annotations

import numpy as np
import pytest

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


def test_robust_feature_scales_never_blow_the_distance_up():
    """A token dimension that never varies in training (a flag, a constant) used to make the distance 20 000: its
    spread is floored at a tenth of the median spread, and one dimension's |z| counts at most Z_CLIP."""
    rng = np.random.default_rng(0)
    train = rng.normal(size=(200, 6))
    train[:, 0] = 0.0  # never varies
    center, scale = C.robust_reference(train)
    assert np.isfinite(scale).all() and scale.min() > 0
    assert scale[0] == pytest.approx(0.1 * np.median(scale[1:]), rel=0.3)
    d = C.feature_distance(np.array([1.0, 0, 0, 0, 0, 0]), center, scale)
    assert np.isfinite(d) and 10.0 / np.sqrt(6) <= d < C.Z_CLIP  # the constant dimension counts Z_CLIP, not 1e6
    # every dimension constant: still finite
    center, scale = C.robust_reference(np.zeros((10, 3)))
    assert np.isfinite(C.feature_distance(np.ones(3), center, scale))


def test_feature_check_is_a_warning_and_the_jump_check_decides():
    ood = {"thresholds": {"feature_distance": 2.0, "stage_doubt": 0.1}, "val_scores": {"feature_distance": [1.0] * 5}}
    fc = C.feature_check(3.0, ood)
    assert fc == {"unlike_training": True, "distance": 3.0, "threshold": 2.0, "margin": -1.0}
    assert C.feature_check(1.5, ood)["margin"] == 0.5 and C.feature_check(None, ood) is None
    far = {"feature_distance": 9.0, "stage_doubt": 0.9, "track_fraction": 0.9}
    jump = {"is_jump": True, "failed": [], "tests": {}}
    assert C.ood_check(far, ood, jump) == (True, [])  # features far, structure fine: in distribution
    flat = {"is_jump": False, "failed": ["somersault"], "tests": {"somersault": {"value": 0.0, "threshold": 116.0,
            "unit": "degrees", "margin": -1.0}}}  # fmt: skip
    ok, why = C.ood_check({"track_fraction": 0.9}, ood, flat)
    assert not ok and "somersault 0 degrees is below 116 (margin -1.00)" in why[0]
    assert C.jump_check(None, None) is None


def test_threshold_falls_back_to_the_largest_score_for_small_sets():
    assert C._threshold([0.1, 0.3, 0.2], 0.01) == 0.3
    assert C._threshold([], 0.01) is None
    assert interval_of(50.0, {"intervals": {"final_score": {"q": 10.0}}}, "final_score") == [40.0, 60.0]
    assert interval_of(5.0, {"intervals": {"final_score": {"q": 10.0}}}, "final_score") == [0.0, 15.0]
    assert interval_of(5.0, {"intervals": {"final_score": {"q": None}}}, "final_score") is None
