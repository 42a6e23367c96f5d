"""Predicting a data set with a loaded run: ``judgemind evaluate`` (metrics + predictions of one split of the run's
data set) and ``judgemind predict`` (predictions of any data set with the run's features).

    run = load_run("runs/x", "best")
    ev = evaluate_split(run, "test")             # Evaluation(doc, lines): metrics.json and predictions.jsonl
    lines = predict_dataset(run, "data/other", "all")

The documents are returned, not written: ``judgemind.report.predictions`` writes them. Official scores come from
the one composer (``judgemind.rules.compose_official``) through ``judgemind.runs.outputs.official_scores``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from judgemind.data import STAGES
from judgemind.evaluate import deductions as ded
from judgemind.infer.run import LoadedRun, load_calibration, load_run_split
from judgemind.rules import COMPONENTS, GRADE_BANDS
from judgemind.runs import calibrate as C
from judgemind.runs.batch import open_features
from judgemind.runs.calibrate import deduction_rule, item_groups
from judgemind.runs.folder import read_log
from judgemind.runs.intervals import kinds as interval_kinds
from judgemind.runs.intervals import row_intervals, split_coverage, split_signals
from judgemind.runs.outputs import (
    UNCALIBRATED_THRESHOLD,
    collect_outputs,
    compute_metrics,
    deduction_probs,
    official_scores,
)


@dataclass
class Evaluation:
    """``doc``: what metrics.json holds (run, model, checkpoint, epoch, data set, split, n, synthetic, metrics,
    intervals, best_epoch_on_test); ``lines``: one prediction per record (:func:`prediction_records`)."""

    doc: dict
    lines: list[dict]


def evaluate_split(run: LoadedRun, split: str = "test", features: str | None = None) -> Evaluation:
    """Metrics and predictions of a run's checkpoint on one split of its own data set (with ``features``: from
    another feature cache of the same layout, e.g. predicted skeletons for a model trained on annotated ones)."""

    cfg = run.cfg
    ds, dataset = load_run_split(run, cfg.data.dataset, split, features)
    outputs = collect_outputs(run.model, ds, cfg.run.eval_batch_size, run.device)
    if not cfg.run.end_to_end:  # a stored calibration of another checkpoint is made again here (not refused)
        run._calibration = load_calibration(run, recalibrate=True)
    rule = run_deduction_rule(run)
    doc = {
        "run": str(run.run_dir),
        "model": cfg.model_name,
        "checkpoint": run.checkpoint,
        "epoch": run.ck["epoch"] + 1,
        "dataset": cfg.data.dataset,
        "features": features or cfg.data.features,
        "trained_on_features": cfg.data.features,
        "split": split,
        "n": len(ds),
        "synthetic": bool(dataset.meta.synthetic),
        "metrics": compute_metrics(outputs, ds, run.info, rule, item_groups(run.info.item_ids)),
        "note": "score.rho is the model's continuous score (used for checkpoint selection on val); final.* is the "
        "reported score composed by the rules engine (consensus judge, J x DD truncated)",
    }
    tests = [(x["test"]["rho"], x["epoch"]) for x in read_log(run.run_dir) if x.get("test")]
    if tests:
        rho, ep = max(tests, key=lambda t: -math.inf if t[0] is None else t[0])
        doc["best_epoch_on_test"] = {
            "rho": rho,
            "epoch": ep,
            "note": "the field's protocol (epoch chosen on the "
            "test split); not a held-out estimate, reported for comparison only",
        }
    signals = run_signals(run, ds, outputs)
    if not cfg.run.end_to_end:
        doc["intervals"] = stored_interval_coverage(run, outputs, ds, signals)
    lines = prediction_records(outputs, ds, run.info, split, rule, row_intervals_of(run, outputs, ds, signals))
    checks = add_checks(run, dataset, features, ds, lines)
    if checks is not None:
        doc["is_this_a_jump"] = checks
    if "deductions" in doc["metrics"]:
        doc["deductions_note"] = (
            "deductions: mAP and per-item AP rank the items; precision, recall, ece and clean_items (items listed "
            "per (jump, stage) in which the panel took nothing) are of the judge sheet's listing: "
            + (
                "calibrated probabilities at each item's threshold (calibration-<checkpoint>.json, val's calib half)"
                if rule is not None
                else f"UNCALIBRATED raw scores at {UNCALIBRATED_THRESHOLD} (the run has no deduction calibration)"
            )
        )
    return Evaluation(doc, lines)


def run_deduction_rule(run: LoadedRun):
    """The deduction calibration of a loaded run (:func:`judgemind.runs.calibrate.deduction_rule`) or None."""
    if run.cfg.run.end_to_end or not run.info.item_ids:
        return None
    return deduction_rule(run.calibration[0], run.info.item_ids)


def predict_dataset(run: LoadedRun, dataset_path: str | os.PathLike, split: str = "all") -> list[dict]:
    """Predictions (one dict per record) of a run's checkpoint on any data set with the run's features."""

    ds, dataset = load_run_split(run, dataset_path, split)
    outputs = collect_outputs(run.model, ds, run.cfg.run.eval_batch_size, run.device)
    rows = row_intervals_of(run, outputs, ds, run_signals(run, ds, outputs))
    lines = prediction_records(outputs, ds, run.info, split, run_deduction_rule(run), rows)
    add_checks(run, dataset, None, ds, lines)
    return lines


def add_checks(run: LoadedRun, dataset, features: str | None, ds, lines: list[dict]) -> dict | None:
    """Add to every prediction line "is this an aerials jump?" (``jump_check``: ``is_jump``, ``margin``, the failed
    and unmeasured sub-tests and each sub-test's margin; from the skeleton track stored with the record's features,
    :func:`judgemind.runs.calibrate.jump_check`) and the softer ``feature_check`` ("features unlike training",
    with the run's calibration); returns the split's summary (None for an end-to-end run, which has no cache)."""
    if run.cfg.run.end_to_end:
        return None
    cal = run.calibration[0]
    ood = (cal or {}).get("ood")
    cache = open_features(dataset, features or run.cfg.data.features)
    t = ds.tensors
    n_jump = n_flag = n_unknown = n_unlike = 0
    margins = []
    for i, (rec, line) in enumerate(zip(ds.records, lines)):
        jump = C.jump_check(C.track_of(cache.load(rec.id), str(cache.path(rec.id))), cal)
        if jump is not None:
            line["jump_check"] = {
                "is_jump": jump["is_jump"],
                "margin": jump["margin"],
                "failed": jump["failed"],
                "not_measured": jump["not_measured"],
                "margins": {k: e["margin"] for k, e in jump["tests"].items()},
            }
            n_jump += jump["is_jump"] is True
            n_flag += jump["is_jump"] is False
            n_unknown += jump["is_jump"] is None
            if jump["margin"] is not None:
                margins.append(jump["margin"])
        if ood is not None:
            L = int(t["mask"][i].sum())
            vec = C.pooled_tokens(t["global"][i, :L].numpy(), t["foreground"][i, :L].numpy())
            fc = C.feature_check(
                C.feature_distance(vec, np.asarray(ood["feature_center"]), np.asarray(ood["feature_scale"])), ood
            )
            line["feature_check"] = fc
            n_unlike += bool(fc and fc["unlike_training"])
    out: dict = {"n": len(lines), "features_unlike_training": n_unlike if ood is not None else None}
    if n_jump + n_flag + n_unknown:
        out.update(
            is_jump=n_jump,
            flagged=n_flag,
            not_measurable=n_unknown,
            margin_min=min(margins) if margins else None,
            margin_median=float(np.median(margins)) if margins else None,
        )
    else:
        out["note"] = "the features carry no skeleton track: the structural jump check cannot run"
    return out


def row_intervals_of(run: LoadedRun, outputs: dict, ds, signals: dict | None) -> list[dict] | None:
    """Each record's 90 % intervals (``judgemind.runs.intervals.row_intervals``) with their ``kind``, or None
    for a run without calibration."""
    cal = None if run.cfg.run.end_to_end else run.calibration[0]
    if cal is None:
        return None
    kind = interval_kinds(cal)
    return [{**r, "kind": kind} for r in row_intervals(cal, outputs, ds, run.info, signals)]


def run_signals(run: LoadedRun, ds, outputs: dict) -> dict | None:
    """The interval signals of a split (``judgemind.runs.intervals.split_signals``) that the run's calibration
    needs, or None without a calibration (end-to-end runs, or none could be made)."""
    if run.cfg.run.end_to_end:
        return None
    cal = run.calibration[0]
    if cal is None:
        return None
    ref = (cal.get("interval_signals") or {}).get("sensitivity")
    return split_signals(run.model, ds, outputs, ref, run.device, run.cfg.run.eval_batch_size)


def stored_interval_coverage(run: LoadedRun, outputs: dict, ds, signals: dict | None) -> dict:
    """Empirical coverage and mean width on this split of the run's 90 % conformal intervals (calibrated on val's
    calib half, computed and stored now if the run has none yet): per key, of the stored intervals (``kind``
    adaptive or constant) and, under ``constant``, of the constant-width interval of the same calib half."""

    cal, note = run.calibration
    if cal is None:
        return {"note": note}
    return {
        "calibrated_on": f"{cal['split']} ({cal['n']} videos)",
        "level": 1 - cal["alpha"],
        **split_coverage(cal, outputs, ds, run.info, signals),
    }


def _r(x, nd=4):
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


def prediction_records(outputs: dict, ds, info, split: str, rule=None, intervals=None) -> list[dict]:
    """One JSON-ready dict per record: predicted score (rules engine) and its parts, with the truth. With a
    deduction calibration ``rule`` each item also has its calibrated probability (``prob_calibrated``) and whether
    the sheet would list it (``listed``); ``intervals``: one dict per record (:func:`row_intervals_of`)."""

    final = official_scores(outputs, ds.records, info)
    if "deduction_probs" in outputs and rule is not None:
        cal, ths, groups = deduction_probs(outputs, rule)
        shown = ded.listed(cal, ths, groups)
    t = ds.tensors
    lines = []
    for i, rec in enumerate(ds.records):
        fi = t["frame_index"][i].tolist()
        L = int(t["mask"][i].sum())
        d: dict = {
            "id": rec.id,
            "split": split,
            "action_code": rec.action_code,
            "dd": float(rec.dd),
            "score": float(final[i]),
            "score_raw": _r(outputs["score"][i]),
        }
        if "components" in outputs:
            d["components"] = {c: _r(outputs["components"][i, k]) for k, c in enumerate(COMPONENTS)}
        if intervals is not None:
            d["intervals"] = intervals[i]
        bands = {}
        for c in COMPONENTS:
            probs = outputs.get(f"band_probs_{c}")
            if probs is not None:
                b = GRADE_BANDS[c][int(probs[i].argmax())]
                bands[c] = {
                    "band": b.label,
                    "name": b.name,
                    "prob": _r(probs[i].max()),
                    "probs": [_r(p) for p in probs[i]],
                }
        if bands:
            d["bands"] = bands
        if "bounds" in outputs:
            b1, b2 = (int(x) for x in outputs["bounds"][i])
            d["bounds"] = [b1, b2]
            d["stage_steps"] = dict(zip(STAGES, ([0, b1], [b1, b2], [b2, L])))
            d["stage_start_frames"] = dict(zip(STAGES, (fi[0], fi[b1], fi[b2])))
        if "stage_scores" in outputs:
            d["stage_scores"] = {s: _r(outputs["stage_scores"][i, k]) for k, s in enumerate(STAGES)}
        if "gates" in outputs:
            d["foreground_gate"] = {s: _r(outputs["gates"][i, k]) for k, s in enumerate(STAGES)}
        if "deduction_probs" in outputs:
            order = np.argsort(-outputs["deduction_probs"][i], kind="stable")
            d["deductions"] = [
                {
                    "item": info.item_ids[k],
                    "prob": _r(outputs["deduction_probs"][i, k]),
                    "evidence_step": int(outputs["deduction_step"][i, k]),
                    "evidence_frame": fi[int(outputs["deduction_step"][i, k])],
                }
                | ({"prob_calibrated": _r(cal[i, k]), "listed": bool(shown[i, k])} if rule is not None else {})
                for k in order
            ]
        comps = t["components"][i].tolist()
        d["truth"] = {
            "score": float(rec.final_score),
            "bounds": t["bounds"][i].tolist(),
            "components": {c: (None if not np.isfinite(v) else round(v, 4)) for c, v in zip(COMPONENTS, comps)},
            "deductions": [x.item for x in rec.deductions],
        }
        lines.append(d)
    return lines
