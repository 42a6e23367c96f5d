"""How sure a run's scores are, and what its in-distribution videos look like: ``RUN/calibration-<ckpt>.json``.

Written at the end of ``judgemind train`` (for best.pt); ``judgemind evaluate`` and ``score`` read it
(``judgemind.infer.run.load_calibration``), and compute it once (then store it) for older runs whose training data
set is still there. Contents:

* ``intervals``: 90 % split-conformal intervals (:mod:`judgemind.runs.intervals`, which documents the entries) for
  the reported final score (the rules-engine score vs the official score) and for each component (the model's raw
  Air/Form/Landing vs the panel's mean mark). Each is **adapted to the jump** (``kind`` "adaptive": ``score +- q x
  sigma(x)``, sigma a difficulty fitted on the model's own outputs on val's **select** half) or of constant width
  (``kind`` "constant", when no signal narrows the intervals there); ``q`` always comes from the **calib half**
  of the validation split (``judgemind.runs.batch.split_val``): ``judgemind train`` chooses best.pt on select, so
  these residuals come from videos that neither trained nor chose the model and are exchangeable with new videos
  (the whole val split, which chose the epoch, gave optimistic quantiles: 81-85 % Landing coverage for a 90 %
  interval). The final score's residual is divided by the jump's DD (``scale`` "dd": score = J x DD, so errors
  grow with the DD). ``constant_q`` is the constant width of the same calib half, for comparison. Every interval
  is clipped to the value's range (0..30 x DD, 0..2/5/3). ``interval_signals.sensitivity``: the reference of the
  sensitivity signal (the training split's per-dimension token spread).
* ``jump_check``: the thresholds of "is this an aerials jump?" (:mod:`judgemind.data.jumpcheck`: the structure
  take-off -> flight -> landing of the skeleton track the model read), from the calib half's genuine jumps; absent
  for features without a skeleton track (then the check uses its documented defaults, or the feature check below
  decides, see :func:`ood_check`).
* ``ood``: the reference of the softer "features unlike training" warning. ``feature_center``/``feature_scale``
  of the time-pooled tokens (global ++ foreground) over the training split: the median and a robust spread per
  dimension (1.4826 x MAD, floored at :data:`SCALE_FLOOR` x the median spread of all dimensions, so a dimension
  that never varies in training cannot blow the distance up); ``thresholds`` of two non-conformity scores, each
  the conformal quantile of the calib half's scores at ``alpha_ood`` (a validation-like video exceeds it with
  probability <= alpha_ood; with fewer than 1/alpha_ood videos, the largest validation score):
  ``feature_distance`` (RMS of the clipped robust z of the pooled tokens) and ``stage_doubt`` (1 - the mean
  probability of each step's decoded stage). The athlete-track check needs no calibration (see
  :func:`ood_check`).
* ``deductions``: what each deduction item's probability means (:mod:`judgemind.evaluate.deductions`), fitted on
  the same calib half: per item a Platt scaling ``{"a", "b", "fit"}`` of the head's raw output (item / its stage
  pooled / all items pooled under 5 positives) and its reporting ``threshold`` (the smallest of 0.50..0.95 at which
  the calib half's listings of the item are >= 70 % right), ``item_ids`` in the model's order and each item's
  ``exclusive_group``. The head is trained with positive weighting, so its raw outputs are scores, not
  probabilities; a run without this entry reports them as uncalibrated scores.

The document names the checkpoint it describes (``checkpoint_sha256``, the SHA-256 of ``RUN/<checkpoint>.pt``)
and the model's deduction items: :func:`calibration_mismatch` says when a stored file describes another checkpoint
or another item list (``judgemind score`` then refuses; ``judgemind evaluate`` recalibrates).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from judgemind.data import jumpcheck as JC
from judgemind.data import load_dataset
from judgemind.data.track import PREFIX, SkeletonTrack
from judgemind.evaluate import deductions as ded
from judgemind.evaluate.conformal import conformal_quantile, conformal_rank
from judgemind.rules import load_catalogue
from judgemind.runs.batch import load_feature_split, open_features, split_records, split_val
from judgemind.runs.intervals import fit_intervals, sensitivity_reference, split_signals
from judgemind.runs.outputs import collect_outputs
from judgemind.utils import clean_json
from judgemind.utils.atomic import atomic_write_json, sha256_file

ALPHA = 0.10  # 90 % intervals
ALPHA_OOD = 0.01  # per check: at most 1 % of in-distribution videos flagged
MIN_TRACK = 0.5  # the athlete must be located in at least half of the steps
SCALE_FLOOR = 0.1  # a token dimension's spread is at least this share of the median spread of all dimensions
Z_CLIP = 10.0  # |robust z| of one dimension counts at most this much in the feature distance
# 6: intervals adapted to each jump (runs.intervals) with the jump check and robust feature scales (two version 5s,
# one of each, existed before they met); 4: deduction calibration and the checkpoint's SHA-256; 3: val's calib half
# (2: the whole val split)
VERSION = 6


def calibration_path(run_dir, checkpoint: str = "best") -> Path:
    return Path(run_dir) / f"calibration-{checkpoint}.json"


# -- per-video signals ------------------------------------------------------------------------------------------


def pooled_tokens(glob: np.ndarray, fg: np.ndarray) -> np.ndarray:
    """(T, Dg), (T, Df) tokens of the real steps -> (Dg + Df,) their mean over time."""
    return np.concatenate([np.asarray(glob, np.float64).mean(0), np.asarray(fg, np.float64).mean(0)])


def robust_reference(pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(center, scale)`` per dimension of pooled token vectors ``(N, D)``: the median and 1.4826 x the MAD,
    floored at :data:`SCALE_FLOOR` x the median spread over dimensions (and at 1e-6): never a near-zero divisor."""
    x = np.asarray(pooled, np.float64)
    center = np.median(x, axis=0)
    mad = 1.4826 * np.median(np.abs(x - center), axis=0)
    spread = float(np.median(mad[mad > 0])) if (mad > 0).any() else 1.0
    return center, np.maximum(mad, max(SCALE_FLOOR * spread, 1e-6))


