"""Deduction probabilities that mean what they say: per-item calibration, reporting thresholds, the listing rule of
the judge sheet, and the metrics of the listed items (torch-free, pure numpy).

The deduction head is trained with positive weighting (rare items count up to ``pos_weight_max`` times), so its
sigmoid outputs over-state every item. Here each item's output is re-mapped on data that chose nothing (val's
calib half, ``judgemind.runs.calibrate``):

* :func:`fit_platt`: Platt scaling, ``p = sigmoid(a * logit(raw) + b)`` fitted by Newton steps on the log-loss
  with Platt's smoothed targets (``(P + 1) / (P + 2)`` and ``1 / (N + 2)``: a separable calibration set never
  sends ``a`` to infinity). Monotone in the raw output, so every item keeps its ranking (its AP is unchanged).
* :func:`calibrate_items`: one fit per item with at least ``min_pos`` positives and ``min_pos`` negatives on the
  calibration set (and a positive slope); an item with fewer (or whose fit would reverse its ranking) borrows the
  fit of its stage's items pooled, else of all items pooled.
* :func:`choose_thresholds`: per item, the smallest threshold of ``THRESHOLD_GRID`` (0.50 .. 0.95) at which the
  calibration set's listed rows of that item are at least ``PRECISION_TARGET`` (70 %) right -- the highest recall at
  the precision the sheet promises. The grid starts at 0.5: a listed item is more likely present than absent
  (with calibrated probabilities the precision of a listing is about the mean probability of its items, so the
  floor alone keeps it above 50 %). An item whose listings never reach the target is listed only at the top of the
  grid; one with too few positives (or whose rows never reach 0.5) takes its stage's pooled threshold, else the
  pooled one of all items, else 0.5.
* :func:`listed`: the sheet's rule. An item is listed when its calibrated probability reaches its threshold; of an
  exclusive group (``exclusive_group`` in the catalogue: short / long flight, ...) only the most probable member can
  be listed.
* :func:`listing_metrics`, :func:`expected_calibration_error`, :func:`deduction_report`: precision and recall of
  the listed items, ECE over all (jump, item) pairs, and the mean number of items listed in a stage where the panel
  took nothing ("items listed per clean stage").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from judgemind.errors import JudgemindError
from judgemind.evaluate.metrics import deduction_map

__all__ = [
    "ECE_BINS",
    "MIN_POSITIVES",
    "PRECISION_TARGET",
    "THRESHOLD_GRID",
    "apply_calibration",
    "calibrate_items",
    "choose_thresholds",
    "deduction_report",
    "expected_calibration_error",
    "fit_platt",
    "listed",
    "listing_metrics",
]

PRIOR_WEIGHT = 2.0  # the identity map's weight in a Platt fit, in videos
MIN_POSITIVES = 5  # an item's own fit / threshold needs this many positives (and negatives) on the calib half
PRECISION_TARGET = 0.7  # a threshold lists an item where at least this share of the calib half's listings is right
THRESHOLD_GRID = tuple(round(0.5 + 0.05 * k, 2) for k in range(10))  # 0.50, 0.55, ..., 0.95
ECE_BINS = 10
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), _EPS, 1.0 - _EPS)
    return np.log(p) - np.log1p(-p)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, np.float64)))


def _check(probs: Any, labels: Any, func: str) -> tuple[np.ndarray, np.ndarray]:
    p, y = np.asarray(probs, np.float64), np.asarray(labels, np.float64)
    if p.ndim != 2 or p.shape != y.shape:
        raise JudgemindError(f"{func}: probs {p.shape} and labels {y.shape} must have the same (N, K) shape")
    if not np.isfinite(p).all() or ((p < 0) | (p > 1)).any():
        raise JudgemindError(f"{func}: probs must be finite probabilities in [0, 1]")
    if ((y != 0) & (y != 1)).any():
        raise JudgemindError(f"{func}: labels must be 0/1")
    return p, y


def fit_platt(raw: Any, labels: Any, iters: int = 100, prior_weight: float = PRIOR_WEIGHT) -> tuple[float, float]:
    """``(a, b)`` of ``sigmoid(a * logit(raw) + b)`` fitted to ``labels`` (both ``(N,)``) by Newton's method on the
    log-loss with Platt's smoothed targets and a Gaussian prior at the identity ``(1, 0)`` worth ``prior_weight``
    videos (a few saturated outputs with nearly separable labels otherwise give slopes of thousands or below 0)."""
    z = _logit(np.asarray(raw, np.float64).reshape(-1))
    y = np.asarray(labels, np.float64).reshape(-1)
    n_pos, n_neg = float(y.sum()), float(len(y) - y.sum())
    t = np.where(y > 0.5, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    X = np.stack([z, np.ones_like(z)], 1)
    w = np.array([1.0, 0.0])
    prior = np.array([1.0, 0.0])
    n = max(len(z), 1)
    ridge = prior_weight / n

    def loss(v: np.ndarray) -> float:
        x = X @ v
        return float(np.mean(t * np.logaddexp(0.0, -x) + (1 - t) * np.logaddexp(0.0, x))) + 0.5 * ridge * float(
            np.sum((v - prior) ** 2)
        )

    f = loss(w)
    for _ in range(iters):
        p = _sigmoid(X @ w)
        grad = X.T @ (p - t) / n + ridge * (w - prior)
        H = (X * (p * (1 - p))[:, None]).T @ X / n + ridge * np.eye(2)
        step = np.linalg.solve(H, grad)
        # backtracking: saturated outputs make the Hessian tiny and a full Newton step overshoot (Platt 1999 /
        # Lin et al. 2007 do the same)
        scale = 1.0
        while scale > 1e-8 and loss(w - scale * step) > f + 1e-4 * scale * float(grad @ -step):
            scale *= 0.5
        w = w - scale * step
        f_new = loss(w)
        if abs(f - f_new) < 1e-12 or np.abs(scale * step).max() < 1e-10:
            break
        f = f_new
    return float(w[0]), float(w[1])


def _enough(y: np.ndarray, min_pos: int) -> bool:
    return int(y.sum()) >= min_pos and int((1 - y).sum()) >= min_pos


def calibrate_items(
    probs: Any, labels: Any, stages: Sequence[str], min_pos: int = MIN_POSITIVES
) -> list[dict[str, Any]]:
    """Per item (columns of ``probs``/``labels``, ``(N, K)``; ``stages``: the stage of each item) its Platt fit
    ``{"a", "b", "fit": "item" | "stage" | "global" | "none", "positives"}`` (see the module docstring)."""
    p, y = _check(probs, labels, "calibrate_items")
    st = np.asarray(list(stages))
    if len(st) != p.shape[1]:
        raise JudgemindError(f"calibrate_items: {len(st)} stages for {p.shape[1]} items")
    pooled: dict[str, tuple[float, float] | None] = {}

    def monotone(pp: np.ndarray, yy: np.ndarray) -> tuple[float, float] | None:
        # a fit whose slope is not positive would reverse the item's ranking: the pooled fit serves instead
        if not _enough(yy, min_pos):
            return None
        a, b = fit_platt(pp, yy)
        return (a, b) if a > 0 else None

    def pool(key: str, cols: np.ndarray) -> tuple[float, float] | None:
        if key not in pooled:
            pooled[key] = monotone(p[:, cols].reshape(-1), y[:, cols].reshape(-1))
        return pooled[key]

    out = []
    for k in range(p.shape[1]):
        fit, ab = "item", monotone(p[:, k], y[:, k])
        if ab is None:
            fit, ab = "stage", pool(f"stage:{st[k]}", np.flatnonzero(st == st[k]))
        if ab is None:
            fit, ab = "global", pool("global", np.arange(p.shape[1]))
        if ab is None:
            fit, ab = "none", (1.0, 0.0)
        out.append({"a": round(ab[0], 6), "b": round(ab[1], 6), "fit": fit, "positives": int(y[:, k].sum())})
    return out


def apply_calibration(probs: Any, params: Sequence[dict]) -> np.ndarray:
    """Calibrated probabilities ``(N, K)`` (or ``(K,)``) of raw ``probs`` with one ``{"a", "b"}`` per item."""
    p = np.asarray(probs, np.float64)
    if p.shape[-1] != len(params):
        raise JudgemindError(f"apply_calibration: {p.shape[-1]} items but {len(params)} calibration entries")
    a = np.array([float(c["a"]) for c in params])
    b = np.array([float(c["b"]) for c in params])
    return _sigmoid(a * _logit(p) + b)


def _precision_threshold(p: np.ndarray, y: np.ndarray, target: float) -> float | None:
    """The smallest grid threshold whose listings (``p >= t``, at least one) are ``target`` right; ``inf`` when some
    are listed but never that right; None when no row reaches the grid (no evidence either way)."""
    listed_any = False
    for t in THRESHOLD_GRID:
        sel = p >= t
        listed_any |= bool(sel.any())
        if sel.any() and y[sel].mean() >= target:
            return float(t)
    return math.inf if listed_any else None


def choose_thresholds(
    probs: Any,
    labels: Any,
    stages: Sequence[str],
    target: float = PRECISION_TARGET,
    min_pos: int = MIN_POSITIVES,
) -> list[dict[str, Any]]:
    """Per item its reporting threshold on calibrated ``probs`` ``(N, K)``: ``{"threshold", "rule"}`` with rule
    ``item`` / ``stage`` / ``global`` (whose rows chose it: the item's own with ``min_pos`` positives, else its
    stage's pooled, else all items pooled), ``<rule>: target not reached`` (those rows' listings are never
    ``target`` right: the top of the grid) or ``floor`` (0.5: too few positives anywhere, or no row of any level
    reaches 0.5 -- no evidence against the floor). Rows none of which reach 0.5 pass the choice to the next level."""
    p, y = _check(probs, labels, "choose_thresholds")
    st = np.asarray(list(stages))
    top = THRESHOLD_GRID[-1]
    pooled: dict[str, dict | None] = {}

    def choose(pp: np.ndarray, yy: np.ndarray, rule: str) -> dict | None:
        if int(yy.sum()) < min_pos:
            return None
        t = _precision_threshold(pp, yy, target)
        if t is None:  # no row reaches 0.5: nothing learnt here about where to list; the pooled rows choose
            return None
        return (
            {"threshold": top, "rule": f"{rule}: target not reached"}
            if math.isinf(t)
            else {"threshold": t, "rule": rule}
        )

    def pool(key: str, cols: np.ndarray) -> dict | None:
        if key not in pooled:
            pooled[key] = choose(p[:, cols].reshape(-1), y[:, cols].reshape(-1), key.split(":")[0])
        return pooled[key]

    out = []
    for k in range(p.shape[1]):
        got = (
            choose(p[:, k], y[:, k], "item")
            or pool(f"stage:{st[k]}", np.flatnonzero(st == st[k]))
            or pool("global", np.arange(p.shape[1]))
        )
        out.append(dict(got) if got is not None else {"threshold": THRESHOLD_GRID[0], "rule": "floor"})
    return out


def listed(probs: Any, thresholds: Sequence[float], groups: Sequence[str | None] | None = None) -> np.ndarray:
    """Which items the sheet lists: ``probs`` ``(N, K)`` or ``(K,)`` calibrated, ``thresholds`` ``(K,)``,
    ``groups`` the exclusive group of each item (None: none). Returns a bool array of ``probs``' shape: an item
    at or above its threshold, and of a group only its most probable member (the first on ties)."""
    p = np.asarray(probs, np.float64)
    one = p.ndim == 1
    p = np.atleast_2d(p)
    th = np.asarray(thresholds, np.float64)
    if th.shape != (p.shape[1],):
        raise JudgemindError(f"listed: {th.shape} thresholds for {p.shape[1]} items")
    out = p >= th
    for g in {g for g in (groups or ()) if g}:
        cols = np.array([k for k, x in enumerate(groups) if x == g])
        best = cols[np.argmax(p[:, cols], axis=1)]
        keep = np.zeros_like(out)
        keep[np.arange(len(p)), best] = True
        out[:, cols] &= keep[:, cols]
    return out[0] if one else out


def listing_metrics(listed_mask: Any, labels: Any, stages: Sequence[str]) -> dict[str, float | int]:
    """Precision and recall of the listed items (``listed_mask``, ``labels``: ``(N, K)`` 0/1) over all (jump, item)
    pairs, and ``clean_items``: over every (jump, stage) in which the panel took nothing (no positive label of
    that stage's items), the mean number of that stage's items listed (``clean_stages`` such pairs). A ratio with
    nothing to count (no listed item, no positive, no clean stage) is ``nan``."""
    m = np.asarray(listed_mask, bool)
    y = np.asarray(labels, np.float64) > 0.5
    if m.shape != y.shape or m.ndim != 2:
        raise JudgemindError(f"listing_metrics: listed {m.shape} and labels {y.shape} must have the same (N, K) shape")
    st = np.asarray(list(stages))
    tp, n_listed, n_true = int((m & y).sum()), int(m.sum()), int(y.sum())
    counts, clean = 0, 0
    for s in dict.fromkeys(st.tolist()):
        cols = st == s
        free = ~y[:, cols].any(1)
        clean += int(free.sum())
        counts += int(m[free][:, cols].sum())
    return {
        "precision": tp / n_listed if n_listed else math.nan,
        "recall": tp / n_true if n_true else math.nan,
        "listed": n_listed,
        "positives": n_true,
        "clean_items": counts / clean if clean else math.nan,
        "clean_stages": clean,
    }


def expected_calibration_error(probs: Any, labels: Any, bins: int = ECE_BINS) -> float:
    """ECE over all (jump, item) pairs: ``sum_b n_b / n * |mean p_b - mean y_b|`` over ``bins`` equal-width bins of
    [0, 1] (the last bin closed, so p = 1 counts in it)."""
    p, y = np.asarray(probs, np.float64).reshape(-1), np.asarray(labels, np.float64).reshape(-1)
    if p.shape != y.shape or p.size == 0:
        raise JudgemindError(f"expected_calibration_error: {p.size} probabilities for {y.size} labels")
    idx = np.minimum((p * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        sel = idx == b
        if sel.any():
            ece += sel.sum() / p.size * abs(p[sel].mean() - y[sel].mean())
    return float(ece)


def deduction_report(
    probs: Any,
    labels: Any,
    item_ids: Sequence[str],
    stages: Sequence[str],
    thresholds: Sequence[float],
    groups: Sequence[str | None] | None = None,
) -> dict[str, Any]:
    """Every deduction metric of one split from calibrated ``probs`` ``(N, K)`` (or raw ones with thresholds for
    them): mAP and per-item AP (:func:`judgemind.evaluate.metrics.deduction_map`), precision / recall / clean-stage
    count of the sheet's listing (:func:`listed`, :func:`listing_metrics`) and ECE."""
    p, y = _check(probs, labels, "deduction_report")
    rep: dict[str, Any] = dict(deduction_map(p, y, list(item_ids)))
    rep.update(listing_metrics(listed(p, thresholds, groups), y, stages))
    rep["ece"] = expected_calibration_error(p, y)
    return rep
