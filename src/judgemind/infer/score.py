"""Score one video end to end: decode -> locate -> features -> model -> rules (the one composer) -> a result.

    run = load_run("runs/x/best.pt")
    result, assets = score_video(run, "jump.mp4", action_code="bFdFF")
    # judgemind.report.score_outputs.write_score_outputs(result, assets, "out/") writes result.json + sheet.html

:func:`score_video` re-creates the feature extractor the checkpoint was trained on (from the feature-cache manifest
stored with the run), so the model sees the same kind of tokens it was trained with. When the video belongs to a
FineSkiing data set, the record's athlete boxes and camera cuts are used; otherwise the athlete is found by a
locator (``locator``) and camera cuts by a frame-difference detector (:mod:`judgemind.infer.target`).

The official score is :func:`judgemind.rules.compose_official` of the model's output, exactly as ``judgemind
evaluate`` composes it: the same video gets the same official score from both commands. Predicted landing contact
never caps the landing mark (see ``judgemind.rules.compose``); when the model sees a capping fault, the result says
so in ``landing_cap_note``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import inspect
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import torch

from judgemind import rules
from judgemind.data import STAGES, load_dataset
from judgemind.data.result import ScoreResult
from judgemind.data.track import PREFIX as TRACK_PREFIX
from judgemind.data.track import SkeletonTrack
from judgemind.errors import CheckpointError, JudgemindError, UnknownJumpCode
from judgemind.evaluate import deductions as ded
from judgemind.features.base import extractor_class, get_extractor
from judgemind.features.pipeline import extract_record
from judgemind.infer.evidence import SHEET_SHORT_SIDE, evidence_steps, sheet_frame_indices, sheet_thumbnails
from judgemind.infer.run import LoadedRun
from judgemind.infer.target import CUT_SHORT_SIDE, Target, cached, cuts_of, find_dataset_record, resolve_target
from judgemind.pose.refiner import refiner_sha256, shipped_refiner
from judgemind.rules import COMPONENT_MAX, COMPONENTS, J_MAX, describe_code, load_catalogue
from judgemind.runs import calibrate as C
from judgemind.runs.batch import video_batch
from judgemind.runs.intervals import interval_of, interval_signals, sensitivity
from judgemind.runs.intervals import kinds as interval_kinds
from judgemind.runs.outputs import UNCALIBRATED_THRESHOLD, batch_outputs
from judgemind.utils import display_text
from judgemind.version import __version__
from judgemind.video.decode import open_video
from judgemind.video.locators import get_locator


def score_video(
    run: LoadedRun,
    video: str | os.PathLike,
    *,
    action_code: str | None = None,
    dd: str | None = None,
    start: int | None = None,
    end: int | None = None,
    locator: str | None = None,
    weights: str | None = None,
    threshold: float | None = None,
    use_dataset: bool = True,
    perception: str | None = None,
) -> tuple[ScoreResult, dict]:
    """Score one jump with a loaded run. Returns ``(result, assets)``: the :class:`ScoreResult` (its ``to_json()`` is
    what result.json holds) and what the judge sheet needs beside it (``boxes`` {frame: box}, ``stage_probs`` (T, 3) or
    None,
    ``video_path``, ``thumbnails``: :func:`sheet_thumbnails`). ``perception``: how a skeleton-based run reads the
    video (:func:`build_extractor`). ``threshold``: list every deduction item whose probability reaches it, instead
    of each item's own threshold (the run's calibration) or, for a run without deduction calibration,
    :data:`judgemind.runs.outputs.UNCALIBRATED_THRESHOLD` on the head's raw scores."""

    manifest = scoring_manifest(run)
    extractor, fcfg = build_extractor(manifest, weights, perception)
    # the video is decoded once (:func:`decode_once`): cuts are found from that pass, never by a second one
    target = resolve_target(video, action_code, dd, start, end, use_dataset, cuts=False)
    trained_locator = fcfg.get("locator", "mediapipe")
    if extractor.finds_athlete:
        # learned perception (aerialspose): boxes, cuts and joints all come from the pixels, never the record
        if locator:
            raise JudgemindError(
                f"the model reads {extractor.name!r} features, which find the athlete themselves; "
                f"drop --locator {locator}"
            )
        loc_name, loc = trained_locator, None
    else:
        loc_name, loc = _locator(video, locator, target, trained_locator, fcfg)
    if not extractor.needs_video:  # e.g. annotated skeletons: read from the video's data set, not its pixels
        feats = _annotation_features(extractor, video, start, end)
        decoded = decode_once(target, feats["frame_index"])
    else:
        find = not extractor.finds_athlete and target.extra.get("record") is None  # a loose video: find its cuts
        plan = extractor.plan(*target.frames)
        decoded = decode_once(target, plan.steps, (plan.decode, extractor.short_side), find)
        if find:
            target = dataclasses.replace(target, cuts=cuts_of(decoded.pop("cuts")))
        feats = extract_record(extractor, loc, target.video, target, images=decoded.pop("work"))
    if "cuts" in feats:  # cuts the extractor found in the video replace the record's or the detector's
        target = dataclasses.replace(target, cuts=tuple(int(c) for c in feats["cuts"]))
    batch = video_batch(feats, target.action_code, target.dd, target.cuts, run.info)
    with torch.no_grad():
        out = run.model({k: v.to(run.device) for k, v in batch.items()})
    out_np = _numpy(out)
    out_np["interval_signals"] = jump_signals(run, out, batch, target)
    rule = None
    if out_np["deduction_probs"] is not None:  # (a calibration of another checkpoint is refused here)
        rule = C.deduction_rule(run.calibration[0], run.info.item_ids)
        if rule is not None:
            out_np["deduction_calibrated"] = ded.apply_calibration(out_np["deduction_probs"], rule[0])
    res = compose_result(out_np, target, run.info)
    fi = feats["frame_index"].astype(np.int64)
    stage_probs = out_np["stage_probs"]
    stages = stage_frames(out_np["bounds"], fi, target.frames)
    evidence = deduction_evidence(
        out_np, fi, run.info, rule, threshold, run.calibration[0], cuts=target.cuts, fps=target.extra.get("fps")
    )
    cfg, ck = run.cfg, run.ck
    data_meta = _training_data(cfg)

    result = {
        "video": display_text(target.video),
        "video_name": display_text(Path(target.video).name),
        "frames": list(target.frames),
        "fps": target.extra.get("fps"),
        "action_code": target.action_code,
        "code_description": describe(target.action_code),
        "dd": str(target.dd),
        **res,
        **{k: evidence.get(k) for k in ("all_deduction_probs", "all_deduction_scores")},
        "stages": stages,
        "deductions": evidence["deductions"],
        "deduction_threshold": evidence.get("deduction_threshold"),
        "deduction_calibration": evidence.get("deduction_calibration"),
        "cuts": list(target.cuts),
        "steps": {
            "frame_index": fi.tolist(),
            "stage_probs": None if stage_probs is None else np.round(stage_probs, 4).tolist(),
        },
        "provenance": {
            "model": cfg.model_name,
            "checkpoint": display_text(run.source),
            "training_data": data_meta["name"],
            "synthetic": data_meta["synthetic"],
            "features": f"{manifest.get('extractor')} ({cfg.data.features})",
            "locator": f"{loc_name}"
            + (
                f" (boxes and cuts from {target.source})"
                if target.source != "video" and loc is not None and loc.needs_record_boxes
                else ""
            ),
            "perception": perception_line(extractor, fcfg),
            "judgemind_version": __version__,
            "git_revision": ck.get("git_revision"),
            "scored_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        },
        "notes": [rules.explain_official(run.info.scoring, "components" if res.get("components") else "score")],
    }
    if fcfg.get("extractor") == "skeleton" and extractor.name != "skeleton":
        result["notes"].append(
            "The model was trained on annotated skeletons; this video's skeletons were predicted "
            "and refined, which it never saw: expect a lower accuracy (docs/results.md)."
        )
    if loc_name != trained_locator and not extractor.finds_athlete:
        result["notes"].append(
            f"The model was trained with locator {trained_locator!r}; this video used "
            f"{loc_name!r}, so its foreground tokens may differ from what the model saw."
        )
    judge_view(result, res, out_np, feats, target, run.calibration)
    if result["in_distribution"] is False:
        suppress_deductions(result)
    boxes = {int(f): b for f, b in zip(fi, feats.get("box", []))}
    track = SkeletonTrack.from_tensors(feats, f"{target.video} (skeleton)") if TRACK_PREFIX + "uv" in feats else None
    assets = {
        "boxes": boxes,
        "stage_probs": stage_probs,
        "video_path": str(target.video),
        "thumbnails": sheet_thumbnails(decoded["sheet"], decoded["scale"], result, boxes, track),
    }
    return ScoreResult.from_json(result), assets


def decode_once(target: Target, steps, work: tuple | None = None, find_cuts: bool = False) -> dict:
    """The score's one pass over the video (:meth:`judgemind.video.decode.VideoReader.read_sets`): ``sheet``, the
    frames the judge sheet may show (:func:`judgemind.infer.evidence.sheet_frame_indices` of the jump and its
    ``steps``) at :data:`~judgemind.infer.evidence.SHEET_SHORT_SIDE`, and ``scale``, their pixels per video pixel;
    ``work``, the extractor's frames (``work``: (its plan's frames, its short side)); ``cuts``, every frame of the
    jump small for the cut detector (``find_cuts``)."""
    reader = open_video(target.video)
    sets = {"sheet": (sheet_frame_indices(target.frames, steps)[1], SHEET_SHORT_SIDE)}
    if work is not None:
        sets["work"] = work
    if find_cuts:
        sets["cuts"] = (range(*target.frames), CUT_SHORT_SIDE)
    got: dict = reader.read_sets(sets)
    got["scale"] = next(iter(got["sheet"].values())).shape[1] / float(reader.size[0])
    return got


def _locator(video, locator: str | None, target: Target, trained_locator: str, fcfg: dict):
    """(name, locator) for an extractor that needs athlete boxes from outside."""

    if target.boxes:
        loc_name = "annotation"
    else:
        loc_name = locator or (trained_locator if trained_locator != "annotation" else "mediapipe")
    if loc_name == "annotation" and not target.boxes:
        raise JudgemindError(
            f"{video}: locator 'annotation' needs athlete boxes from a dataset record; this video "
            f"is not in a FineSkiing dataset -- pass --locator mediapipe, hog or motion"
        )
    loc_opts = dict(fcfg.get("locator_config", {})) if loc_name == trained_locator else {}
    loc_opts.pop("name", None)
    return loc_name, get_locator(loc_name, **loc_opts)


def perception_line(extractor, fcfg: dict) -> str:
    """One line for the sheet: what saw the athlete."""
    now = extractor.config()
    what = now.get("perception") or fcfg.get("perception")
    if extractor.finds_athlete:
        sha = (now.get("weights_sha256") or "")[:12]
        ref = (now.get("refiner_sha256") or "")[:12]
        return (
            f"{what}: boxes, camera cuts and joints predicted from the video"
            + (f" (AerialsPose weights sha256 {sha}...)" if sha else "")
            + (f", cleaned over time by the temporal refiner (sha256 {ref}...)" if ref else "")
        )
    return what or f"{extractor.name} features"


def describe(code: str) -> str | None:
    """The words of an aerials jump code; None for a code of another sport (a data set's dive number)."""

    try:
        return describe_code(code)
    except UnknownJumpCode:
        return None


def scoring_manifest(run: LoadedRun) -> dict:
    """The feature manifest to extract a new video's features with; errors say why a run cannot score videos."""
    if run.cfg.run.end_to_end:
        raise CheckpointError(
            f"{run.run_dir}: an end-to-end run has no feature extractor to score new videos with; "
            f"extract features with its exported backbone and train on them"
        )
    if run.manifest is None:
        mpath = Path(run.cfg.data.dataset) / "features" / run.cfg.data.features / "manifest.json"
        raise CheckpointError(
            f"{run.run_dir / (run.checkpoint + '.pt')}: the run does not record how its features "
            f"were made and {mpath} is gone; re-train with this judgemind version"
        )
    return run.manifest


def jump_signals(run: LoadedRun, out, batch: dict, target: Target) -> dict | None:
    """The difficulty signals of one jump (``judgemind.runs.intervals.interval_signals``, 1 row) that its
    adaptive intervals need, or None when the run has no calibration."""
    cal = run.calibration[0]
    if cal is None:
        return None
    ref = (cal.get("interval_signals") or {}).get("sensitivity")
    sens = None if ref is None else sensitivity(run.model, batch, ref, run.device)
    return interval_signals(batch_outputs(out), [target.action_code], [float(target.dd)], sens)


def _numpy(out) -> dict[str, Any]:
    """The model output of one video (batch of 1) as numpy arrays without the batch dimension (None if absent)."""

    def first(x):
        return (
            None if x is None else x[0].detach().float().cpu().numpy() if x.is_floating_point() else x[0].cpu().numpy()
        )

    return {
        "score": float(out.score[0]),
        "components": first(out.components),
        "bounds": first(out.bounds),
        "deduction_probs": None
        if out.deduction_logits is None
        else torch.sigmoid(out.deduction_logits[0]).float().cpu().numpy(),
        "item_points": first(out.extra.get("item_points")),
        "deduction_step": first(out.deduction_step),
        "deduction_attention": first(out.extra.get("deduction_attention")),
        "stage_probs": None
        if out.stage_logits is None
        else torch.softmax(out.stage_logits[0], -1).float().cpu().numpy(),
    }


def compose_result(out: dict, target: Target, info) -> dict:
    """The judge's numbers of one video from its model output (:func:`_numpy`): ``final_score``, ``J``, ``raw``,
    and for aerials models with components ``components`` (marks), ``components_raw`` and ``bands``."""

    comps = out["components"] if info.scoring.startswith("aerials") else None
    off = rules.compose_official(out["score"], target.dd, info.scoring, comps)
    res: dict[str, Any] = {}
    if off.source == "components":
        res["components"] = {c: str(off.marks[c]) for c in COMPONENTS}
        res["components_raw"] = {c: round(float(out["components"][k]), 4) for k, c in enumerate(COMPONENTS)}
        res["bands"] = {}
        for c in COMPONENTS:
            b = rules.band_of(c, off.marks[c])
            res["bands"][c] = {"name": b.name, "range": b.label, "description": b.description, "official": b.official}
        res["J"], res["final_score"], res["raw"] = str(off.J), str(off.score), str(off.raw)
        note = _cap_note(out, info, off.marks["landing"])
        if note:
            res["landing_cap_note"] = note
    else:
        res["J"], res["final_score"] = None, str(off.score)
    return res


def _cap_note(out: dict, info, landing: Decimal) -> str | None:
    """Say when the model sees a fault whose landing cap (deduction catalogue) is below the predicted landing mark:
    predicted contact does not cap (judgemind.rules.compose), but a judge should look."""

    probs = out.get("deduction_calibrated")
    if probs is None:
        probs = out["deduction_probs"]
    if probs is None:
        return None
    cat = load_catalogue()
    seen = [(cat.get(item), float(p)) for item, p in zip(info.item_ids, probs) if p >= 0.5]
    seen = [(it, p) for it, p in seen if it.landing_cap is not None and it.landing_cap < landing]
    if not seen:
        return None
    return (
        "the model sees "
        + ", ".join(f"{it.name} ({p:.0%}; the rules cap Landing at {it.landing_cap})" for it, p in seen)
        + f"; the predicted Landing {landing} is not capped (predicted contact never caps; check the video)"
    )


def stage_frames(bounds, fi: np.ndarray, frames: tuple[int, int]) -> dict | None:
    """Decoded stage boundaries (steps) -> {stage: [first frame, end frame)} covering ``frames``."""
    if bounds is None:
        return None
    T = len(fi)
    b1, b2 = (int(x) for x in bounds)
    b1, b2 = min(max(b1, 1), T - 2), min(max(b2, 2), T - 1)
    edges = [frames[0]] + [int((fi[b - 1] + fi[b]) // 2) + 1 for b in (b1, b2)] + [frames[1]]
    return {s: [edges[k], edges[k + 1]] for k, s in enumerate(STAGES)}


def deduction_evidence(
    out: dict,
    fi: np.ndarray,
    info,
    rule=None,
    threshold: float | None = None,
    cal: dict | None = None,
    *,
    cuts: tuple[int, ...] = (),
    fps: float | None = None,
) -> dict:
    """The judge sheet's deductions of one video (``out``: :func:`_numpy`; ``rule``:
    :func:`judgemind.runs.calibrate.deduction_rule` of the run's calibration ``cal``, or None).

    ``deductions``: the listed items (:func:`judgemind.evaluate.deductions.listed`: an item at or above its
    threshold, of an exclusive group only the most probable member), ranked by expected points (calibrated
    probability x the points the model says the item would cost) or, uncalibrated, by score; when nothing is listed,
    the most likely item alone, ``listed`` false, so the sheet still says where the model looked.
    ``all_deduction_probs``: every item's calibrated probability (None without calibration);
    ``all_deduction_scores``: every item's raw head output; ``deduction_calibration``: what the numbers mean and
    each item's threshold; ``deduction_threshold``: the one threshold used for every item (None: per item).
    Each item's evidence (:func:`judgemind.infer.evidence.evidence_steps` of its attention over the steps
    ``out["deduction_attention"]``, the camera ``cuts`` and ``fps``): ``evidence_step`` / ``evidence_frame``, the
    frame shown, ``evidence_peak_frame``, where its attention peaks (another frame when that one is just after a
    cut), and ``evidence_frames``, the strip of an item about motion (the frame alone otherwise)."""

    raw = out["deduction_probs"]
    if raw is None:
        return {"deductions": []}
    ids = list(info.item_ids)
    K = len(ids)
    cat = load_catalogue()
    if rule is not None:
        params, ths, groups = rule
        probs = out.get("deduction_calibrated")
        if probs is None:
            probs = ded.apply_calibration(raw, params)
        d = cal["deductions"]
        meta = {
            "calibrated": True,
            "calibrated_on": f"{cal.get('split')} split, {d.get('n')} videos",
            "method": d.get("method"),
            "threshold_rule": d.get("threshold_rule"),
        }
    else:
        probs, groups = None, C.item_groups(ids)
        ths = [UNCALIBRATED_THRESHOLD] * K
        meta = {
            "calibrated": False,
            "note": "this run has no deduction calibration: the numbers are the head's raw scores (trained with "
            "positive weighting, they over-state every item), not probabilities; re-run `judgemind evaluate RUN` "
            "or train again to calibrate",
        }
    if threshold is not None:
        ths = [float(threshold)] * K
    value = probs if probs is not None else raw
    shown = ded.listed(value, ths, groups)
    pts = out.get("item_points")
    exp = value * pts if probs is not None and pts is not None else None
    key = exp if exp is not None else value
    order = [int(k) for k in np.argsort(-key, kind="stable") if shown[k]] or [int(np.argmax(value))]
    T = len(fi)
    steps = out["deduction_step"] if out["deduction_step"] is not None else np.zeros(K, int)
    att = out.get("deduction_attention")
    deds = []
    for k in order:
        item = cat.get(ids[k])
        peak = min(int(steps[k]), T - 1)
        step, strip = evidence_steps(None if att is None else att[k], peak, fi, cuts, fps, item.motion)
        deds.append(
            {
                "item": item.id,
                "name": item.name,
                "stage": item.stage,
                "component": item.component,
                "group": groups[k],
                "probability": None if probs is None else round(float(probs[k]), 4),
                "score": round(float(raw[k]), 4),
                "threshold": ths[k],
                "above_threshold": bool(value[k] >= ths[k]),
                "listed": bool(shown[k]),
                "expected_points": None if exp is None else round(float(exp[k]), 3),
                "points_if_present": None if pts is None else round(float(pts[k]), 3),
                "evidence_step": step,
                "evidence_frame": int(fi[step]),
                "evidence_peak_frame": int(fi[peak]),
                "evidence_frames": [int(fi[t]) for t in strip],
                "points_range": f"{item.points_min}-{item.points_max}",
                "description": item.description,
            }
        )
    meta["thresholds"] = {i: ths[k] for k, i in enumerate(ids)}
    meta["groups"] = {g: [i for k, i in enumerate(ids) if groups[k] == g] for g in dict.fromkeys(groups) if g}
    return {
        "deductions": deds,
        "all_deduction_probs": None if probs is None else {i: round(float(probs[k]), 4) for k, i in enumerate(ids)},
        "all_deduction_scores": {i: round(float(raw[k]), 4) for k, i in enumerate(ids)},
        "deduction_threshold": None if threshold is None and rule is not None else ths[0],
        "deduction_calibration": meta,
    }


def suppress_deductions(result: dict) -> None:
    """A video flagged as not like an aerials jump lists no deduction as likely: every entry stays in the result
    (``listed`` false) and the calibration says why."""
    for d in result["deductions"]:
        d["listed"] = False
    if result.get("deduction_calibration") is not None:
        result["deduction_calibration"]["suppressed"] = (
            "the video failed the in-distribution check, so no deduction is listed as likely"
        )


PERCEPTIONS = ("aerialspose", "mediapipe")


def check_perception(perception: str | None) -> str | None:
    """``--perception``: None, or one of :data:`PERCEPTIONS` (a clear error listing them otherwise)."""
    if perception is not None and perception not in PERCEPTIONS:
        raise JudgemindError(f"--perception {perception!r} is not known; choose one of {', '.join(PERCEPTIONS)}")
    return perception


def _refiner_option(cfg: dict) -> str:
    """The refiner a ``refined`` / ``aerialspose`` cache was made with, as an extractor option: ``shipped`` when its
    sha256 is the shipped file's, else the file it names (checked)."""
    sha = cfg.get("refiner_sha256")
    if shipped_refiner().is_file() and sha == refiner_sha256(None):
        return "shipped"
    path = cfg.get("refiner_file")
    if path and Path(path).is_file() and refiner_sha256(path) == sha:
        return str(path)
    raise JudgemindError(
        f"the model reads tracks refined by a refiner file (sha256 {str(sha)[:12]}...) that is "
        f"neither the shipped refiner nor at {path!r}; put the file back or re-extract the "
        f"features with the shipped refiner"
    )


def perception_extractor(name: str, cfg: dict, perception: str | None):
    """(extractor name, options) that read a video for a run trained on ``name`` features made with ``cfg``:
    ``refined`` -> AerialsPose or MediaPipe then the same refiner; ``aerialspose`` -> the same, the estimator
    replaced by ``perception``; ``skeleton`` (annotated) with a ``perception`` -> that estimator through the shipped
    refiner (the judge was trained on annotated skeletons: a note says so)."""
    if name == "refined":
        src = (cfg.get("source_config") or {}).get("config") or {}
        opts = (
            {k: v for k, v in src.items() if k in ("steps", "dense", "smooth", "refine", "short_side")}
            if src.get("extractor") == "aerialspose"
            else {}
        )
        est = perception or (src.get("estimator") if src.get("extractor") == "aerialspose" else None) or "aerialspose"
        return "aerialspose", {
            **opts,
            "estimator": est,
            "world": cfg.get("world", True),
            "refiner": _refiner_option(cfg),
            "points": cfg.get("points", "refined"),
            "trajectory": cfg.get("trajectory", True),
        }
    if name == "skeleton" and perception:
        return "aerialspose", {
            "estimator": perception,
            "steps": cfg.get("steps", 48),
            "world": cfg.get("world", True),
            "refiner": "shipped",
        }
    if perception and name != "aerialspose":
        raise JudgemindError(
            f"--perception chooses how skeletons are read from the video; this checkpoint reads "
            f"{name!r} features, which are not skeletons"
        )
    return name, {}


def build_extractor(manifest: dict, weights: str | None = None, perception: str | None = None):
    """The feature extractor (and its stored config) that made the run's features, with the same settings; for a
    skeleton-based run, reading the video with ``perception`` (see :func:`perception_extractor`)."""

    cfg = dict(manifest.get("config", {}))
    name = manifest.get("extractor") or cfg.get("extractor")
    read_with, forced = perception_extractor(name, cfg, check_perception(perception))
    cls = extractor_class(read_with)
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    opts = {k: v for k, v in cfg.items() if k in params and k != "weights"} if read_with == name else {}
    if read_with == "aerialspose" and name == "aerialspose" and cfg.get("refiner_sha256"):
        opts["refiner"] = _refiner_option(cfg)
    opts.update(forced)
    if read_with != name:
        pass  # another extractor reads the video: its own (shipped) weights unless given
    elif cfg.get("weights_sha256") and not weights and cfg["weights_sha256"] == cls.shipped_weights_sha256():
        pass  # made with the weights that ship inside judgemind: nothing to pass
    elif cfg.get("weights_sha256"):
        if not weights:
            raise JudgemindError(
                f"the model was trained on {name} features made with a weights file "
                f"(sha256 {cfg['weights_sha256'][:12]}...); pass it with --weights"
            )
        opts["weights"] = weights
    if weights and read_with != name and opts.get("estimator", "aerialspose") == "aerialspose":
        opts["weights"] = weights
    ex = get_extractor(read_with, **opts)
    now = ex.config()
    if read_with == name and cfg.get("weights_sha256") and now.get("weights_sha256") != cfg["weights_sha256"]:
        raise JudgemindError(f"--weights {weights} is not the file the model's features were made with")
    dims, want = ex.dims(), manifest.get("dims") or {}
    if any(int(dims[k]) != int(want.get(k, dims[k])) for k in ("global", "foreground")):
        raise CheckpointError(
            f"the run's feature manifest names extractor {name!r} with dims {want}, but {name!r} "
            f"with these settings gives {dims}; the manifest does not describe the features the "
            f"model was trained on -- re-extract and re-train"
        )
    return ex, cfg


def _annotation_features(extractor, video, start, end) -> dict:
    """Features of an extractor that reads annotations (``skeleton``): the video must be a record of a FineSkiing
    data set that carries them; the record's own frames are used."""

    found = find_dataset_record(Path(video), start, end)
    if found is None:
        raise JudgemindError(
            f"{video}: this checkpoint was trained on {extractor.name!r} features, which are read "
            f"from a data set's annotations (annotated skeletons), and the video is not a record of "
            f"a FineSkiing data set; score it with a checkpoint trained on video features (e.g. "
            f"pixels), or put it in a data set with skeletons"
        )
    root, rec = found
    if (start is not None and start != rec.frames[0]) or (end is not None and end != rec.frames[1]):
        raise JudgemindError(
            f"{video}: --start/--end cannot change the frames of annotated {extractor.name!r} "
            f"features; the record {rec.id!r} covers {list(rec.frames)}"
        )
    ds = cached("dataset", root, load_dataset)
    extractor.bind(root, ds.meta, [rec])
    return extractor.encode_record(rec)


def judge_view(result: dict, res: dict, out: dict, feats: dict, target: Target, calibration) -> None:
    """Add what a judge needs beside the numbers: 90 % intervals, the in-distribution check, and the panel of an
    annotated data set with the model's error. ``out``: :func:`_numpy` of the model output; ``calibration``:
    (document or None, note)."""

    cal, note = calibration
    # intervals: split conformal around the reported score and the raw components, adapted to the jump
    iv: dict[str, Any] = {"level": 0.9}
    if cal is not None:
        dd = float(target.dd)
        top = J_MAX * dd if result.get("J") is not None else None
        sig = out.get("interval_signals")
        iv["final_score"] = interval_of(float(result["final_score"]), cal, "final_score", 0.0, top, dd, sig)
        for c, v in (res.get("components_raw") or {}).items():
            iv[c] = interval_of(float(v), cal, c, 0.0, COMPONENT_MAX[c], signals=sig)
        iv["kind"] = interval_kinds(cal)
        iv["calibrated_on"] = f"{cal.get('split')} split, {cal.get('n')} videos"
        iv["method"] = (
            "split conformal on the calib half of the validation split; 'adaptive' intervals are score +- q x "
            "sigma(jump), sigma a difficulty from the model's own outputs fitted on the select half, 'constant' "
            "ones score +- q (the final score's per unit of DD: x DD)"
        )
        if iv["final_score"] is None:
            iv["note"] = cal.get("guarantee")
    else:
        iv["note"] = note
    result["intervals"] = iv
    # is this an aerials jump? the structure of the skeleton track the model read (data.jumpcheck), then the
    # softer "features unlike training" warning
    sig: dict[str, Any] = {"track_fraction": None if target.boxes else C.track_fraction(feats)}
    L = feats["global"].shape[0]
    ood = (cal or {}).get("ood")
    if ood is not None:
        vec = C.pooled_tokens(feats["global"][:L], feats["foreground"][:L])
        sig["feature_distance"] = C.feature_distance(
            vec, np.asarray(ood["feature_center"]), np.asarray(ood["feature_scale"])
        )
    if out["stage_probs"] is not None and out["bounds"] is not None:
        sig["stage_doubt"] = C.stage_doubt(out["stage_probs"], out["bounds"])
    jump = C.jump_check(C.track_of(feats, str(target.video)), cal)
    ok, reasons = C.ood_check(sig, ood, jump)
    result["in_distribution"] = ok
    result["ood_reasons"] = reasons
    result["ood_signals"] = {k: (None if v is None else round(float(v), 4)) for k, v in sig.items()}
    result["jump_check"] = jump
    result["feature_check"] = C.feature_check(sig.get("feature_distance"), ood)
    if ood is not None:
        result["ood_thresholds"] = ood.get("thresholds")
    else:
        result["ood_note"] = "only the athlete-track check ran: the run has no calibration (" + str(note) + ")"
    rec = target.extra.get("record")
    result["panel"] = panel_of(rec, result, res) if rec is not None else None


def panel_of(rec, result: dict, res: dict) -> dict:
    """The annotated panel of a data-set record beside the model: marks, counted/dropped, official score, errors."""

    judges = [
        {
            k: (str(v) if v is not None else None)
            for k, v in (
                ("air", j.air),
                ("form", j.form),
                ("landing", j.landing),
                ("air_form", j.air_form),
                ("score", j.score),
            )
        }
        | {"total": str(j.total)}
        for j in rec.judges
    ]
    judges = [{k: v for k, v in j.items() if v is not None} for j in judges]
    panel: dict[str, Any] = {"record": rec.id, "judges": judges, "official_score": str(rec.final_score)}
    full = all(j.air is not None and j.form is not None and j.landing is not None for j in rec.judges)
    if full and len(rec.judges) == 5:
        sc = rules.score_aerials([(j.air, j.form, j.landing) for j in rec.judges], rec.dd)
        panel.update(counted=list(sc.counted), dropped=list(sc.dropped), J=str(sc.J))
    means = rec.component_means()
    panel["component_means"] = {c: str(v.quantize(Decimal("0.01"))) for c, v in means.items()}
    err = {}
    for c, v in (res.get("components") or {}).items():
        if c in means:
            err[c] = str((Decimal(v) - means[c]).quantize(Decimal("0.01")))
    err["final_score"] = str(Decimal(result["final_score"]) - rec.final_score)
    panel["model_error"] = err
    iv = result.get("intervals") or {}
    if iv.get("final_score"):
        lo, hi = iv["final_score"]
        panel["official_in_interval"] = bool(lo <= float(rec.final_score) <= hi)
    return panel


def _training_data(cfg) -> dict:
    try:
        meta = json.loads((Path(cfg.data.dataset) / "dataset.json").read_text())
        return {
            "name": f"{meta.get('name')} ({cfg.data.dataset}, split {cfg.data.train_split})",
            "synthetic": bool(meta.get("synthetic")),
        }
    except (OSError, ValueError):
        return {"name": str(cfg.data.dataset), "synthetic": None}