def feature_distance(vec: np.ndarray, center: np.ndarray, scale: np.ndarray) -> float:
    """RMS of the robust z-scores (clipped at :data:`Z_CLIP`) of a pooled token vector against the training
    split's per-dimension center and scale (:func:`robust_reference`; ``scale`` is floored again at 1e-6)."""
    z = (np.asarray(vec, np.float64) - center) / np.maximum(scale, 1e-6)
    z = np.clip(z, -Z_CLIP, Z_CLIP)
    return float(np.sqrt(np.mean(z * z)))


def stage_doubt(stage_probs: np.ndarray, bounds) -> float:
    """1 - mean over steps of the probability of the step's decoded stage. stage_probs: (T, 3); bounds: (b1, b2)."""
    p = np.asarray(stage_probs, np.float64)
    T = len(p)
    b1, b2 = (int(x) for x in bounds)
    lab = np.zeros(T, int)
    lab[b1:] = 1
    lab[b2:] = 2
    return float(1.0 - p[np.arange(T), lab].mean())


def track_fraction(feats: dict) -> float | None:
    """Share of steps where the locator found the athlete (not filled in from neighbours); None without boxes."""
    box = feats.get("box")
    if box is None or len(box) == 0:
        return None
    box = np.asarray(box, np.float64)
    found = np.isfinite(box).all(1)
    if feats.get("box_filled") is not None:
        found &= ~np.asarray(feats["box_filled"]).astype(bool)
    return float(found.mean())


def track_of(feats: dict, where: str) -> SkeletonTrack | None:
    """The skeleton track stored with a video's features (``track_*`` tensors: skeleton and AerialsPose features),
    or None for features without one (pixels, I3D, ...)."""
    if PREFIX + "uv" not in feats:
        return None
    return SkeletonTrack.from_tensors(feats, where)


def jump_check(track: SkeletonTrack | None, cal: dict | None) -> dict | None:
    """ "Is this an aerials jump?" of one skeleton track (:func:`judgemind.data.jumpcheck.check_jump`) against the
    run's ``jump_check`` thresholds (the documented defaults when the calibration has none); None without a
    track."""
    if track is None:
        return None
    values, why = JC.jump_values(track)
    ref = (cal or {}).get("jump_check")
    out = JC.check_jump(values, why, ref)
    out["track"] = track.source
    return out


