"""Split-conformal prediction intervals and conformal outlier thresholds (torch-free, pure numpy).

Split conformal (Vovk et al. 2005; Lei et al. 2018): with calibration residuals ``r_i = |y_i - yhat_i|`` of
``n`` videos the model never trained on (the validation split), the interval ``yhat +- q`` with ``q`` the
``ceil((n + 1)(1 - alpha))``-th smallest residual covers a new exchangeable video's truth with probability at
least ``1 - alpha`` (and at most ``1 - alpha + 1/(n + 1)`` when residuals have no ties). When
``ceil((n + 1)(1 - alpha)) > n`` the calibration set is too small for the guarantee and ``q`` is infinite.

**Normalised (locally weighted) split conformal** (Lei et al. 2018, sec. 5.2; Papadopoulos et al. 2008): with a
difficulty ``sigma(x) > 0`` fitted on data that is neither the calibration set nor the test set, the scores
``|y_i - yhat_i| / sigma(x_i)`` of the calibration videos give ``q`` as above, and ``yhat +- q x sigma(x)`` has the
same guarantee -- any fixed function of x keeps the exchangeability -- while each interval follows its video's
difficulty. :func:`choose_difficulty` fits ``sigma`` as a ridge regression of the absolute residual on named
signals of a fitting set (``abs``: sigma = max(floor, b + w.z); ``log``: sigma = max(floor, exp(b + w.z)) fitted
to log(|r| + a small offset)), raised to a power 0.5 or 1, and chooses the signals, the ridge penalty, the form,
the floor and the power by repeated k-fold cross-validation on that set: the candidate whose out-of-fold
normalised intervals are narrowest relative to the constant ones (the constant width is kept when no signal
narrows them by 3 % or more).

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


# -- normalised split conformal ---------------------------------------------------------------------------------

LAMBDAS = (0.01, 0.1, 1.0)  # ridge penalty per row, on standardised signals
FORMS = ("abs", "log")
FLOOR_SHARES = (0.1, 0.3)  # sigma >= share x the median absolute residual of the fitting set: never a zero width
MIN_FIT = 30  # fewer fitting rows: the constant width
POWERS = (0.5, 1.0)  # sigma^power: 0.5 adapts half-way (in logs) when a difficulty is only partly right
CV_ALPHAS = (0.05, 0.1, 0.15, 0.2)
CV_REPEATS = 2
MIN_GAIN = 0.03  # a signal group is added only when it narrows the cross-validated intervals by 3 % or more


def fit_difficulty(X, resid, lam: float = 0.1, form: str = "abs", floor_share: float = 0.1) -> dict:
    """Ridge fit of a difficulty ``sigma(x)`` to absolute residuals. X: (n, p) signals; resid: (n,) |y - yhat|.
    Returns the JSON-ready model: ``form``, ``mean``/``std`` (standardisation), ``coef``, ``intercept``,
    ``floor`` (sigma's lower bound, > 0), ``lambda``."""
    X, r = np.asarray(X, np.float64), np.abs(np.asarray(resid, np.float64))
    if X.ndim != 2 or len(X) != len(r) or not len(r):
        raise ValueError(f"signals {X.shape} and residuals {r.shape} do not match")
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    mean, std = X.mean(0), X.std(0)
    std = np.where(std > 1e-12, std, 1.0)  # a constant signal gets weight 0 (its z is 0 everywhere)
    Z = (X - mean) / std
    med = float(np.median(r))
    scale = med if med > 0 else float(r.mean()) if r.mean() > 0 else 1.0
    floor = max(floor_share * scale, 1e-9)
    y = np.log(r + floor) if form == "log" else r
    b = float(y.mean())
    w = np.linalg.solve(Z.T @ Z + lam * len(r) * np.eye(Z.shape[1]), Z.T @ (y - b))
    return {
        "form": form,
        "mean": mean.tolist(),
        "std": std.tolist(),
        "coef": w.tolist(),
        "intercept": b,
        "floor": floor,
        "lambda": float(lam),
    }


def difficulty(model: dict, X) -> np.ndarray:
    """(n,) sigma of the rows of X (n, p) under a :func:`fit_difficulty` model: max(floor, fit) ** power (power 1
    unless :func:`choose_difficulty` chose another); always > 0."""
    X = np.atleast_2d(np.asarray(X, np.float64))
    z = (X - np.asarray(model["mean"])) / np.asarray(model["std"]) @ np.asarray(model["coef"]) + model["intercept"]
    if model["form"] == "log":
        z = np.exp(np.minimum(z, 50.0))
    return np.maximum(np.nan_to_num(z, nan=np.inf), model["floor"]) ** float(model.get("power", 1.0))


def _cv_ratio(X, r, lam: float, form: str, share: float, foldsets: list[list[np.ndarray]]) -> dict[float, float]:
    """power -> the mean width of the out-of-fold normalised intervals relative to the constant ones, averaged over
    :data:`CV_ALPHAS` and over the fold sets (repeated k-fold cross-validation), for each of :data:`POWERS`."""
    const = {a: np.quantile(r, 1.0 - a) for a in CV_ALPHAS}
    out = {b: 0.0 for b in POWERS}
    for folds in foldsets:
        sig = np.empty(len(r))
        for f in folds:
            rest = np.setdiff1d(np.arange(len(r)), f)
            sig[f] = difficulty(fit_difficulty(X[rest], r[rest], lam, form, share), X[f])
        for b in POWERS:
            s = sig**b
            out[b] += np.mean([np.quantile(r / s, 1.0 - a) * s.mean() / max(const[a], 1e-12) for a in CV_ALPHAS])
    return {b: v / len(foldsets) for b, v in out.items()}


def choose_difficulty(
    signals: dict[str, np.ndarray],
    groups: dict[str, list[str]],
    resid,
    n_folds: int = 5,
    seed: int = 0,
) -> tuple[dict | None, dict]:
    """The difficulty model of a fitting set (val's select half), or None for the constant width.

    ``signals``: name -> (n,) values; ``groups``: group name -> signal names (e.g. ``level``: the predicted marks).
    Greedy forward selection over groups: each step adds the group (with the best penalty, form, floor and power of
    :data:`LAMBDAS` x :data:`FORMS` x :data:`FLOOR_SHARES` x :data:`POWERS`) whose out-of-fold normalised intervals
    are narrowest relative to the constant ones (:func:`_cv_ratio`: :data:`CV_REPEATS` x ``n_folds``-fold
    cross-validation, the width averaged over several levels so that it does not hang on a few tail videos), while
    it narrows them by at least :data:`MIN_GAIN`. Returns ``(model with its ``signals`` and ``groups``,
    report)``; the report holds the chosen cross-validated width ratio and the path of the selection."""
    r = np.abs(np.asarray(resid, np.float64))
    ok = np.isfinite(r)
    for g in groups.values():
        for n in g:
            ok &= np.isfinite(np.asarray(signals[n], np.float64))
    r = r[ok]
    report: dict = {
        "n": int(len(r)),
        "criterion": f"mean width of the out-of-fold normalised intervals / the constant ones at levels "
        f"{', '.join(f'{1 - a:.0%}' for a in CV_ALPHAS)} ({CV_REPEATS} x {n_folds}-fold)",
    }
    if len(r) < MIN_FIT or not r.mean() > 0:
        report["why_constant"] = f"{len(r)} fitting rows (need {MIN_FIT}) or no residual"
        return None, report
    rng = np.random.default_rng(seed)
    foldsets = [np.array_split(rng.permutation(len(r)), n_folds) for _ in range(CV_REPEATS)]
    cols = {n: np.asarray(v, np.float64)[ok] for n, v in signals.items()}
    report["steps"] = []
    chosen: list[str] = []
    best: tuple[float, tuple] = (1.0, ())
    while True:
        step = None
        for g in groups:
            if g in chosen:
                continue
            X = np.stack([cols[n] for h in (*chosen, g) for n in groups[h]], 1)
            for lam in LAMBDAS:
                for form in FORMS:
                    for share in FLOOR_SHARES:
                        for b, v in _cv_ratio(X, r, lam, form, share, foldsets).items():
                            if step is None or v < step[0]:
                                step = (v, (g, lam, form, share, b))
        if step is None or step[0] > best[0] - MIN_GAIN:
            break
        chosen.append(step[1][0])
        best = step
        report["steps"].append({"added": step[1][0], "cv_width_ratio": step[0]})
    report["cv_width_ratio"] = best[0]
    if not chosen:
        report["why_constant"] = f"no signal narrowed the cross-validated intervals by {MIN_GAIN:.0%} or more"
        return None, report
    _, lam, form, share, power = best[1]
    names = [n for g in chosen for n in groups[g]]
    model = fit_difficulty(np.stack([cols[n] for n in names], 1), r, lam, form, share)
    return {**model, "power": power, "signals": names, "groups": chosen}, report


def calibrate_scaled(pred, true, sigma, alpha: float = 0.1) -> dict:
    """:func:`calibrate_abs` of the normalised residuals ``|true - pred| / sigma``: ``q`` is in units of sigma
    (a video's half-width is ``q x sigma(x)``)."""
    p, t, s = (np.asarray(a, np.float64) for a in (pred, true, sigma))
    if not p.shape == t.shape == s.shape:
        raise ValueError(f"pred {p.shape}, true {t.shape} and sigma {s.shape} differ in shape")
    if (s[np.isfinite(s)] <= 0).any():
        raise ValueError("sigma must be positive")
    ok = np.isfinite(p) & np.isfinite(t) & np.isfinite(s)
    return {"q": conformal_quantile(np.abs(p[ok] - t[ok]) / s[ok], alpha), "n": int(ok.sum()), "alpha": float(alpha)}


def outlier_threshold(scores: Sequence[float], alpha: float = 0.01) -> float:
    """Upper threshold on a non-conformity score: in-distribution videos exceed it with probability <= alpha."""
    return conformal_quantile(scores, alpha)
