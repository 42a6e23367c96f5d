"""A run's 90 % intervals, adapted to each jump: the ``intervals`` entry of ``RUN/calibration-<ckpt>.json``.

For the final score and each component (Air, Form, Landing), :func:`fit_intervals` fits a **difficulty**
``sigma(x)`` on val's **select** half (the half that also chose the checkpoint epoch) from the model's own
outputs (:func:`interval_signals`), choosing the signals by cross-validation on that half
(:func:`judgemind.evaluate.conformal.choose_difficulty`), then takes ``q``, the conformal quantile of
``|y - yhat| / sigma(x)``, on the **calib** half (data that chose nothing). A jump's interval is
``yhat +- q x sigma(x)`` (x DD for the final score), clipped to the value's range: normalised split conformal, the
same 90 % guarantee as a constant width (any fixed function of x keeps the calib and test videos exchangeable),
narrower where the model's signals say the jump is easy. When no signal improves the select half's
cross-validated fit of the absolute errors (:func:`judgemind.evaluate.conformal.choose_difficulty`), the entry is
the constant width (``kind`` says which). Signals, one value per jump (groups are added or left out as a whole):

* ``level``: the model's score per unit of DD (J) and its Air/Form/Landing as a share of their maxima;
* ``dd``: the degree of difficulty;
* ``code``: somersaults and twists of the jump code (aerials codes; 0 for others);
* ``deductions``: of the deduction head, the expected points (sum of p x points), their Bernoulli variance
  (sum of p (1 - p) x points^2) and the items' entropy;
* ``bands``: the standard deviation of each component's grade-band distribution (band centres);
* ``sensitivity``: the spread (standard deviation over :data:`DRAWS` draws) of the score per DD and of each
  component when every real step's tokens get Gaussian noise of :data:`EPS` x the training split's per-dimension
  standard deviation (the same draws for every video: a deterministic function of the video).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from judgemind.errors import JudgemindError
from judgemind.evaluate.conformal import (
    calibrate_abs,
    calibrate_scaled,
    choose_difficulty,
    coverage,
    difficulty,
)
from judgemind.rules import COMPONENT_MAX, COMPONENTS, GRADE_BANDS, parse_jump_code
from judgemind.rules.compose import official_score_max
from judgemind.runs.outputs import official_scores

EPS = 0.05  # perturbation, in training-split standard deviations of each token dimension
DRAWS = 8
SEED = 0
KEYS = ("final_score", *COMPONENTS)


# -- signals ----------------------------------------------------------------------------------------------------


def sensitivity_reference(train) -> dict:
    """What :func:`sensitivity` needs of the training split (a FeatureDataset): the per-dimension standard
    deviation of the global and foreground tokens over its real steps."""
    mask = train.tensors["mask"]
    return {
        "eps": EPS,
        "draws": DRAWS,
        "seed": SEED,
        **{
            f"{k}_std": train.tensors[k][mask].double().std(0).nan_to_num(0.0).tolist()
            for k in ("global", "foreground")
        },
    }


def _noise(shape: tuple[int, int], seed: int, draw: int, stream: int) -> torch.Tensor:
    """(T, D) standard normals of one draw; numpy fills them in order, so the first t rows are the same for every
    T >= t (a video's noise does not depend on the length its batch is padded to)."""
    return torch.from_numpy(np.random.default_rng([seed, draw, stream]).standard_normal(shape).astype(np.float32))


@torch.no_grad()
def sensitivity(model, tensors: dict, ref: dict, device, batch_size: int = 64) -> dict[str, np.ndarray]:
    """``sens_score`` (N,) and ``sens_<component>`` (N,): the standard deviation over ``ref['draws']`` perturbed
    forward passes (:func:`sensitivity_reference`) of the model's score and components. ``tensors``: a split's
    stacked batch (FeatureDataset.tensors, or one video's batch)."""
    was = model.training
    model.eval()
    N, T = tensors["mask"].shape
    std = {k: torch.as_tensor(ref[f"{k}_std"], dtype=torch.float32) for k in ("global", "foreground")}
    for k, s in std.items():
        if tensors[k].shape[-1] != len(s):
            raise JudgemindError(
                f"the calibration's sensitivity reference has {len(s)} {k} dimensions, the features have "
                f"{tensors[k].shape[-1]}; re-run `judgemind evaluate` on the run to recalibrate"
            )
    draws = []
    for d in range(int(ref["draws"])):
        noise = {
            k: ref["eps"] * _noise((T, len(s)), int(ref["seed"]), d, i) * s for i, (k, s) in enumerate(std.items())
        }
        rows = []
        for start in range(0, N, batch_size):
            b = {k: v[start : start + batch_size] for k, v in tensors.items()}
            m = b["mask"].unsqueeze(-1).to(torch.float32)
            b = {**b, **{k: b[k] + noise[k] * m for k in noise}}
            out = model({k: v.to(device) for k, v in b.items()})
            cols = [out.score[:, None]] + ([out.components] if out.components is not None else [])
            rows.append(torch.cat(cols, 1).double().cpu())
        draws.append(torch.cat(rows))
    model.train(was)
    spread = torch.stack(draws).std(0, unbiased=False).numpy()
    out = {"sens_score": spread[:, 0]}
    if spread.shape[1] == 1 + len(COMPONENTS):
        out.update({f"sens_{c}": spread[:, 1 + k] for k, c in enumerate(COMPONENTS)})
    return out


def _code_counts(code: str) -> tuple[float, float]:
    try:
        jc = parse_jump_code(code)
    except (JudgemindError, TypeError):
        return 0.0, 0.0
    return float(jc.n_somersaults), float(jc.total_twists)


def interval_signals(outputs: dict, codes: Sequence[str], dd, sens: dict | None = None) -> dict[str, np.ndarray]:
    """The difficulty signals (module docstring) of N jumps: ``outputs`` as ``judgemind.runs.outputs.
    collect_outputs`` gives them, the jumps' action ``codes`` and ``dd``, ``sens`` of :func:`sensitivity`."""
    dd = np.asarray(dd, np.float64)
    sig = {"J": np.asarray(outputs["score"], np.float64) / dd, "dd": dd}
    comps = outputs.get("components")
    if comps is not None:
        sig.update({c: np.asarray(comps[:, k], np.float64) / COMPONENT_MAX[c] for k, c in enumerate(COMPONENTS)})
    counts = np.array([_code_counts(c) for c in codes], np.float64).reshape(-1, 2)
    sig["somersaults"], sig["twists"] = counts[:, 0], counts[:, 1]
    p = outputs.get("deduction_probs")
    if p is not None and p.shape[1]:
        p = np.clip(np.asarray(p, np.float64), 1e-6, 1 - 1e-6)
        pts = outputs.get("item_points")
        pts = np.ones_like(p) if pts is None else np.asarray(pts, np.float64)
        sig["ded_expected"] = (p * pts).sum(1)
        sig["ded_variance"] = (p * (1 - p) * pts**2).sum(1)
        sig["ded_entropy"] = -(p * np.log(p) + (1 - p) * np.log(1 - p)).sum(1)
    for c in COMPONENTS:
        bp = outputs.get(f"band_probs_{c}")
        if bp is not None:
            centre = np.array([(float(b.lo) + float(b.hi)) / 2 for b in GRADE_BANDS[c]])
            m = bp @ centre
            sig[f"band_sd_{c}"] = np.sqrt(np.maximum(bp @ centre**2 - m**2, 0.0)) / COMPONENT_MAX[c]
    if sens:
        sig["sens_score"] = np.asarray(sens["sens_score"], np.float64) / dd
        sig.update({k: np.asarray(v, np.float64) for k, v in sens.items() if k != "sens_score"})
    return sig


def signal_groups(signals: dict) -> dict[str, list[str]]:
    """The groups of the signals present (module docstring)."""
    groups = {
        "level": ["J", *COMPONENTS],
        "dd": ["dd"],
        "code": ["somersaults", "twists"],
        "deductions": ["ded_expected", "ded_variance", "ded_entropy"],
        "bands": [f"band_sd_{c}" for c in COMPONENTS],
        "sensitivity": ["sens_score", *(f"sens_{c}" for c in COMPONENTS)],
    }
    out = {g: [n for n in names if n in signals] for g, names in groups.items()}
    return {g: names for g, names in out.items() if names}


def split_signals(model, ds, outputs: dict, ref: dict | None, device, batch_size: int) -> dict[str, np.ndarray]:
    """:func:`interval_signals` of a split (FeatureDataset) whose ``outputs`` are given; the sensitivity too
    when ``ref`` (:func:`sensitivity_reference`) is."""
    if not len(ds):
        return {}  # an empty split (a tiny validation split's calib half): no rows, no signals
    sens = None if ref is None else sensitivity(model, ds.tensors, ref, device, batch_size)
    return interval_signals(outputs, [r.action_code for r in ds.records], [float(r.dd) for r in ds.records], sens)


# -- fitting and using the intervals ----------------------------------------------------------------------------


def split_targets(outputs: dict, ds, info) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """key -> (prediction, truth (NaN where unknown), scale) of a split: the final score (scale: DD, its
    calibration is per unit of DD) and the raw components (scale 1)."""
    dd = np.array([float(r.dd) for r in ds.records])
    out = {"final_score": (official_scores(outputs, ds.records, info), ds.tensors["score"].double().numpy(), dd)}
    if "components" in outputs:
        truth = ds.tensors.get("components")
        truth = np.full((len(dd), len(COMPONENTS)), np.nan) if truth is None else truth.double().numpy()
        for k, c in enumerate(COMPONENTS):
            out[c] = (np.asarray(outputs["components"][:, k], np.float64), truth[:, k], np.ones(len(dd)))
    return out


def signal_matrix(signals: dict, names: Sequence[str]) -> np.ndarray:
    missing = [n for n in names if n not in signals]
    if missing:
        raise JudgemindError(
            f"the calibration's adaptive interval needs the signals {', '.join(missing)}, which this model does not "
            f"give; re-run `judgemind evaluate` on the run to recalibrate"
        )
    return np.stack([np.asarray(signals[n], np.float64) for n in names], 1)


def fit_entry(pred_sel, true_sel, sig_sel, pred_cal, true_cal, sig_cal, alpha: float) -> dict:
    """One key's interval entry: the difficulty chosen on the select half's residuals ``true_sel - pred_sel``
    (already per unit of the key's scale) and ``q`` of the calib half. ``kind`` is ``adaptive`` (``q`` in units of
    sigma; ``difficulty`` the model) or ``constant`` (``q`` in the key's units); ``constant_q`` is the constant
    width of the same calib half either way (the interval judgemind gave before it adapted them)."""
    groups = signal_groups(sig_sel)
    model, report = choose_difficulty(sig_sel, groups, np.asarray(true_sel) - np.asarray(pred_sel))
    const = calibrate_abs(pred_cal, true_cal, alpha)
    base = {"n": const["n"], "alpha": alpha, "constant_q": const["q"], "selection": report}
    if model is not None and not len(pred_cal):
        model, report["why_constant"] = None, "no calibration videos"
    if model is None:
        return {"kind": "constant", "q": const["q"], **base, "why": report.get("why_constant")}
    cal = calibrate_scaled(pred_cal, true_cal, difficulty(model, signal_matrix(sig_cal, model["signals"])), alpha)
    return {"kind": "adaptive", "q": cal["q"], **base, "n": cal["n"], "difficulty": model}


def fit_intervals(sel_out: dict, sel, sel_sig: dict, cal_out: dict, cal, cal_sig: dict, info, alpha: float) -> dict:
    """The ``intervals`` entry of a calibration: :func:`fit_entry` of the final score (per unit of DD:
    ``scale`` "dd") and of each component the model predicts. ``*_out``: ``collect_outputs`` of val's select and
    calib halves (``sel``, ``cal``); ``*_sig``: their :func:`split_signals`."""
    ts, tc = split_targets(sel_out, sel, info), split_targets(cal_out, cal, info)
    iv = {}
    for key in KEYS:
        if key in ts and key in tc:
            (ps, ys, ss), (pc, yc, sc) = ts[key], tc[key]
            iv[key] = fit_entry(ps / ss, ys / ss, sel_sig, pc / sc, yc / sc, cal_sig, alpha)
    iv["final_score"]["scale"] = "dd"
    return iv


def half_widths(entry: dict | None, signals: dict | None, scale, constant: bool = False) -> np.ndarray | None:
    """(N,) half-widths of an entry (:func:`fit_entry`) for N jumps with these ``signals``, in the value's units:
    x ``scale`` (N,) (each jump's DD for the final score, 1 for a component); ``constant``: the constant-width
    interval of the same entry. None: no interval (no entry, or too few calibration videos for the guarantee)."""
    if not entry:
        return None
    q = entry.get("constant_q", entry.get("q")) if constant else entry.get("q")
    if q is None or not math.isfinite(q):
        return None
    hw = float(q) * np.asarray(scale, np.float64)
    if entry.get("kind") == "adaptive" and not constant:
        hw = hw * difficulty(entry["difficulty"], signal_matrix(signals or {}, entry["difficulty"]["signals"]))
    return hw


def interval_of(
    value: float,
    cal: dict | None,
    key: str,
    lo: float = 0.0,
    hi: float | None = None,
    dd: float | None = None,
    signals: dict | None = None,
):
    """``[lo, hi]`` of one jump's 90 % interval around ``value`` (rounded to 2 decimals), or None when the run
    has no finite calibration for ``key``; ``signals``: the jump's :func:`interval_signals` (1 row), needed by an
    adaptive entry; ``dd`` scales the final score's."""
    entry = (cal or {}).get("intervals", {}).get(key)
    one = {k: np.atleast_1d(np.asarray(v, np.float64)) for k, v in (signals or {}).items()}
    scale = float(dd) if (entry or {}).get("scale") == "dd" else 1.0
    hw = half_widths(entry, one, [scale])
    if hw is None:
        return None
    q = float(hw[0])
    a, b = max(value - q, lo), value + q if hi is None else min(value + q, hi)
    return [round(a, 2), round(b, 2)]


def kinds(cal: dict | None) -> dict[str, str]:
    """key -> ``adaptive`` / ``constant`` of a calibration's intervals (old entries without a kind: constant)."""
    iv = (cal or {}).get("intervals") or {}
    return {k: iv[k].get("kind", "constant") for k in KEYS if isinstance(iv.get(k), dict)}


def split_coverage(cal: dict, outputs: dict, ds, info, signals: dict) -> dict:
    """key -> test-style report of a split: ``coverage`` and mean ``width`` of the calibration's intervals
    (``kind``) and, under ``constant``, of the constant width of the same calib half."""
    out = {}
    iv = cal.get("intervals") or {}
    top = {"final_score": None, **COMPONENT_MAX}
    for key, (pred, true, scale) in split_targets(outputs, ds, info).items():
        entry = iv.get(key)
        if not entry:
            continue
        hi = official_score_max(info.scoring, scale) if key == "final_score" else top[key]
        rep = {}
        for name, const in (("adaptive", False), ("constant", True)):
            hw = half_widths(entry, signals, scale, constant=const)
            rep[name] = (
                coverage(pred, true, hw, lo=0.0, hi=hi)
                if hw is not None
                else {"coverage": math.nan, "width": math.nan, "n": len(pred)}
            )
        out[key] = {**rep["adaptive"], "kind": entry.get("kind", "constant"), "constant": rep["constant"]}
    return out


def row_intervals(cal: dict, outputs: dict, ds, info, signals: dict) -> list[dict]:
    """One ``{key: [lo, hi] or None}`` per row of a split (predictions.jsonl), clipped to each value's range;
    None where the calibration gives no finite interval (too few calibration videos)."""
    iv = cal.get("intervals") or {}
    cols: dict = {}
    for key, (pred, _, scale) in split_targets(outputs, ds, info).items():
        if key not in iv:
            continue
        hw = half_widths(iv[key], signals, scale)
        if hw is None:
            cols[key] = None
            continue
        hi = official_score_max(info.scoring, scale) if key == "final_score" else np.full(len(pred), COMPONENT_MAX[key])
        lo_v = np.maximum(pred - hw, 0.0)
        cols[key] = (lo_v, pred + hw if hi is None else np.minimum(pred + hw, hi))
    return [
        {k: None if v is None else [round(float(v[0][i]), 2), round(float(v[1][i]), 2)] for k, v in cols.items()}
        for i in range(len(ds))
    ]