def feature_check(distance: float | None, ood: dict | None) -> dict | None:
    """The softer "features unlike training" warning: ``{"unlike_training", "distance", "threshold", "margin"}``
    (margin = (threshold - distance) / (threshold - the calib half's median distance), floored: > 0 inside);
    None without a distance or a threshold."""
    th = ((ood or {}).get("thresholds") or {}).get("feature_distance")
    if distance is None or th is None:
        return None
    vals = [v for v in ((ood or {}).get("val_scores") or {}).get("feature_distance", []) if v is not None]
    med = float(np.median(vals)) if vals else 0.0
    scale = max(th - med, 0.1 * th, 1e-6)
    return {
        "unlike_training": bool(distance > th),
        "distance": round(float(distance), 4),
        "threshold": round(float(th), 4),
        "margin": round((th - float(distance)) / scale, 3),
    }


def ood_check(signals: dict, ood: dict | None, jump: dict | None = None) -> tuple[bool, list[str]]:
    """``(in_distribution, reasons)`` of one video: the athlete-track check, then the jump check ``jump``
    (:func:`jump_check`) when the features carry a skeleton track -- a failed structural sub-test flags the video,
    the feature distance and the stage doubt then only warn (:func:`feature_check`) -- else, for features without
    a skeleton, the feature distance and the stage doubt against the run's ``ood`` reference."""
    reasons = []
    t = signals.get("track_fraction")
    if t is not None and t < MIN_TRACK:
        reasons.append(f"the athlete was located in only {t:.0%} of the time steps (need {MIN_TRACK:.0%})")
    if jump is not None:
        if jump["is_jump"] is False:
            reasons += JC.describe_failures(jump)
        return not reasons, reasons
    th = (ood or {}).get("thresholds", {})
    d = signals.get("feature_distance")
    if d is not None and th.get("feature_distance") is not None and d > th["feature_distance"]:
        reasons.append(
            f"the video's features are far from the training set's (distance {d:.2f}, in-distribution "
            f"videos stay below {th['feature_distance']:.2f})"
        )
    s = signals.get("stage_doubt")
    if s is not None and th.get("stage_doubt") is not None and s > th["stage_doubt"]:
        reasons.append(
            f"no clear take-off -> flight -> landing structure (stage doubt {s:.3g}, in-distribution "
            f"videos stay below {th['stage_doubt']:.3g})"
        )
    return not reasons, reasons


def _threshold(scores, alpha: float) -> float | None:
    s = [x for x in scores if x is not None and math.isfinite(x)]
    if not s:
        return None
    a = max(alpha, 1.0 / (len(s) + 1))  # too few videos for alpha: the largest score (flag rate <= 1/(n+1))
    q = conformal_quantile(s, a)
    return float(q if math.isfinite(q) else max(s))


# -- a run's calibration ----------------------------------------------------------------------------------------


def _outputs_with_stages(model, ds, batch_size: int, device):
    """Per video of a split: pooled tokens, stage probabilities (T, 3) or None, bounds or None."""

    rows = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(ds), batch_size):
            idx = torch.arange(start, min(start + batch_size, len(ds)))
            batch = {k: v.to(device) for k, v in ds.batch(idx).items()}
            out = model(batch)
            sp = None if out.stage_logits is None else torch.softmax(out.stage_logits, -1).cpu().numpy()
            for j in range(len(idx)):
                L = int(batch["mask"][j].sum())
                rows.append(
                    {
                        "pooled": pooled_tokens(
                            batch["global"][j, :L].cpu().numpy(), batch["foreground"][j, :L].cpu().numpy()
                        ),
                        "stage_probs": None if sp is None else sp[j, :L],
                        "bounds": None if out.bounds is None else out.bounds[j].cpu().numpy(),
                    }
                )
    return rows


