"""From model outputs to metrics: what training validates with and evaluation, bench and calibration reuse.

* :func:`collect_outputs` runs a model over a split (eval mode, no gradients) -> numpy arrays.
* :func:`official_scores` composes the reported score of every row with the one composer,
  :func:`judgemind.rules.compose_official` (consensus judge on the 0.1 grid, J x DD truncated; legacy 7-judge and
  diving formats; predicted contact never caps the landing mark).
* :func:`compute_metrics` calls ``judgemind.evaluate`` (the only place metrics are computed); :func:`headline` is
  its flat view (log.jsonl, the console, the bench's tables).
"""

from __future__ import annotations

import numpy as np
import torch

from judgemind import evaluate as ev
from judgemind.evaluate import deductions as ded
from judgemind.models.base import DataInfo
from judgemind.rules import COMPONENTS, compose_official


@torch.no_grad()
def collect_outputs(model: torch.nn.Module, ds, batch_size: int, device: torch.device) -> dict[str, np.ndarray]:
    """Run ``model`` over every row of ``ds`` (a FeatureDataset). Keys: score (N,), and when the model gives them
    components (N,3), bounds (N,2), deduction_probs / deduction_step (N,K) (the head's raw output: see
    ``judgemind.runs.calibrate`` for what makes it a probability), item_points (N,K) (the points each item would
    cost if it occurred), band_probs_<component> (N,n_bands), stage_scores (N,3), gates (N,3)."""
    was = model.training
    model.eval()
    parts: dict[str, list] = {}
    for start in range(0, len(ds), batch_size):
        idx = torch.arange(start, min(start + batch_size, len(ds)))
        batch = {k: v.to(device) for k, v in ds.batch(idx).items()}
        for k, v in batch_outputs(model(batch)).items():
            parts.setdefault(k, []).append(v)
    model.train(was)
    return {k: np.concatenate(v) for k, v in parts.items()}


def batch_outputs(out) -> dict[str, np.ndarray]:
    """The arrays of one batch's ``ModelOutput`` that :func:`collect_outputs` gathers (same keys; first dimension
    the batch)."""
    got = {
        "score": out.score,
        "components": out.components,
        "bounds": out.bounds,
        "stage_scores": out.stage_scores,
        "deduction_step": out.deduction_step,
        "deduction_probs": None if out.deduction_logits is None else torch.sigmoid(out.deduction_logits),
        "gates": out.extra.get("gates"),
        "item_points": out.extra.get("item_points"),
    }
    for c, logits in (out.band_logits or {}).items():
        got[f"band_probs_{c}"] = torch.softmax(logits, -1)
    return {
        k: (v.detach().float() if v.is_floating_point() else v).cpu().numpy() for k, v in got.items() if v is not None
    }


def official_scores(outputs: dict, records, info: DataInfo) -> np.ndarray:
    """(N,) official score of every row (:func:`judgemind.rules.compose_official`) from ``outputs`` (score,
    optional components) and each record's DD."""

    comps = outputs.get("components")
    return np.array(
        [
            float(compose_official(outputs["score"][i], r.dd, info.scoring, None if comps is None else comps[i]).score)
            for i, r in enumerate(records)
        ]
    )


