"""Every metric the project reports, computed the way the AQA field computes it (numpy/scipy only).

Training, evaluation, benchmarks and reports all call these functions; nothing else in judgemind computes a
metric. Definitions follow the AQA methods' released runner code (``docs/bench.md``, "Metrics"):

* ``spearman``: one Spearman rank correlation over the whole evaluated set (``scipy.stats.spearmanr``).
* ``l2``: mean squared error in raw score units.
* ``relative_l2``: ``mean(((pred - true) / (max - min)) ** 2)`` with ``max``/``min`` of the *evaluated*
  ground truth (the test split, not the whole dataset). Papers and our reports print it **x100**
  (``relative_l2_x100`` / ``ScoreReport.rl2_x100``).
* ``fisher_z_mean``: average correlation over classes, ``tanh(mean(arctanh(rho_c)))``.
* ``aiou``: FineDiving's AIoU (tIoU) on *one* interval per sample (the code reduces the procedure to the flight
  interval [t1, t2)); ``stagewise_aiou`` is our multi-stage variant. Both return fractions; reports print x100.
* ``average_precision`` / ``deduction_map``: non-interpolated AP and its mean over deduction classes.

Inputs may be lists, numpy arrays or torch tensors (converted with ``np.asarray``; torch is never imported
here). Bad input -- empty arrays, mismatched lengths, NaN/Inf, wrong shapes -- raises
:class:`judgemind.errors.JudgemindError` naming the function, the argument and the first bad index.
Degenerate but valid input (a constant array for ``spearman``, a zero ground-truth range for ``relative_l2``, a
class without positives for ``average_precision``) gives ``nan`` silently, as documented per function.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from judgemind.errors import JudgemindError

__all__ = [
    "ScoreReport",
    "as_scores",
    "aiou",
    "average_precision",
    "boundary_mae",
    "class_averaged_spearman",
    "deduction_map",
    "evaluate_scores",
    "fisher_z_mean",
    "l2",
    "mae",
    "per_class_spearman",
    "per_stage_metrics",
    "relative_l2",
    "relative_l2_x100",
    "roc_auc",
    "segment_iou",
    "spearman",
    "stagewise_aiou",
    "summarize_seeds",
]

# |rho| is clipped to 1 - _FISHER_EPS before arctanh so that a perfect class correlation stays finite.
_FISHER_EPS = 1e-7


# ---------------------------------------------------------------------------------------------------------------
# input checks


def _to_numpy(x: Any) -> np.ndarray:
    # Torch tensors may live on a GPU or require grad; np.asarray alone would fail on those.
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _as_float_array(x: Any, name: str, func: str) -> np.ndarray:
    arr = _to_numpy(x)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise JudgemindError(f"{func}: argument '{name}' has dtype {arr.dtype}, expected numbers; pass a numeric array")
    if arr.size == 0:
        raise JudgemindError(f"{func}: argument '{name}' is empty; there is nothing to evaluate")
    arr = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = idx[0] if len(idx) == 1 else idx
        raise JudgemindError(
            f"{func}: argument '{name}' has {int(bad.sum())} non-finite value(s) (first at index {where}: "
            f"{arr[idx]}); remove or fix those samples before evaluating"
        )
    return arr


def as_scores(x: Any, name: str = "scores", func: str = "evaluate") -> np.ndarray:
    """Return ``x`` as a finite, non-empty 1-D float64 array ``(N,)``, or raise JudgemindError naming ``name``."""
    arr = _as_float_array(x, name, func)
    if arr.ndim != 1:
        raise JudgemindError(
            f"{func}: argument '{name}' has shape {arr.shape}, expected a 1-D array (N,); "
            f"flatten it with .reshape(-1) if it holds one score per sample"
        )
    return arr


def _pair(pred: Any, true: Any, func: str, names: tuple[str, str] = ("pred", "true")) -> tuple[np.ndarray, np.ndarray]:
    p = as_scores(pred, names[0], func)
    t = as_scores(true, names[1], func)
    if p.shape != t.shape:
        raise JudgemindError(
            f"{func}: '{names[0]}' has {p.shape[0]} values but '{names[1]}' has {t.shape[0]}; "
            f"they must hold one value per sample in the same order"
        )
    return p, t


def _is_constant(x: np.ndarray) -> bool:
    return bool(np.all(x == x[0]))


# ---------------------------------------------------------------------------------------------------------------
# score regression


def spearman(pred: Any, true: Any) -> float:
    """Spearman rank correlation of ``pred`` and ``true`` (both ``(N,)``), via ``scipy.stats.spearmanr``.

    Returns ``nan`` (without scipy's ConstantInputWarning) when either array is constant -- including ``N == 1``
    -- because a rank correlation is undefined there.
    """
    p, t = _pair(pred, true, "spearman")
    if _is_constant(p) or _is_constant(t):
        return float("nan")
    from scipy import stats  # noqa: PLC0415 -- here, not at import: scipy.stats costs ~1.3 s, and scoring a video needs no metric

    return float(stats.spearmanr(p, t)[0])


def l2(pred: Any, true: Any) -> float:
    """Mean squared error ``mean((pred - true) ** 2)`` in raw score units; ``pred``, ``true``: ``(N,)``."""
    p, t = _pair(pred, true, "l2")
    return float(np.mean((p - t) ** 2))


def mae(pred: Any, true: Any) -> float:
    """Mean absolute error ``mean(|pred - true|)`` in raw score units; ``pred``, ``true``: ``(N,)``."""
    p, t = _pair(pred, true, "mae")
    return float(np.mean(np.abs(p - t)))


def relative_l2(pred: Any, true: Any, value_range: tuple[float, float] | None = None, *, scale: float = 1.0) -> float:
    """Relative L2: ``scale * mean(((pred - true) / (hi - lo)) ** 2)``; ``pred``, ``true``: ``(N,)``.

    ``(lo, hi)`` defaults to ``(true.min(), true.max())`` of the evaluated array, as the AQA methods' released code
    does (docs/bench.md, "Metrics"; FineDiving test split: 0.0..104.4). Pass ``value_range`` to normalise by a fixed
    label range instead. Reports print the value x100: use ``scale=100`` or :func:`relative_l2_x100`.
    Returns ``nan`` when the default range is zero (constant ground truth).
    """
    p, t = _pair(pred, true, "relative_l2")
    if value_range is None:
        lo, hi = float(t.min()), float(t.max())
        if hi == lo:
            return float("nan")
    else:
        try:
            lo, hi = (float(v) for v in value_range)
        except (TypeError, ValueError) as exc:
            raise JudgemindError(f"relative_l2: value_range must be two numbers (lo, hi), got {value_range!r}") from exc
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise JudgemindError(f"relative_l2: value_range must satisfy lo < hi (finite), got ({lo}, {hi})")
    return float(scale * np.mean(((p - t) / (hi - lo)) ** 2))


def relative_l2_x100(pred: Any, true: Any, value_range: tuple[float, float] | None = None) -> float:
    """:func:`relative_l2` x 100, the number papers and our reports print as "R-l2"."""
    return relative_l2(pred, true, value_range, scale=100.0)


@dataclass(frozen=True)
class ScoreReport:
    """The headline score metrics of one evaluated set. ``rl2_x100`` is relative L2 already multiplied by 100."""

    rho: float
    l2: float
    rl2_x100: float
    mae: float
    n: int

    @classmethod
    def compute(cls, pred: Any, true: Any, value_range: tuple[float, float] | None = None) -> ScoreReport:
        """Evaluate ``pred`` against ``true`` (both ``(N,)``)."""
        p, t = _pair(pred, true, "evaluate_scores")
        return cls(
            rho=spearman(p, t),
            l2=l2(p, t),
            rl2_x100=relative_l2_x100(p, t, value_range),
            mae=mae(p, t),
            n=int(p.shape[0]),
        )

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def format(self) -> str:
        """Human-readable lines: rho, L2, R-l2 x100, MAE, n."""
        return "\n".join(
            [
                f"rho        {self.rho:.4f}",
                f"L2         {self.l2:.2f}",
                f"R-l2 x100  {self.rl2_x100:.4f}",
                f"MAE        {self.mae:.3f}",
                f"n          {self.n}",
            ]
        )


def evaluate_scores(pred: Any, true: Any, value_range: tuple[float, float] | None = None) -> dict[str, float | int]:
    """``{"rho", "l2", "rl2_x100", "mae", "n"}`` for ``pred`` vs ``true`` (both ``(N,)``); see :class:`ScoreReport`."""
    return ScoreReport.compute(pred, true, value_range).as_dict()


# ---------------------------------------------------------------------------------------------------------------
# per class / per stage


def _float_vector(x: Any, name: str) -> np.ndarray:
    # Accepts any iterable (a per-class dict means its values, generators) as well as arrays/tensors;
    # NaN/Inf are checked by callers.
    if isinstance(x, Mapping):
        x = list(x.values())
    elif not hasattr(x, "__array__") and not hasattr(x, "detach"):
        x = list(x)
    arr = _to_numpy(x)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise JudgemindError(f"fisher_z_mean: argument '{name}' has dtype {arr.dtype}, expected numbers")
    return arr.astype(np.float64).reshape(-1)


def fisher_z_mean(rhos: Iterable[float], weights: Iterable[float] | None = None) -> float:
    """Average correlation via Fisher's z: ``tanh(mean(arctanh(rho)))`` (weighted mean if ``weights`` given).

    ``rhos``: any iterable of correlations, or a ``{class: rho}`` dict such as :func:`per_class_spearman` returns.

    ``|rho|`` is clipped to ``1 - 1e-7`` so that a perfect correlation stays finite. ``nan`` entries (classes
    whose correlation is undefined) are left out, with their weights; if nothing is left the result is ``nan``.
    Values outside [-1, 1] or infinite raise JudgemindError.
    """
    r = _float_vector(rhos, "rhos")
    if r.size == 0:
        raise JudgemindError("fisher_z_mean: argument 'rhos' is empty; pass at least one correlation")
    bad = ~np.isnan(r) & ~(np.abs(r) <= 1.0)  # catches +-inf and |rho| > 1, lets nan through
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise JudgemindError(f"fisher_z_mean: rhos[{i}] = {r[i]} is not a correlation in [-1, 1]")
    if weights is None:
        w = np.ones_like(r)
    else:
        w = _float_vector(weights, "weights")
        if w.shape != r.shape:
            raise JudgemindError(f"fisher_z_mean: {w.size} weights for {r.size} correlations; pass one per rho")
        if not np.isfinite(w).all() or (w < 0).any():
            raise JudgemindError("fisher_z_mean: weights must be finite and non-negative")
    keep = ~np.isnan(r)
    if not keep.any() or w[keep].sum() == 0:
        return float("nan")
    z = np.arctanh(np.clip(r[keep], -1.0 + _FISHER_EPS, 1.0 - _FISHER_EPS))
    return float(np.tanh(np.average(z, weights=w[keep])))


def _as_labels(classes: Any, n: int, func: str) -> np.ndarray:
    c = _to_numpy(classes)
    if c.ndim != 1 or c.shape[0] != n:
        raise JudgemindError(
            f"{func}: argument 'classes' has shape {c.shape}, expected ({n},) -- one class label per sample"
        )
    if c.dtype == object:
        raise JudgemindError(f"{func}: argument 'classes' is an object array; pass ints or strings")
    return c


def per_class_spearman(pred: Any, true: Any, classes: Any) -> dict[Any, float]:
    """Spearman rho within each class: ``{class: rho}`` in sorted class order.

    ``pred``, ``true``, ``classes``: ``(N,)``. Class keys are plain Python values (``int``/``str``). A class
    with fewer than two samples or constant values gets ``nan`` (see :func:`spearman`). Average the values with
    :func:`fisher_z_mean` or call :func:`class_averaged_spearman`.
    """
    p, t = _pair(pred, true, "per_class_spearman")
    c = _as_labels(classes, p.shape[0], "per_class_spearman")
    out: dict[Any, float] = {}
    for label in np.unique(c):
        mask = c == label
        key = label.item() if hasattr(label, "item") else label
        out[key] = spearman(p[mask], t[mask])
    return out


def class_averaged_spearman(pred: Any, true: Any, classes: Any) -> float:
    """Fisher-z average of :func:`per_class_spearman` (unweighted over classes, as AQA-7 tables report)."""
    return fisher_z_mean(list(per_class_spearman(pred, true, classes).values()))


def per_stage_metrics(pred: Mapping[str, Any], true: Mapping[str, Any]) -> dict[str, dict[str, float | int]]:
    """Rho and MAE per stage or component: ``{key: {"rho", "mae", "n"}}`` in the order of ``true``'s keys.

    ``pred`` and ``true`` map the same keys (e.g. ``takeoff``/``flight``/``landing`` or ``air``/``form``/
    ``landing``) to ``(N_key,)`` arrays.
    """
    missing = [k for k in true if k not in pred]
    extra = [k for k in pred if k not in true]
    if missing or extra:
        raise JudgemindError(
            f"per_stage_metrics: keys differ -- missing in pred: {missing}, missing in true: {extra}; "
            f"pass the same stages/components in both"
        )
    if not true:
        raise JudgemindError("per_stage_metrics: no stages/components given")
    out: dict[str, dict[str, float | int]] = {}
    for key in true:
        p, t = _pair(pred[key], true[key], "per_stage_metrics", (f"pred[{key!r}]", f"true[{key!r}]"))
        out[key] = {"rho": spearman(p, t), "mae": mae(p, t), "n": int(p.shape[0])}
    return out


# ---------------------------------------------------------------------------------------------------------------
# segmentation


def _as_segments(x: Any, name: str, func: str, ndim: int) -> np.ndarray:
    arr = _as_float_array(x, name, func)
    if arr.ndim != ndim or arr.shape[-1] != 2:
        want = "(N, 2)" if ndim == 2 else "(N, S, 2)"
        raise JudgemindError(f"{func}: argument '{name}' has shape {arr.shape}, expected {want} [start, end) pairs")
    reversed_ = arr[..., 1] < arr[..., 0]
    if reversed_.any():
        idx = tuple(int(i) for i in np.argwhere(reversed_)[0])
        where = idx[0] if len(idx) == 1 else idx
        raise JudgemindError(
            f"{func}: argument '{name}' at index {where} has end < start ({arr[idx]}); intervals are [start, end)"
        )
    return arr


def _segment_pair(pred: Any, true: Any, func: str, ndim: int) -> tuple[np.ndarray, np.ndarray]:
    p = _as_segments(pred, "pred_seg", func, ndim)
    t = _as_segments(true, "true_seg", func, ndim)
    if p.shape != t.shape:
        raise JudgemindError(f"{func}: 'pred_seg' has shape {p.shape} but 'true_seg' has {t.shape}; they must match")
    return p, t


def _iou(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    inter = np.clip(np.minimum(p[..., 1], t[..., 1]) - np.maximum(p[..., 0], t[..., 0]), 0.0, None)
    union = (p[..., 1] - p[..., 0]) + (t[..., 1] - t[..., 0]) - inter
    # Two empty intervals: count an exact match as IoU 1, anything else as 0 (no 0/0).
    same = np.all(p == t, axis=-1)
    safe = np.where(union > 0, union, 1.0)
    return np.where(union > 0, inter / safe, np.where(same, 1.0, 0.0))


def segment_iou(pred_seg: Any, true_seg: Any) -> np.ndarray:
    """IoU of 1-D intervals ``[start, end)`` per sample: ``(N, 2), (N, 2) -> (N,)``.

    IoU = overlap / (len_pred + len_true - overlap) with lengths ``end - start`` (FineDiving's ``segment_iou``).
    Disjoint or touching intervals give 0. Two zero-length intervals give 1 if identical, else 0.
    ``end < start`` raises JudgemindError.
    """
    p, t = _segment_pair(pred_seg, true_seg, "segment_iou", 2)
    return _iou(p, t)


def _hit_rates(iou: np.ndarray, thresholds: Sequence[float], func: str) -> dict[str, float | int]:
    out: dict[str, float | int] = {}
    for d in thresholds:
        d = float(d)
        if not 0.0 < d <= 1.0:
            raise JudgemindError(f"{func}: threshold {d} is not in (0, 1]")
        out[f"aiou@{d:g}"] = float(np.mean(iou >= d))
    out["mean_iou"] = float(np.mean(iou))
    out["n"] = int(iou.shape[0])
    return out


def aiou(pred_seg: Any, true_seg: Any, thresholds: Sequence[float] = (0.5, 0.75)) -> dict[str, float | int]:
    """FineDiving AIoU on one interval per sample: share of samples with IoU >= d, for each threshold d.

    ``pred_seg``, ``true_seg``: ``(N, 2)`` ``[start, end)``. FineDiving/MCoRe/FineParser compute it on the single
    flight interval ``[t1, t2)`` (end of take-off to first entry frame), so to reproduce their numbers pass the
    flight interval, e.g. ``aiou(pred_bounds[:, 1], true_bounds[:, 1])`` for ``(N, S, 2)`` stage bounds in
    ``STAGES`` order. For all stages at once see :func:`stagewise_aiou`.

    Returns ``{"aiou@0.5": frac, "aiou@0.75": frac, "mean_iou": ..., "n": N}``; fractions in [0, 1] -- reports
    print them x100 like the papers.
    """
    p, t = _segment_pair(pred_seg, true_seg, "aiou", 2)
    return _hit_rates(_iou(p, t), thresholds, "aiou")


def stagewise_aiou(
    pred_bounds: Any, true_bounds: Any, thresholds: Sequence[float] = (0.5, 0.75)
) -> dict[str, float | int]:
    """Multi-stage AIoU (ours, closer to the TSA paper's wording than to its code).

    ``pred_bounds``, ``true_bounds``: ``(N, S, 2)`` ``[start, end)`` per stage. Per sample, the IoU of each stage
    is averaged over the S stages; then the share of samples whose mean IoU >= d is reported per threshold.
    Same return keys as :func:`aiou` (``mean_iou`` is the mean over samples of the per-sample mean).
    """
    p, t = _segment_pair(pred_bounds, true_bounds, "stagewise_aiou", 3)
    return _hit_rates(_iou(p, t).mean(axis=1), thresholds, "stagewise_aiou")


def boundary_mae(pred: Any, true: Any) -> float:
    """Mean absolute error of boundary positions, in time steps (frames or feature steps, as given).

    ``pred``, ``true``: ``(N,)`` or ``(N, B)`` boundary positions, e.g. the two transitions ``(t1, t2)`` per
    sample. Pass transitions, not ``(N, S, 2)`` stage bounds: contiguous stages share boundaries, which would be
    counted twice.
    """
    p = _as_float_array(pred, "pred", "boundary_mae")
    t = _as_float_array(true, "true", "boundary_mae")
    if p.shape != t.shape or p.ndim not in (1, 2):
        raise JudgemindError(
            f"boundary_mae: 'pred' has shape {p.shape} and 'true' {t.shape}; expected the same (N,) or (N, B) shape"
        )
    return float(np.mean(np.abs(p - t)))


# ---------------------------------------------------------------------------------------------------------------
# deductions


def _as_binary(x: Any, name: str, func: str) -> np.ndarray:
    arr = _as_float_array(x, name, func)
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = idx[0] if len(idx) == 1 else idx
        raise JudgemindError(f"{func}: argument '{name}' must hold 0/1 labels, found {arr[idx]} at index {where}")
    return arr.astype(bool)


def _ap(scores: np.ndarray, labels: np.ndarray) -> float:
    n_pos = int(labels.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    tp = np.cumsum(y)
    # Precision is taken at the end of each block of tied scores, so input order never changes the result.
    last_of_block = np.r_[s[1:] != s[:-1], True]
    block_id = np.cumsum(np.r_[0, last_of_block[:-1]])
    block_end = np.flatnonzero(last_of_block)[block_id]
    precision_at = tp[block_end] / (block_end + 1.0)
    return float(precision_at[y].sum() / n_pos)


def _average_ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks of ``x`` (N,), tied values sharing the mean of their ranks."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    first = np.r_[True, xs[1:] != xs[:-1]]
    block = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(xs)]
    mean_rank = 0.5 * (starts + 1 + ends)  # ranks starts+1 .. ends
    ranks = np.empty(len(x))
    ranks[order] = mean_rank[block]
    return ranks


def roc_auc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a random negative (ties count
    one half), by the rank-sum (Mann-Whitney) formula ``(sum of the positives' ranks - P (P + 1) / 2) / (P N)``.

    ``scores``: ``(N,)`` higher = more likely positive; ``labels``: ``(N,)`` 0/1 (or bool). Returns ``nan`` when
    either class is absent (AUC undefined). 0.5 is chance; 1.0 a perfect separation.
    """
    s, _ = _pair(scores, labels, "roc_auc", ("scores", "labels"))
    y = _as_binary(labels, "labels", "roc_auc")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    r = _average_ranks(s)
    return float((r[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def average_precision(scores: Any, labels: Any) -> float:
    """Non-interpolated average precision: the mean, over positives, of precision at each positive's rank.

    ``scores``: ``(N,)`` higher = more likely positive; ``labels``: ``(N,)`` 0/1 (or bool). Ranks follow
    descending score. Tied scores form one block: every positive in the block gets the precision measured after
    the whole block, so the result is deterministic and independent of input order (it equals scikit-learn's
    ``average_precision_score``; without ties it is exactly the textbook definition). Returns ``nan`` when there
    are no positives (AP undefined); :func:`deduction_map` skips such classes.
    """
    s, _ = _pair(scores, labels, "average_precision", ("scores", "labels"))
    y = _as_binary(labels, "labels", "average_precision")
    return _ap(s, y)


def deduction_map(probs: Any, labels: Any, class_names: Sequence[str] | None = None) -> dict[str, Any]:
    """Mean AP over deduction classes that have at least one positive.

    ``probs``: ``(N, K)`` scores per sample and class; ``labels``: ``(N, K)`` 0/1. ``class_names`` (K names,
    e.g. catalogue item ids) key the result; class indices are used otherwise.

    Returns ``{"map": float, "per_class": {name: AP}, "n_classes_evaluated": int, "skipped": [names]}``;
    ``skipped`` lists the classes without positives (left out of the mean). ``map`` is ``nan`` if all are.
    """
    func = "deduction_map"
    p = _as_float_array(probs, "probs", func)
    y = _as_binary(labels, "labels", func)
    if p.ndim != 2 or p.shape != y.shape:
        raise JudgemindError(
            f"{func}: 'probs' has shape {p.shape} and 'labels' {y.shape}; expected the same (N, K) shape"
        )
    k = p.shape[1]
    names: list[Any] = list(range(k)) if class_names is None else list(class_names)
    if len(names) != k:
        raise JudgemindError(f"{func}: {len(names)} class_names for {k} columns; pass one name per column")
    per_class: dict[Any, float] = {}
    skipped: list[Any] = []
    for j, name in enumerate(names):
        if y[:, j].any():
            per_class[name] = _ap(p[:, j], y[:, j])
        else:
            skipped.append(name)
    m = float(np.mean(list(per_class.values()))) if per_class else float("nan")
    return {"map": m, "per_class": per_class, "n_classes_evaluated": len(per_class), "skipped": skipped}


# ---------------------------------------------------------------------------------------------------------------
# several runs


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def summarize_seeds(results: Sequence[Mapping[str, Any]]) -> dict[str, tuple[float, float]]:
    """Mean and sample standard deviation (ddof=1) of each numeric metric over runs: ``{key: (mean, std)}``.

    ``results``: one metrics dict per seed (e.g. from :func:`evaluate_scores`). The keys with scalar numeric
    values in the first dict are summarised (nested values such as ``per_class`` are not) and every dict must
    have them. ``std`` is ``nan`` for a single run; a ``nan`` metric in any run makes that key's mean ``nan``.
    """
    if len(results) == 0:
        raise JudgemindError("summarize_seeds: no results given; pass one metrics dict per run")
    keys = [k for k, v in results[0].items() if _is_number(v)]
    out: dict[str, tuple[float, float]] = {}
    for key in keys:
        values = []
        for i, r in enumerate(results):
            if key not in r or not _is_number(r[key]):
                raise JudgemindError(f"summarize_seeds: results[{i}] lacks a numeric '{key}' that results[0] has")
            values.append(float(r[key]))
        v = np.asarray(values)
        std = float(np.std(v, ddof=1)) if v.size > 1 else float("nan")
        out[key] = (float(np.mean(v)), std)
    return out