def build_calibration(model, cfg, info, dataset_path: str, device="cpu") -> dict:
    """The calibration document of a loaded model (see the module docstring)."""

    dev = torch.device(device)
    dataset = load_dataset(Path(dataset_path))
    cache = open_features(dataset, cfg.data.features)
    train = load_feature_split(cache, split_records(dataset, cfg.data.train_split, "train"), info, cfg.data.train_split)
    whole_val = load_feature_split(cache, split_records(dataset, cfg.data.val_split, "val"), info, cfg.data.val_split)
    select, val = split_val(whole_val)  # best.pt was chosen on select; calib chose nothing
    if getattr(model, "needs_train_set", False):
        model.attach_train_set({k: v.to(dev) for k, v in train.tensors.items()})
    bs = cfg.run.eval_batch_size
    out = collect_outputs(model, val, bs, dev)
    true = val.tensors["score"].numpy().astype(np.float64)
    ref = sensitivity_reference(train)
    sel_out = collect_outputs(model, select, bs, dev)
    iv = fit_intervals(
        sel_out,
        select,
        split_signals(model, select, sel_out, ref, dev, bs),
        out,
        val,
        split_signals(model, val, out, ref, dev, bs),
        info,
        ALPHA,
    )
    # in-distribution reference: token statistics of train, non-conformity thresholds from val
    tr = np.stack([r["pooled"] for r in _outputs_with_stages(model, train, bs, dev)])
    center, scale = robust_reference(tr)
    vrows = _outputs_with_stages(model, val, bs, dev)
    dist = [feature_distance(r["pooled"], center, scale) for r in vrows]
    doubt = [
        stage_doubt(r["stage_probs"], r["bounds"])
        for r in vrows
        if r["stage_probs"] is not None and r["bounds"] is not None
    ]
    n = len(true)
    deds = fit_split_deductions(out, val, info)
    return {
        "version": VERSION,
        "deductions": deds,
        "jump_check": jump_reference(cache, val.records, f"{cfg.data.val_split}:calib"),
        "split": f"{cfg.data.val_split}:calib",
        "n": n,
        "halves": {"select": len(whole_val) - n, "calib": n, "rule": "val rows ordered by SHA-256 of the id"},
        "alpha": ALPHA,
        "guarantee": (
            f"split conformal: P(truth in interval) >= {1 - ALPHA:.0%} for a video exchangeable with "
            f"the {n} videos of val's calib half"
            if conformal_rank(n, ALPHA) <= n
            else f"too few validation videos in val's calib half ({n}) for a {1 - ALPHA:.0%} guarantee: intervals are "
            f"unbounded"
        ),
        "intervals": iv,
        "interval_signals": {"sensitivity": ref},
        "ood": {
            "alpha": ALPHA_OOD,
            "min_track": MIN_TRACK,
            "feature_center": center.tolist(),
            "feature_scale": scale.tolist(),
            "thresholds": {
                "feature_distance": _threshold(dist, ALPHA_OOD),
                "stage_doubt": _threshold(doubt, ALPHA_OOD),
            },
            "val_scores": {
                "feature_distance": [round(x, 4) for x in dist],
                "stage_doubt": [round(x, 4) for x in doubt],
            },
        },
    }


def jump_reference(cache, records, split: str) -> dict | None:
    """The ``jump_check`` entry: :func:`judgemind.data.jumpcheck.fit_jump_reference` of the skeleton tracks stored
    with ``records``' features (val's calib half: genuine jumps), or None when the features carry no track."""
    rows = []
    for rec in records:
        track = track_of(cache.load(rec.id), f"{cache.path(rec.id)}")
        if track is None:
            return None
        rows.append(JC.jump_values(track)[0])
    ref = JC.fit_jump_reference(rows)
    ref["calibrated_on"] = f"{split} split, {len(rows)} videos"
    return ref


# -- deductions -------------------------------------------------------------------------------------------------


def item_groups(item_ids) -> list[str | None]:
    """The catalogue's ``exclusive_group`` of each item id (None for an id the catalogue does not know)."""
    cat = load_catalogue()
    return [cat.get(i).exclusive_group if i in cat else None for i in item_ids]