def _stage_segments(bounds: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(N, 2) bounds + (N,) lengths -> (N, 3, 2) [start, end) per stage."""
    z = np.zeros_like(lengths)
    return np.stack([np.stack([z, bounds[:, 0]], 1), bounds, np.stack([bounds[:, 1], lengths], 1)], 1)


UNCALIBRATED_THRESHOLD = 0.3  # what a run without deduction calibration lists (its raw scores are not probabilities)


def deduction_probs(outputs: dict, rule) -> tuple[np.ndarray, list[float] | None, list | None]:
    """``(probabilities or raw scores (N, K), thresholds, groups)`` of the items: calibrated with ``rule``
    (``judgemind.runs.calibrate.deduction_rule``: params, thresholds, groups), else the raw scores and None."""
    raw = outputs["deduction_probs"]
    if rule is None:
        return raw, None, None
    params, ths, groups = rule
    return ded.apply_calibration(raw, params), ths, groups


def compute_metrics(outputs: dict, ds, info: DataInfo, deduction_rule=None, groups=None) -> dict:
    """Metrics of one split via ``judgemind.evaluate``: ``score`` (the model's continuous score; ``rho`` there
    selects checkpoints), ``final`` (the rules-engine score that is reported), ``components``, ``segmentation``,
    ``deductions`` -- whichever the model predicts and the data has. ``deductions`` holds mAP and per-item AP, and
    precision / recall / ECE / items per clean stage of the sheet's listing
    (:func:`judgemind.evaluate.deductions.deduction_report`): with ``deduction_rule`` (a run's calibration) on the
    calibrated probabilities at their thresholds (``calibrated`` true), else on the raw scores at
    :data:`UNCALIBRATED_THRESHOLD` with the exclusive ``groups`` (catalogue) given."""

    t = ds.tensors
    true = t["score"].numpy().astype(np.float64)
    m: dict = {
        "score": ev.evaluate_scores(outputs["score"], true),
        "final": ev.evaluate_scores(official_scores(outputs, ds.records, info), true),
    }
    if "components" in outputs:
        truth = t["components"].numpy()
        keep = {c: np.isfinite(truth[:, i]) for i, c in enumerate(COMPONENTS)}
        pred = {c: outputs["components"][keep[c], i] for i, c in enumerate(COMPONENTS) if keep[c].sum() >= 2}
        if pred:
            m["components"] = ev.per_stage_metrics(
                pred, {c: truth[keep[c], i] for i, c in enumerate(COMPONENTS) if c in pred}
            )
    if "bounds" in outputs:
        lengths = t["mask"].sum(1).numpy()
        pb, tb = outputs["bounds"].astype(np.float64), t["bounds"].numpy().astype(np.float64)
        m["segmentation"] = {
            "flight": ev.aiou(pb, tb),
            "stagewise": ev.stagewise_aiou(_stage_segments(pb, lengths), _stage_segments(tb, lengths)),
            "boundary_mae_steps": ev.boundary_mae(pb, tb),
        }
    if "deduction_probs" in outputs and t["deductions"].shape[1] and t["deductions"].sum() > 0:
        probs, ths, grp = deduction_probs(outputs, deduction_rule)
        K = probs.shape[1]
        ths = ths if ths is not None else [UNCALIBRATED_THRESHOLD] * K
        grp = grp if deduction_rule is not None else groups
        rep = ded.deduction_report(probs, t["deductions"].numpy(), info.item_ids, info.item_stages, ths, grp)
        m["deductions"] = {**rep, "calibrated": deduction_rule is not None}
    return m


def headline(metrics: dict, detail: bool = False) -> dict[str, float]:
    """The few numbers that go into log.jsonl and the console (fractions, as ``compute_metrics`` gives them).
    ``detail`` adds each component's rho (``air_rho``, ...) and ``aiou@0.75`` (the bench's columns)."""
    h = {
        "rho": metrics["score"]["rho"],
        "rl2_x100": metrics["score"]["rl2_x100"],
        "l2": metrics["score"]["l2"],
        "final_rho": metrics["final"]["rho"],
        "final_rl2_x100": metrics["final"]["rl2_x100"],
    }
    if detail:
        for c in COMPONENTS:
            if c in metrics.get("components", {}):
                h[f"{c}_rho"] = metrics["components"][c]["rho"]
    if "segmentation" in metrics:
        h["aiou@0.5"] = metrics["segmentation"]["flight"]["aiou@0.5"]
        if detail:
            h["aiou@0.75"] = metrics["segmentation"]["flight"]["aiou@0.75"]
    if "deductions" in metrics:
        d = metrics["deductions"]
        h["deduction_map"] = d["map"]
        if d.get("calibrated"):  # the sheet's listing; uncalibrated raw scores' listing is not reported as such
            h.update(
                ded_precision=d["precision"],
                ded_recall=d["recall"],
                ded_ece=d["ece"],
                ded_clean_items=d["clean_items"],
            )
    return h
