"""Unit tests for the score metrics, Fisher z, per-class/per-stage metrics, seed summaries and input checks."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import stats

from judgemind.errors import JudgemindError
from judgemind.evaluate import (
    ScoreReport,
    class_averaged_spearman,
    evaluate_scores,
    fisher_z_mean,
    l2,
    mae,
    per_class_spearman,
    per_stage_metrics,
    relative_l2,
    relative_l2_x100,
    spearman,
    summarize_seeds,
)


def test_spearman_matches_scipy():
    rng = np.random.default_rng(0)
    pred, true = rng.normal(size=50), rng.normal(size=50)
    assert spearman(pred, true) == pytest.approx(stats.spearmanr(pred, true)[0], abs=1e-15)
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)


@pytest.mark.parametrize("pred,true", [([1, 1, 1], [1, 2, 3]), ([1, 2, 3], [5, 5, 5]), ([2.0], [3.0])])
def test_spearman_of_constant_input_is_nan_without_warning(pred, true):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(spearman(pred, true))


def test_l2_mae_relative_l2_by_hand():
    pred, true = [1.0, 2.0, 3.0], [0.0, 2.0, 4.0]
    assert l2(pred, true) == pytest.approx(2 / 3)
    assert mae(pred, true) == pytest.approx(2 / 3)
    # range of true = 4: ((1/4)^2 + 0 + (1/4)^2) / 3
    assert relative_l2(pred, true) == pytest.approx(1 / 24)
    assert relative_l2_x100(pred, true) == pytest.approx(100 / 24)
    assert relative_l2(pred, true, scale=100.0) == pytest.approx(100 / 24)
    assert relative_l2(pred, true, value_range=(0, 10)) == pytest.approx(0.02 / 3)


def test_relative_l2_degenerate_range():
    assert math.isnan(relative_l2([1.0, 2.0], [3.0, 3.0]))
    for bad in [(5, 5), (10, 0), (0, float("inf")), (1,), "ab"]:
        with pytest.raises(JudgemindError, match="value_range"):
            relative_l2([1.0, 2.0], [0.0, 3.0], value_range=bad)


def test_evaluate_scores_and_score_report():
    pred, true = [1.0, 2.0, 3.0, 5.0], [0.0, 2.0, 4.0, 4.0]
    out = evaluate_scores(pred, true)
    assert set(out) == {"rho", "l2", "rl2_x100", "mae", "n"}
    assert out["n"] == 4
    assert out["l2"] == pytest.approx(l2(pred, true))
    assert out["rl2_x100"] == pytest.approx(100 * relative_l2(pred, true))
    assert out["rho"] == pytest.approx(spearman(pred, true))
    report = ScoreReport.compute(pred, true)
    assert report.as_dict() == out
    text = report.format()
    for label in ("rho", "L2", "R-l2 x100", "MAE", "n"):
        assert label in text


def test_torch_tensors_are_accepted():
    import torch  # a dependency of judgemind: missing, it is a failure, not a skip

    pred = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert l2(pred, torch.tensor([1.0, 2.0, 4.0])) == pytest.approx(1 / 3)
    assert spearman(pred, np.array([3.0, 2.0, 1.0])) == pytest.approx(-1.0)


def test_module_does_not_import_torch():
    code = "import sys, judgemind.evaluate; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# --- input validation ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("func", [spearman, l2, mae, relative_l2, evaluate_scores])
def test_length_mismatch_names_both_arguments(func):
    with pytest.raises(JudgemindError, match=r"'pred' has 3 values but 'true' has 2"):
        func([1.0, 2.0, 3.0], [1.0, 2.0])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_values_name_argument_and_index(bad):
    with pytest.raises(JudgemindError, match=r"l2: argument 'true' has 1 non-finite value\(s\) \(first at index 2"):
        l2([1.0, 2.0, 3.0], [1.0, 2.0, bad])


def test_empty_wrong_shape_and_dtype():
    with pytest.raises(JudgemindError, match="'pred' is empty"):
        spearman([], [])
    with pytest.raises(JudgemindError, match=r"'pred' has shape \(2, 2\)"):
        mae(np.ones((2, 2)), np.ones(4))
    with pytest.raises(JudgemindError, match="dtype"):
        l2(["a", "b"], [1.0, 2.0])


# --- Fisher z --------------------------------------------------------------------------------------------------


def test_fisher_z_mean_by_hand():
    assert fisher_z_mean([0.5]) == pytest.approx(0.5)
    assert fisher_z_mean([0.5, 0.5, 0.5]) == pytest.approx(0.5)
    assert fisher_z_mean([0.3, -0.3]) == pytest.approx(0.0, abs=1e-15)
    expected = math.tanh((math.atanh(0.9) + math.atanh(0.1)) / 2)
    assert fisher_z_mean([0.9, 0.1]) == pytest.approx(expected)
    assert fisher_z_mean((r for r in [0.9, 0.1])) == pytest.approx(expected)  # any iterable
    assert fisher_z_mean({"a": 0.9, "b": 0.1}) == pytest.approx(expected)  # a per-class dict
    weighted = math.tanh((3 * math.atanh(0.9) + 1 * math.atanh(0.1)) / 4)
    assert fisher_z_mean([0.9, 0.1], weights=[3, 1]) == pytest.approx(weighted)
    # Fisher averaging is not the arithmetic mean: it pulls towards the stronger correlation.
    assert fisher_z_mean([0.9, 0.1]) > 0.5


def test_fisher_z_mean_clips_perfect_correlations_and_skips_nan():
    top = fisher_z_mean([1.0, 1.0])
    assert math.isfinite(top) and 0.999999 < top <= 1.0
    assert math.isfinite(fisher_z_mean([1.0, -1.0]))
    assert fisher_z_mean([0.5, float("nan")]) == pytest.approx(0.5)
    assert math.isnan(fisher_z_mean([float("nan")]))


@pytest.mark.parametrize("rhos", [[1.5], [0.2, -1.01], [float("inf")]])
def test_fisher_z_mean_rejects_non_correlations(rhos):
    with pytest.raises(JudgemindError, match="not a correlation"):
        fisher_z_mean(rhos)


def test_fisher_z_mean_rejects_bad_inputs():
    with pytest.raises(JudgemindError, match="empty"):
        fisher_z_mean([])
    with pytest.raises(JudgemindError, match="weights"):
        fisher_z_mean([0.1, 0.2], weights=[1.0])
    with pytest.raises(JudgemindError, match="non-negative"):
        fisher_z_mean([0.1, 0.2], weights=[1.0, -1.0])


# --- per class / per stage -------------------------------------------------------------------------------------


def test_per_class_spearman_and_average():
    pred = [1, 2, 3, 3, 2, 1, 5, 6]
    true = [1, 2, 3, 1, 2, 3, 4, 4]
    classes = np.array(["b", "b", "b", "a", "a", "a", "c", "c"])
    per = per_class_spearman(pred, true, classes)
    assert list(per) == ["a", "b", "c"]
    assert all(isinstance(k, str) for k in per)
    assert per["a"] == pytest.approx(-1.0)
    assert per["b"] == pytest.approx(1.0)
    assert math.isnan(per["c"])  # constant ground truth within the class
    assert class_averaged_spearman(pred, true, classes) == pytest.approx(fisher_z_mean([per["a"], per["b"]]))

    ints = per_class_spearman([1, 2, 2, 1], [1, 2, 1, 2], np.array([7, 7, 3, 3]))
    assert list(ints) == [3, 7] and all(type(k) is int for k in ints)
    with pytest.raises(JudgemindError, match="'classes'"):
        per_class_spearman([1, 2], [1, 2], [0, 0, 1])


def test_per_stage_metrics():
    pred = {"air": [1.0, 1.5, 2.0], "form": [3.0, 4.0, 2.0]}
    true = {"air": [1.2, 1.4, 1.9], "form": [3.5, 4.5, 1.0]}
    out = per_stage_metrics(pred, true)
    assert list(out) == ["air", "form"]
    assert out["air"]["rho"] == pytest.approx(1.0)
    assert out["air"]["mae"] == pytest.approx((0.2 + 0.1 + 0.1) / 3)
    assert out["form"]["mae"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert out["form"]["n"] == 3
    with pytest.raises(JudgemindError, match="missing in pred: \\['form'\\]"):
        per_stage_metrics({"air": [1.0, 2.0]}, {"air": [1.0, 2.0], "form": [1.0, 2.0]})
    with pytest.raises(JudgemindError, match="pred\\['air'\\]"):
        per_stage_metrics({"air": [1.0, float("nan")]}, {"air": [1.0, 2.0]})


# --- seeds -----------------------------------------------------------------------------------------------------


def test_summarize_seeds():
    runs = [
        {"rho": 0.9, "l2": 30.0, "n": 10, "per_class": {"a": 0.1}, "name": "x"},
        {"rho": 0.8, "l2": 40.0, "n": 10, "per_class": {"a": 0.2}, "name": "y"},
    ]
    out = summarize_seeds(runs)
    assert set(out) == {"rho", "l2", "n"}
    assert out["rho"][0] == pytest.approx(0.85)
    assert out["rho"][1] == pytest.approx(math.sqrt(0.005))  # sample std, ddof=1
    assert out["l2"] == pytest.approx((35.0, math.sqrt(50.0)))
    assert out["n"] == (10.0, 0.0)
    mean, std = summarize_seeds(runs[:1])["rho"]
    assert mean == pytest.approx(0.9) and math.isnan(std)
    with pytest.raises(JudgemindError, match=r"results\[1\] lacks a numeric 'l2'"):
        summarize_seeds([{"l2": 1.0}, {"rho": 1.0}])
    with pytest.raises(JudgemindError, match="no results"):
        summarize_seeds([])