def fit_deductions(raw: np.ndarray, labels: np.ndarray, info) -> dict:
    """The ``deductions`` entry from the head's raw probabilities ``(N, K)`` and the 0/1 ``labels`` of the same
    calibration rows (val's calib half), for the items ``info.item_ids`` (stages ``info.item_stages``)."""
    ids, stages = list(info.item_ids), list(info.item_stages)
    params = ded.calibrate_items(raw, labels, stages)
    cal = ded.apply_calibration(raw, params)
    ths = ded.choose_thresholds(cal, labels, stages)
    groups = item_groups(ids)
    return {
        "method": "Platt scaling per item of the head's output (logit), fitted by Newton steps on val's calib half; "
        f"items with fewer than {ded.MIN_POSITIVES} positives use their stage's items pooled, else all items",
        "threshold_rule": f"per item the smallest of {ded.THRESHOLD_GRID[0]:.2f}..{ded.THRESHOLD_GRID[-1]:.2f} "
        f"at which the calib half's listings of the item are >= {ded.PRECISION_TARGET:.0%} right (the highest "
        "recall at that precision); exclusive groups list only their most probable member",
        "precision_target": ded.PRECISION_TARGET,
        "min_positives": ded.MIN_POSITIVES,
        "n": int(len(labels)),
        "item_ids": ids,
        "items": {
            i: {**params[k], **ths[k], "exclusive_group": groups[k], "stage": stages[k]} for k, i in enumerate(ids)
        },
        "calib_metrics": ded.deduction_report(cal, labels, ids, stages, [t["threshold"] for t in ths], groups),
    }


def fit_split_deductions(outputs: dict, ds, info) -> dict | None:
    """:func:`fit_deductions` of a split's outputs (``judgemind.runs.outputs.collect_outputs``) and labels, or None
    when the model has no deduction head or the split no labelled deduction."""
    labels = ds.tensors.get("deductions")
    if "deduction_probs" not in outputs or labels is None or not labels.shape[1] or float(labels.sum()) == 0:
        return None
    return fit_deductions(outputs["deduction_probs"], labels.numpy(), info)


def deduction_rule(cal: dict | None, item_ids) -> tuple[list[dict], list[float], list[str | None]] | None:
    """``(params, thresholds, groups)`` of a calibration's ``deductions`` entry in the order of ``item_ids``, or
    None when the document has none."""
    d = (cal or {}).get("deductions")
    if not d:
        return None
    items = [d["items"][i] for i in item_ids]
    return items, [float(x["threshold"]) for x in items], [x.get("exclusive_group") for x in items]


def calibration_mismatch(doc: dict, run_dir, checkpoint: str, item_ids) -> str | None:
    """Why a stored calibration document does not describe ``RUN/<checkpoint>.pt`` with these deduction items, or
    None when it does."""
    pt = Path(run_dir) / f"{checkpoint}.pt"
    sha = doc.get("checkpoint_sha256")
    if sha is not None and pt.is_file() and sha != sha256_file(pt):
        return f"it was made for another {checkpoint}.pt (SHA-256 {str(sha)[:12]}..., the file now is another)"
    d = doc.get("deductions")
    if d and list(d.get("item_ids") or []) != list(item_ids):
        return (
            f"its deduction items ({len(d.get('item_ids') or [])}: {', '.join((d.get('item_ids') or [])[:4])}...) "
            f"are not the model's ({len(item_ids)}: {', '.join(list(item_ids)[:4])}...)"
        )
    return None


def write_calibration(run_dir, checkpoint: str, doc: dict, ck: dict) -> dict:
    """Write ``doc`` (:func:`build_calibration` of ``RUN/<checkpoint>.pt``, whose checkpoint dict is ``ck``) as
    ``RUN/calibration-<checkpoint>.json``; returns it with the checkpoint's name, epoch and SHA-256."""

    pt = Path(run_dir) / f"{checkpoint}.pt"
    doc = {
        **doc,
        "checkpoint": checkpoint,
        "epoch": int(ck.get("epoch", -1)) + 1,
        "checkpoint_sha256": sha256_file(pt) if pt.is_file() else None,
    }
    atomic_write_json(calibration_path(run_dir, checkpoint), clean_json(doc))
    return doc


def read_calibration(run_dir, checkpoint: str = "best") -> dict | None:
    """The stored calibration document of this version, or None (missing, unreadable or older)."""

    path = calibration_path(run_dir, checkpoint)
    if path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("version") == VERSION:
                return doc
        except (OSError, ValueError):
            pass
    return None
