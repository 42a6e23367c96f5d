"""Split-conformal intervals and outlier thresholds: exact order statistics, the coverage guarantee, edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from judgemind.evaluate.conformal import (
    calibrate_abs,
    conformal_quantile,
    conformal_rank,
    coverage,
    interval,
    outlier_threshold,
)


@pytest.mark.parametrize(
    "n, alpha, rank",
    [(9, 0.1, 9), (10, 0.1, 10), (19, 0.1, 18), (45, 0.1, 42), (99, 0.01, 99), (8, 0.1, 9), (300, 0.1, 271)],
)
def test_rank(n, alpha, rank):
    assert conformal_rank(n, alpha) == rank


def test_quantile_is_an_order_statistic_and_inf_when_too_few():
    s = [5.0, 1.0, 3.0, 2.0, 4.0, 9.0, 7.0, 8.0, 6.0, 10.0]
    assert conformal_quantile(s, 0.1) == 10.0  # rank ceil(11 * 0.9) = 10
    assert conformal_quantile(s, 0.2) == 9.0  # rank ceil(11 * 0.8) = 9
    assert conformal_quantile(s[:5], 0.1) == math.inf  # rank 6 > 5 videos: no guarantee possible
    assert conformal_quantile([1.0, float("nan"), 2.0], 0.5) == 2.0  # NaN ignored: n = 2, rank 2
    with pytest.raises(ValueError):
        conformal_rank(10, 1.5)


def test_calibrate_interval_and_clipping():
    cal = calibrate_abs([1.0, 2.0, 3.0], [1.5, 2.0, 5.0], alpha=0.25)  # residuals .5, 0, 2 -> rank 3 -> 2.0
    assert cal == {"q": 2.0, "n": 3, "alpha": 0.25}
    assert interval(1.0, 2.0, lo=0.0) == (0.0, 3.0)
    assert interval(4.5, 1.0, 0.0, 5.0) == (3.5, 5.0)
    c = coverage([1.0, 2.0, 3.0], [0.0, 2.5, 9.0], 1.0, lo=0.0)
    assert c["coverage"] == pytest.approx(2 / 3) and c["width"] == pytest.approx(2.0)
    assert coverage([0.5], [0.0], 1.0, lo=0.0)["width"] == pytest.approx(1.5)  # [-0.5, 1.5] clipped at 0


def test_coverage_guarantee_holds_on_exchangeable_data():
    """Many random splits: mean coverage within [1 - alpha, 1 - alpha + 1/(n+1)] (up to Monte-Carlo error)."""
    rng = np.random.default_rng(0)
    covs = []
    for _ in range(400):
        y = rng.normal(size=60)
        pred = y + rng.standard_t(3, size=60)
        cal = calibrate_abs(pred[:30], y[:30], 0.1)
        covs.append(coverage(pred[30:], y[30:], cal["q"])["coverage"])
    assert 0.88 <= float(np.mean(covs)) <= 0.95


def test_outlier_threshold_flags_at_most_alpha():
    rng = np.random.default_rng(1)
    th = outlier_threshold(rng.normal(size=999), 0.01)
    flagged = float((rng.normal(size=20000) > th).mean())
    assert flagged <= 0.015
