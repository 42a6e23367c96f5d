"""Split-conformal prediction intervals and conformal outlier thresholds (torch-free, pure numpy).

Split conformal (Vovk et al. 2005; Lei et al. 2018): with calibration residuals ``r_i = |y_i - yhat_i|`` of
``n`` videos the model never trained on (the validation split), the interval ``yhat +- q`` with ``q`` the
``ceil((n + 1)(1 - alpha))``-th smallest residual covers a new exchangeable video's truth with probability at
least ``1 - alpha`` (and at most ``1 - alpha + 1/(n + 1)`` when residuals have no ties). When
``ceil((n + 1)(1 - alpha)) > n`` the calibration set is too small for the guarantee and ``q`` is infinite.

The same order statistic gives a conformal outlier threshold: a video whose non-conformity score exceeds the
``ceil((n + 1)(1 - alpha))``-th smallest of the calibration scores has a conformal p-value below ``alpha``;
in-distribution videos are flagged with probability at most ``alpha``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def conformal_rank(n: int, alpha: float) -> int:
    """1-based rank of the calibration score that is the conformal quantile (may exceed ``n``)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    return int(math.ceil((n + 1) * (1.0 - alpha) - 1e-9))


def conformal_quantile(scores: Sequence[float], alpha: float) -> float:
    """The split-conformal quantile of non-conformity ``scores`` (NaNs ignored); ``inf`` when there are too few."""
    s = np.sort(np.asarray(scores, np.float64)[np.isfinite(np.asarray(scores, np.float64))])
    k = conformal_rank(len(s), alpha)
    return float(s[k - 1]) if 1 <= k <= len(s) else math.inf


def calibrate_abs(pred: Sequence[float], true: Sequence[float], alpha: float = 0.1) -> dict:
    """Half-width of a symmetric ``1 - alpha`` interval from calibration predictions and truths.

    Returns ``{"q": half-width, "n": calibration videos used, "alpha": alpha}``; pairs with a NaN are skipped."""
    p, t = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    if p.shape != t.shape:
        raise ValueError(f"pred {p.shape} and true {t.shape} differ in shape")
    ok = np.isfinite(p) & np.isfinite(t)
    return {"q": conformal_quantile(np.abs(p[ok] - t[ok]), alpha), "n": int(ok.sum()), "alpha": float(alpha)}


def interval(pred: float, q: float, lo: float | None = None, hi: float | None = None) -> tuple[float, float]:
    """``[pred - q, pred + q]`` clipped to the value's range ``[lo, hi]`` (clipping keeps the coverage)."""
    a, b = pred - q, pred + q
    if lo is not None:
        a = max(a, lo)
    if hi is not None:
        b = min(b, hi)
    return float(a), float(b)


def coverage(pred: Sequence[float], true: Sequence[float], q, lo=None, hi=None) -> dict:
    """Empirical coverage and mean width of the intervals ``pred +- q`` (clipped to ``[lo, hi]``) on a split.
    ``q``, ``lo`` and ``hi`` are numbers or one per video (e.g. a half-width scaled by each jump's DD)."""
    p, t = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    ok = np.isfinite(p) & np.isfinite(t)
    qa = np.broadcast_to(np.asarray(q, np.float64), p.shape)
    if not ok.any() or not np.isfinite(qa).all():
        return {"coverage": math.nan, "width": math.nan, "n": int(ok.sum())}
    a, b = p[ok] - qa[ok], p[ok] + qa[ok]
    if lo is not None:
        a = np.maximum(a, np.broadcast_to(np.asarray(lo, np.float64), p.shape)[ok])
    if hi is not None:
        b = np.minimum(b, np.broadcast_to(np.asarray(hi, np.float64), p.shape)[ok])
    inside = (t[ok] >= a - 1e-9) & (t[ok] <= b + 1e-9)
    return {"coverage": float(inside.mean()), "width": float((b - a).mean()), "n": int(ok.sum())}


def outlier_threshold(scores: Sequence[float], alpha: float = 0.01) -> float:
    """Upper threshold on a non-conformity score: in-distribution videos exceed it with probability <= alpha."""
    return conformal_quantile(scores, alpha)
