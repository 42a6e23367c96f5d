"""From model outputs to metrics and per-record predictions.

* :func:`collect_outputs` runs a model over a split (eval mode, no gradients) -> numpy arrays.
* :func:`official_scores` composes the reported score with the rules engine: a consensus judge whose marks are the
  predicted Air/Form/Landing rounded to the 0.1 grid, five such judges -> ``rules.score_aerials`` (J x DD,
  truncated); legacy 7-judge data -> ``rules.score_aerials_legacy``; models without components -> the model score
  truncated (aerials) or rounded half-up (diving) to 2 decimals.
* :func:`compute_metrics` calls ``judgemind.evaluate`` (the only place metrics are computed).
* :func:`prediction_records` builds the JSONL lines of ``judgemind evaluate`` / ``predict``.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import torch

from judgemind.models.base import DataInfo

COMPONENTS = ("air", "form", "landing")
STAGES = ("takeoff", "flight", "landing")
_TOP = {"air": Decimal("2.0"), "form": Decimal("5.0"), "landing": Decimal("3.0")}


@torch.no_grad()
def collect_outputs(model: torch.nn.Module, ds, batch_size: int, device: torch.device) -> dict[str, np.ndarray]:
    """Run ``model`` over every row of ``ds`` (a FeatureDataset). Keys: score (N,), and when the model gives them
    components (N,3), bounds (N,2), deduction_probs / deduction_step (N,K), band_probs_<component> (N,n_bands),
    stage_scores (N,3), gates (N,3)."""
    was = model.training
    model.eval()
    parts: dict[str, list] = {}
    for start in range(0, len(ds), batch_size):
        idx = torch.arange(start, min(start + batch_size, len(ds)))
        batch = {k: v.to(device) for k, v in ds.batch(idx).items()}
        out = model(batch)
        got = {"score": out.score, "components": out.components, "bounds": out.bounds,
               "stage_scores": out.stage_scores, "deduction_step": out.deduction_step,
               "deduction_probs": None if out.deduction_logits is None else torch.sigmoid(out.deduction_logits),
               "gates": out.extra.get("gates")}
        for c, logits in (out.band_logits or {}).items():
            got[f"band_probs_{c}"] = torch.softmax(logits, -1)
        for k, v in got.items():
            if v is not None:
                parts.setdefault(k, []).append(v.detach().float().cpu() if v.is_floating_point() else v.cpu())
    model.train(was)
    return {k: torch.cat(v).numpy() for k, v in parts.items()}


def to_mark(value: float, component: str) -> Decimal:
    """A predicted component on the judges' grid: clipped to its range, rounded half-up to 0.1."""
    v = Decimal(repr(min(max(float(value), 0.0), float(_TOP[component]))))
    return v.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def official_score(raw: float, dd: Decimal, scoring: str, components=None) -> Decimal:
    """The reported score of one video (see the module docstring)."""
    from judgemind import rules

    if components is not None and scoring == "aerials5" and np.isfinite(components).all():
        judge = tuple(to_mark(v, c) for v, c in zip(components, COMPONENTS))
        return rules.score_aerials([judge] * 5, dd).score
    if components is not None and scoring == "aerials7" and np.isfinite(components).all():
        af = min(to_mark(components[0], "air") + to_mark(components[1], "form"), Decimal("7.0"))
        return rules.score_aerials_legacy([af] * 5, [to_mark(components[2], "landing")] * 2, dd).score
    raw_d = Decimal(repr(max(float(raw), 0.0)))
    return rules.round_half_up2(raw_d) if scoring == "diving" else rules.truncate2(raw_d)


def official_scores(outputs: dict, records, info: DataInfo) -> np.ndarray:
    comps = outputs.get("components")
    return np.array([float(official_score(outputs["score"][i], r.dd, info.scoring,
                                          None if comps is None else comps[i]))
                     for i, r in enumerate(records)])


