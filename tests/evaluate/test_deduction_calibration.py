"""Deduction calibration, thresholds, the sheet's listing rule and the deduction metrics
(judgemind.evaluate.deductions) on hand-made inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from judgemind.evaluate import deductions as D
from judgemind.rules import load_catalogue


def _overconfident(rng, n, k=3):
    """A head trained with positive weighting: the truth is sigmoid(z), the head says sigmoid(2 z + 1.5)."""
    z = rng.normal(-1.0, 1.5, size=(n, k))
    y = (rng.random((n, k)) < 1 / (1 + np.exp(-z))).astype(float)
    raw = 1 / (1 + np.exp(-(2.0 * z + 1.5)))
    return raw, y


def test_calibration_lowers_the_ece_of_an_overconfident_head_on_held_out_data():
    rng = np.random.default_rng(0)
    raw_c, y_c = _overconfident(rng, 400)
    raw_t, y_t = _overconfident(rng, 2000)
    params = D.calibrate_items(raw_c, y_c, ["flight"] * 3)
    assert all(p["fit"] == "item" for p in params)
    for p in params:  # the fit undoes the distortion: a ~ 1/2, b ~ -0.75
        assert 0.35 < p["a"] < 0.7 and -1.1 < p["b"] < -0.4
    before = D.expected_calibration_error(raw_t, y_t)
    after = D.expected_calibration_error(D.apply_calibration(raw_t, params), y_t)
    assert before > 0.12 and after < 0.04
    # monotone per item: the ranking (and so every AP) is unchanged
    cal = D.apply_calibration(raw_t, params)
    for k in range(3):
        assert (np.argsort(raw_t[:, k], kind="stable") == np.argsort(cal[:, k], kind="stable")).all()


def test_items_with_few_positives_borrow_the_stage_then_the_global_fit():
    rng = np.random.default_rng(1)
    raw, y = _overconfident(rng, 200, k=4)
    y[:, 1] = 0
    y[:3, 1] = 1  # 3 positives: too few for its own fit
    y[:, 3] = 0  # the only landing item, no positive; its stage pool has none either
    params = D.calibrate_items(raw, y, ["flight", "flight", "landing", "other"])
    assert [p["fit"] for p in params] == ["item", "stage", "item", "global"]
    assert params[1]["positives"] == 3
    none = D.calibrate_items(np.full((4, 2), 0.5), np.zeros((4, 2)), ["a", "b"])
    assert [(p["a"], p["b"], p["fit"]) for p in none] == [(1.0, 0.0, "none")] * 2


def test_fit_platt_stays_finite_on_separable_data():
    a, b = D.fit_platt([0.1, 0.2, 0.8, 0.9] * 3, [0, 0, 1, 1] * 3)
    assert math.isfinite(a) and math.isfinite(b) and a > 0


def test_thresholds_are_the_smallest_grid_point_with_the_target_precision():
    # item 0: at 0.5 two of four listed are right (0.5); at 0.6 two of three (0.67); at 0.7 two of two
    p0 = np.array([0.55, 0.65, 0.75, 0.9, 0.1, 0.2])
    y0 = np.array([0, 0, 1, 1, 0, 0])
    th = D.choose_thresholds(p0[:, None], y0[:, None], ["flight"], min_pos=2)
    assert th == [{"threshold": 0.7, "rule": "item"}]
    # never 70 % right: listed only at the top of the grid
    th = D.choose_thresholds(np.array([[0.99], [0.98], [0.97]]), np.array([[1], [0], [0]]), ["x"], min_pos=1)
    assert th == [{"threshold": 0.95, "rule": "item: target not reached"}]
    # too few positives of its own: the stage's pooled rows choose
    p = np.array([[0.6, 0.6], [0.6, 0.2], [0.9, 0.1], [0.9, 0.1]])
    y = np.array([[1, 0], [1, 0], [1, 0], [1, 0]])
    th = D.choose_thresholds(p, y, ["s", "s"], min_pos=2)
    assert th[1] == {"threshold": 0.5, "rule": "stage"} and th[0]["rule"] == "item"
    # nothing anywhere: the floor
    assert D.choose_thresholds(np.zeros((3, 1)), np.zeros((3, 1)), ["s"])[0] == {"threshold": 0.5, "rule": "floor"}


def test_exclusive_items_are_never_both_listed():
    cat = load_catalogue()
    groups = [it.exclusive_group for it in cat]
    assert cat.get("short_flight").exclusive_group == cat.get("long_flight").exclusive_group == "flight length"
    rng = np.random.default_rng(2)
    p = rng.random((500, len(cat)))
    m = D.listed(p, [0.3] * len(cat), groups)
    for g in {g for g in groups if g}:
        cols = [k for k, x in enumerate(groups) if x == g]
        assert m[:, cols].sum(1).max() == 1
        assert (m[:, cols].any(1) == (p[:, cols].max(1) >= 0.3)).all()  # the most probable member stays
    one = D.listed(np.array([0.8, 0.7, 0.2]), [0.5, 0.5, 0.5], ["g", "g", None])
    assert one.tolist() == [True, False, False]
    # the group's best is below its own threshold: nothing of the group is listed
    assert D.listed(np.array([0.8, 0.7]), [0.9, 0.5], ["g", "g"]).tolist() == [False, False]


def test_listing_metrics_exact():
    stages = ["takeoff", "flight", "flight"]
    labels = np.array([[0, 1, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1]])
    listed = np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0], [0, 0, 0]])
    m = D.listing_metrics(listed, labels, stages)
    # listed 4, right 2 (row 0 item 1, row 2 item 0); positives 3 of which 2 found
    assert m["precision"] == 2 / 4 and m["recall"] == 2 / 3 and m["listed"] == 4 and m["positives"] == 3
    # clean (jump, stage): takeoff of rows 0, 1, 3 (listed 0, 1, 0); flight of rows 1, 2 (listed 0, 0)
    assert m["clean_stages"] == 5 and m["clean_items"] == 1 / 5
    empty = D.listing_metrics(np.zeros((2, 1)), np.zeros((2, 1)), ["s"])
    assert math.isnan(empty["precision"]) and math.isnan(empty["recall"]) and empty["clean_items"] == 0.0


def test_ece_exact():
    # bin [0.1, 0.2): p 0.1, 0.1 vs y 0, 1 -> |0.1 - 0.5| = 0.4, weight 2/4; bin [0.9, 1]: p 0.9, 1.0 vs 1, 1
    # -> |0.95 - 1| = 0.05, weight 2/4
    assert D.expected_calibration_error([0.1, 0.1, 0.9, 1.0], [0, 1, 1, 1]) == pytest.approx(0.225)
    assert D.expected_calibration_error([[0.0, 1.0]], [[0, 1]]) == 0.0


def test_deduction_report_has_every_metric():
    p = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.3]])
    y = np.array([[1, 0], [0, 1], [0, 0]])
    rep = D.deduction_report(p, y, ["a", "b"], ["flight", "landing"], [0.5, 0.5])
    assert rep["map"] == 1.0 and rep["per_class"] == {"a": 1.0, "b": 1.0}
    assert rep["precision"] == 2 / 3 and rep["recall"] == 1.0
    assert rep["clean_items"] == pytest.approx(1 / 4) and rep["clean_stages"] == 4
    assert rep["ece"] == pytest.approx((0.1 + 0.1 + 0.2 + 0.2 + 0.6 + 0.3) / 6)


def test_rows_that_never_reach_the_floor_pass_the_choice_on():
    # item 0 has 5 positives but no probability reaches 0.5: its stage's pooled rows choose; item 1's own rows list
    # 10 at 0.55 (all right)
    p = np.array([[0.3, 0.6]] * 5 + [[0.2, 0.7]] * 5 + [[0.1, 0.45]] * 2)
    y = np.array([[1, 1]] * 5 + [[0, 1]] * 5 + [[0, 0]] * 2)
    th = D.choose_thresholds(p, y, ["s", "s"])
    assert th[1] == {"threshold": 0.5, "rule": "item"}
    # pooled: the rows >= 0.5 are item 1's ten, all right
    assert th[0] == {"threshold": 0.5, "rule": "stage"}
    # nothing reaches 0.5 anywhere: the floor, not the top of the grid
    th = D.choose_thresholds(np.full((12, 1), 0.3), np.array([[1]] * 6 + [[0]] * 6), ["s"])
    assert th == [{"threshold": 0.5, "rule": "floor"}]


def test_a_fit_that_would_reverse_the_ranking_borrows_the_pooled_fit():
    # item 0's raw output is high on clean jumps (a broken head): its own fit has a < 0 -> the stage's pooled fit
    rng = np.random.default_rng(3)
    raw, y = _overconfident(rng, 300, k=3)
    y[:, 0] = (raw[:, 0] < 0.3).astype(float)
    params = D.calibrate_items(raw, y, ["s", "s", "s"])
    assert params[0]["fit"] == "stage" and params[0]["a"] > 0
    assert [p["fit"] for p in params[1:]] == ["item", "item"]


def test_saturated_separable_outputs_keep_a_finite_slope():
    raw = np.r_[np.full(6, 1 - 1e-7), np.full(144, 1e-7)]
    a, b = D.fit_platt(raw, raw > 0.5)
    assert 0 < a < 1e3 and math.isfinite(b)
