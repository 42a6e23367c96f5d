"""Normalised (locally weighted) split conformal: the coverage guarantee on heteroscedastic exchangeable data,
narrower intervals where the noise is small, the choice of signals on the fitting set, and the edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from judgemind.evaluate.conformal import (
    calibrate_abs,
    calibrate_scaled,
    choose_difficulty,
    coverage,
    difficulty,
    fit_difficulty,
)


def _draw(rng, n):
    """x uniform on [0, 1]; the truth's noise grows 10-fold from x = 0 to x = 1; a second signal is pure noise."""
    x = rng.uniform(0, 1, n)
    y = np.sin(3 * x) + (0.2 + 1.8 * x) * rng.standard_normal(n)
    return {"x": x, "junk": rng.uniform(0, 1, n)}, y, np.sin(3 * x)


@pytest.mark.parametrize("form", ["abs", "log"])
def test_adaptive_interval_covers_on_exchangeable_data_and_is_narrower_where_noise_is_small(form):
    """Over many seeds: fit sigma on one set, q on a second, measure on a third. Mean coverage within
    [1 - alpha, 1 - alpha + 1/(n+1)] up to Monte-Carlo error; the interval is narrower than the constant one where
    x is small (little noise) and wider where it is large, and narrower on average."""
    rng = np.random.default_rng(0)
    covs, w_const, w_adapt, w_low, w_high = [], [], [], [], []
    for _ in range(300):
        (sf, ys, ps), (sc, yc, pc), (st, yt, pt) = (_draw(rng, n) for n in (100, 60, 200))
        model = fit_difficulty(sf["x"][:, None], ys - ps, lam=0.01, form=form)
        cal = calibrate_scaled(pc, yc, difficulty(model, sc["x"][:, None]), 0.1)
        hw = cal["q"] * difficulty(model, st["x"][:, None])
        covs.append(coverage(pt, yt, hw)["coverage"])
        q0 = calibrate_abs(pc, yc, 0.1)["q"]
        w_const.append(2 * q0)
        w_adapt.append(2 * hw.mean())
        w_low.append(2 * hw[st["x"] < 0.2].mean())
        w_high.append(2 * hw[st["x"] > 0.8].mean())
    assert 0.89 <= float(np.mean(covs)) <= 0.92  # 1 - alpha = 0.9, at most 0.9 + 1/61
    assert np.mean(w_low) < 0.5 * np.mean(w_const) < np.mean(w_high)
    assert np.mean(w_adapt) < 0.95 * np.mean(w_const)


def test_choose_difficulty_picks_the_informative_signal_and_keeps_the_constant_width_without_one():
    rng = np.random.default_rng(1)
    sig, y, p = _draw(rng, 300)
    model, report = choose_difficulty(sig, {"x": ["x"], "junk": ["junk"]}, y - p)
    assert model is not None and model["groups"] == ["x"] and model["signals"] == ["x"]
    assert report["cv_width_ratio"] < 0.95
    # homoscedastic: no signal narrows the cross-validated width -> None (the constant width)
    noise = rng.standard_normal(300)
    model, report = choose_difficulty({"junk": rng.uniform(size=300)}, {"junk": ["junk"]}, noise)
    assert model is None and "no signal" in report["why_constant"]
    # too few rows to fit
    model, report = choose_difficulty({"x": np.arange(10.0)}, {"x": ["x"]}, np.ones(10))
    assert model is None and "need 30" in report["why_constant"]


def test_difficulty_is_positive_and_finite_for_any_input():
    rng = np.random.default_rng(2)
    X, r = rng.uniform(size=(50, 2)), np.abs(rng.standard_normal(50))
    for form in ("abs", "log"):
        m = fit_difficulty(X, r, form=form)
        s = difficulty(m, np.array([[1e9, -1e9], [-1e9, 1e9], [np.nan, 0.0], [0.5, 0.5]]))
        assert (s >= m["floor"]).all() and m["floor"] > 0 and not np.isnan(s).any()
    # a constant signal gets no weight (no division by a zero spread)
    m = fit_difficulty(np.ones((20, 1)), np.arange(20.0))
    assert m["coef"] == [0.0] and np.allclose(difficulty(m, [[5.0]]), max(m["intercept"], m["floor"]))
    # all-zero residuals: still a positive floor
    assert fit_difficulty(X, np.zeros(50))["floor"] > 0


def test_calibrate_scaled_checks_its_inputs():
    assert calibrate_scaled([0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [1.0, 2.0, 1.0], 0.25)["q"] == 3.0  # scores 1, 1, 3
    with pytest.raises(ValueError, match="shape"):
        calibrate_scaled([0.0], [1.0, 2.0], [1.0], 0.1)
    with pytest.raises(ValueError, match="positive"):
        calibrate_scaled([0.0, 1.0], [1.0, 2.0], [1.0, 0.0], 0.1)
    with pytest.raises(ValueError, match="form"):
        fit_difficulty(np.ones((3, 1)), np.ones(3), form="cubic")