def _stage_segments(bounds: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """(N, 2) bounds + (N,) lengths -> (N, 3, 2) [start, end) per stage."""
    z = np.zeros_like(lengths)
    return np.stack([np.stack([z, bounds[:, 0]], 1), bounds, np.stack([bounds[:, 1], lengths], 1)], 1)


def compute_metrics(outputs: dict, ds, info: DataInfo) -> dict:
    """Metrics of one split via ``judgemind.evaluate``: ``score`` (the model's continuous score; ``rho`` there
    selects checkpoints), ``final`` (the rules-engine score that is reported), ``components``, ``segmentation``,
    ``deductions`` -- whichever the model predicts and the data has."""
    from judgemind import evaluate as ev

    t = ds.tensors
    true = t["score"].numpy().astype(np.float64)
    m: dict = {"score": ev.evaluate_scores(outputs["score"], true),
               "final": ev.evaluate_scores(official_scores(outputs, ds.records, info), true)}
    if "components" in outputs:
        truth = t["components"].numpy()
        keep = {c: np.isfinite(truth[:, i]) for i, c in enumerate(COMPONENTS)}
        pred = {c: outputs["components"][keep[c], i] for i, c in enumerate(COMPONENTS) if keep[c].sum() >= 2}
        if pred:
            m["components"] = ev.per_stage_metrics(pred, {c: truth[keep[c], i] for i, c in enumerate(COMPONENTS)
                                                          if c in pred})
    if "bounds" in outputs:
        lengths = t["mask"].sum(1).numpy()
        pb, tb = outputs["bounds"].astype(np.float64), t["bounds"].numpy().astype(np.float64)
        m["segmentation"] = {"flight": ev.aiou(pb, tb),
                             "stagewise": ev.stagewise_aiou(_stage_segments(pb, lengths),
                                                           _stage_segments(tb, lengths)),
                             "boundary_mae_steps": ev.boundary_mae(pb, tb)}
    if "deduction_probs" in outputs and t["deductions"].shape[1] and t["deductions"].sum() > 0:
        m["deductions"] = ev.deduction_map(outputs["deduction_probs"], t["deductions"].numpy(), info.item_ids)
    return m


def headline(metrics: dict) -> dict[str, float]:
    """The few numbers that go into log.jsonl and the console."""
    h = {"rho": metrics["score"]["rho"], "rl2_x100": metrics["score"]["rl2_x100"], "l2": metrics["score"]["l2"],
         "final_rho": metrics["final"]["rho"], "final_rl2_x100": metrics["final"]["rl2_x100"]}
    if "segmentation" in metrics:
        h["aiou@0.5"] = metrics["segmentation"]["flight"]["aiou@0.5"]
    if "deductions" in metrics:
        h["deduction_map"] = metrics["deductions"]["map"]
    return h


def _r(x, nd=4):
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def prediction_records(outputs: dict, ds, info: DataInfo, split: str) -> list[dict]:
    """One JSON-ready dict per record: predicted score (rules engine) and its parts, with the truth."""
    from judgemind.rules import GRADE_BANDS

    final = official_scores(outputs, ds.records, info)
    t = ds.tensors
    lines = []
    for i, rec in enumerate(ds.records):
        fi = t["frame_index"][i].tolist()
        L = int(t["mask"][i].sum())
        d: dict = {"id": rec.id, "split": split, "action_code": rec.action_code, "dd": float(rec.dd),
                   "score": float(final[i]), "score_raw": _r(outputs["score"][i])}
        if "components" in outputs:
            d["components"] = {c: _r(outputs["components"][i, k]) for k, c in enumerate(COMPONENTS)}
        bands = {}
        for c in COMPONENTS:
            probs = outputs.get(f"band_probs_{c}")
            if probs is not None:
                b = GRADE_BANDS[c][int(probs[i].argmax())]
                bands[c] = {"band": b.label, "name": b.name, "prob": _r(probs[i].max()),
                            "probs": [_r(p) for p in probs[i]]}
        if bands:
            d["bands"] = bands
        if "bounds" in outputs:
            b1, b2 = (int(x) for x in outputs["bounds"][i])
            d["bounds"] = [b1, b2]
            d["stage_steps"] = {"takeoff": [0, b1], "flight": [b1, b2], "landing": [b2, L]}
            d["stage_start_frames"] = {"takeoff": fi[0], "flight": fi[b1], "landing": fi[b2]}
        if "stage_scores" in outputs:
            d["stage_scores"] = {s: _r(outputs["stage_scores"][i, k]) for k, s in enumerate(STAGES)}
        if "gates" in outputs:
            d["foreground_gate"] = {s: _r(outputs["gates"][i, k]) for k, s in enumerate(STAGES)}
        if "deduction_probs" in outputs:
            order = np.argsort(-outputs["deduction_probs"][i], kind="stable")
            d["deductions"] = [{"item": info.item_ids[k], "prob": _r(outputs["deduction_probs"][i, k]),
                                "evidence_step": int(outputs["deduction_step"][i, k]),
                                "evidence_frame": fi[int(outputs["deduction_step"][i, k])]} for k in order]
        comps = t["components"][i].tolist()
        d["truth"] = {"score": float(rec.final_score), "bounds": t["bounds"][i].tolist(),
                      "components": {c: (None if not np.isfinite(v) else round(v, 4))
                                     for c, v in zip(COMPONENTS, comps)},
                      "deductions": [x.item for x in rec.deductions]}
        lines.append(d)
    return lines
