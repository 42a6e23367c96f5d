"""Score one video end to end: decode -> locate -> features -> model -> rules engine -> judge sheet.

:func:`score_video` is what ``judgemind score`` runs. It re-creates the feature extractor the checkpoint was
trained on (from the feature-cache manifest stored with the run), so the model sees the same kind of tokens it
was trained with. When the video belongs to a FineSkiing dataset (a ``dataset.json`` in a parent folder names it),
the record's athlete boxes and camera cuts are used; otherwise the athlete is found by a locator (``--locator``)
and camera cuts by a frame-difference detector.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import io
import json
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from judgemind.errors import JudgemindError

COMPONENTS = ("air", "form", "landing")
SHEET_SHORT_SIDE = 360  # frames for the judge sheet are decoded at this shorter side
STAGES = ("takeoff", "flight", "landing")
CAP_ITEMS = {"hand_drag": "hand_contact", "back_slap": "body_contact", "body_contact": "body_contact",
             "crash": "body_contact", "no_weight_on_skis": "no_weight"}


@dataclass
class Target:
    """The jump to score: what an extractor and a locator need of a record."""

    id: str
    video: str
    frames: tuple[int, int]
    action_code: str
    dd: Decimal
    cuts: tuple[int, ...] = ()
    boxes: dict | None = None
    source: str = "video"           # "video" or "dataset <root>"
    extra: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------------------------
# inputs


_DATASETS: dict = {}   # (kind, root) -> (stamp, value): a round scores many videos of one data set


def _cached(kind: str, root: Path, load):
    """``load(root)`` once per process while the data set's files are unchanged (size and mtime)."""
    stamp = tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in (root / "dataset.json", root / "annotations.jsonl"))
    hit = _DATASETS.get((kind, root))
    if hit is None or hit[0] != stamp:
        hit = _DATASETS[(kind, root)] = (stamp, load(root))
    return hit[1]


def find_dataset_record(video: Path, start: int | None, end: int | None):
    """The FineSkiing record of ``video`` if a parent folder is a dataset that lists it, else None."""
    from judgemind.data.dataset import read_records

    vreal = os.path.realpath(video)
    for parent in list(video.resolve().parents)[:6]:
        if (parent / "dataset.json").is_file() and (parent / "annotations.jsonl").is_file():
            records, _ = _cached("records", parent, read_records)
            hits = [r for r in records if os.path.realpath(parent / r.video) == vreal]
            if start is not None:
                hits = [r for r in hits if r.frames[0] <= start < r.frames[1]] or hits
            if hits:
                return parent, hits[0]
    return None


def detect_cuts(video: Path, start: int, end: int, threshold: float = 0.35) -> tuple[int, ...]:
    """Hard camera cuts in [start, end): frames whose colour histogram differs from the previous frame's by more
    than ``threshold`` (total variation distance, 0..1) and stands out from its neighbours."""
    import cv2

    from judgemind.video.decode import iter_frames

    hists, idx = [], []
    for i, img in iter_frames(video, start, end, short_side=64):
        h = cv2.calcHist([img], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3).ravel()
        hists.append(h / max(h.sum(), 1.0))
        idx.append(i)
    if len(hists) < 3:
        return ()
    d = np.array([0.5 * np.abs(hists[k] - hists[k - 1]).sum() for k in range(1, len(hists))])
    base = np.median(d)
    cuts = [idx[k + 1] for k, v in enumerate(d) if v > threshold and v > base + 0.2]
    # a cut needs a few frames of the new shot before the next one counts
    out: list[int] = []
    for c in cuts:
        if not out or c - out[-1] >= 3:
            out.append(c)
    return tuple(out)


def resolve_target(video: str | os.PathLike, action_code: str | None, dd: str | None, start: int | None,
                   end: int | None, use_dataset: bool = True) -> Target:
    from judgemind import rules
    from judgemind.video.probe import probe_video

    path = Path(video)
    info = probe_video(path)  # missing / empty / not a video -> VideoError naming the file
    found = find_dataset_record(path, start, end) if use_dataset else None
    rec = found[1] if found else None
    code = action_code or (rec.action_code if rec else None)
    if not code:
        raise JudgemindError(f"{path}: the jump's action code is needed (it sets the DD and the model's prior "
                             f"knowledge); pass --action-code, e.g. --action-code bFdFF")
    rules.parse_jump_code(code)  # bad code -> UnknownJumpCode
    if dd is not None:
        ddv = rules.to_decimal(dd, "--dd")
        if not Decimal(0) < ddv <= Decimal("5.5"):
            raise JudgemindError(f"--dd {dd} is outside (0, 5.5]")
    elif rec is not None and rec.action_code == code:
        ddv = rec.dd
    else:
        ddv = rules.dd_for(code)  # unknown code -> error listing close codes
    s = start if start is not None else (rec.frames[0] if rec else 0)
    e = end if end is not None else (rec.frames[1] if rec else info.n_frames)
    if not (0 <= s < e <= info.n_frames):
        raise JudgemindError(f"{path}: segment [{s}, {e}) lies outside the video, which has {info.n_frames} frames "
                             f"(frames 0..{info.n_frames - 1}); fix --start/--end")
    if e - s < 8:
        raise JudgemindError(f"{path}: segment [{s}, {e}) is too short to score (need at least 8 frames)")
    if rec is not None:
        return Target(rec.id, str(path), (s, e), code, ddv, tuple(c for c in rec.cuts if s <= c < e),
                      {k: v for k, v in (rec.boxes or {}).items() if s <= k < e} or None,
                      f"dataset {found[0]}", {"fps": info.fps, "record": rec})
    return Target(path.stem, str(path), (s, e), code, ddv, detect_cuts(path, s, e), None, "video", {"fps": info.fps})


def _annotation_features(extractor, video, target, start, end) -> dict:
    """Features of an extractor that reads annotations (``skeleton``): the video must be a record of a FineSkiing
    data set that carries them; the record's own frames are used."""
    from judgemind.data import load_dataset

    found = find_dataset_record(Path(video), start, end)
    if found is None:
        raise JudgemindError(f"{video}: this checkpoint was trained on {extractor.name!r} features, which are read "
                             f"from a data set's annotations (annotated skeletons), and the video is not a record of "
                             f"a FineSkiing data set; score it with a checkpoint trained on video features (e.g. "
                             f"pixels), or put it in a data set with skeletons")
    root, rec = found
    if (start is not None and start != rec.frames[0]) or (end is not None and end != rec.frames[1]):
        raise JudgemindError(f"{video}: --start/--end cannot change the frames of annotated {extractor.name!r} "
                             f"features; the record {rec.id!r} covers {list(rec.frames)}")
    ds = _cached("dataset", root, load_dataset)
    extractor.bind(root, ds.meta, [rec])
    return extractor.encode_record(rec)


def run_dir_of(checkpoint: str | os.PathLike) -> tuple[Path, str]:
    """(run folder, checkpoint name) of ``RUN/best.pt``, ``RUN/last.pt`` or a run folder."""
    p = Path(checkpoint)
    return (p, "best") if p.is_dir() else (p.parent, p.stem)


def load_scoring_run(checkpoint: str | os.PathLike):
    """(model, cfg, info, checkpoint dict, feature manifest) of a checkpoint file or run folder."""
    from judgemind.errors import CheckpointError
    from judgemind.train.runs import load_run_model

    p = Path(checkpoint)
    if p.is_dir():
        run_dir, name = p, "best"
    else:
        if not p.is_file():
            raise CheckpointError(f"checkpoint {p} does not exist; pass RUN/best.pt of a `judgemind train` run")
        run_dir, name = p.parent, p.stem
        if name not in ("best", "last"):
            raise CheckpointError(f"{p}: expected RUN/best.pt or RUN/last.pt of a `judgemind train` run")
    from judgemind.features.cache import check_manifest, read_manifest

    model, cfg, info, ck = load_run_model(run_dir, name)
    manifest = ck.get("features_manifest")
    if manifest is None:  # older runs: read it from the training dataset if it is still there
        if cfg.run.end_to_end:
            raise CheckpointError(f"{p}: an end-to-end run has no feature extractor to score new videos with; "
                                  f"extract features with its exported backbone and train on them")
        mpath = Path(cfg.data.dataset) / "features" / cfg.data.features / "manifest.json"
        if not mpath.is_file():
            raise CheckpointError(f"{p}: the run does not record how its features were made and {mpath} is gone; "
                                  f"re-train with this judgemind version")
        manifest = read_manifest(mpath)
    else:
        try:
            manifest = check_manifest(manifest, f"{p} (features_manifest)")
        except JudgemindError as e:
            raise CheckpointError(str(e)) from None
    if getattr(model, "needs_train_set", False):
        from judgemind.train.runs import _run_split

        _run_split(model, cfg, info, cfg.data.dataset, cfg.data.train_split, "cpu")
    return model, cfg, info, ck, manifest


def build_extractor(manifest: dict, weights: str | None = None):
    from judgemind.features.base import extractor_class, get_extractor

    cfg = dict(manifest.get("config", {}))
    name = manifest.get("extractor") or cfg.get("extractor")
    cls = extractor_class(name)
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    opts = {k: v for k, v in cfg.items() if k in params and k != "weights"}
    if cfg.get("weights_sha256"):
        if not weights:
            raise JudgemindError(f"the model was trained on {name} features made with a weights file "
                                 f"(sha256 {cfg['weights_sha256'][:12]}...); pass it with --weights")
        opts["weights"] = weights
    ex = get_extractor(name, **opts)
    now = ex.config()
    if cfg.get("weights_sha256") and now.get("weights_sha256") != cfg["weights_sha256"]:
        raise JudgemindError(f"--weights {weights} is not the file the model's features were made with")
    dims, want = ex.dims(), manifest.get("dims") or {}
    if any(int(dims[k]) != int(want.get(k, dims[k])) for k in ("global", "foreground")):
        from judgemind.errors import CheckpointError

        raise CheckpointError(f"the run's feature manifest names extractor {name!r} with dims {want}, but {name!r} "
                              f"with these settings gives {dims}; the manifest does not describe the features the "
                              f"model was trained on -- re-extract and re-train")
    return ex, cfg


# --------------------------------------------------------------------------------------------------------------
# scoring


def _batch(feats: dict, target: Target, info) -> dict:
    import torch

    from judgemind.train.data import code_features, shot_index

    T = feats["global"].shape[0]
    fi = feats["frame_index"].astype(np.int64)
    nan = float("nan")
    vocab = {c: i for i, c in enumerate(getattr(info, "action_codes", ()) or ())}
    return {
        "global": torch.from_numpy(feats["global"]).float()[None],
        "foreground": torch.from_numpy(feats["foreground"]).float()[None],
        "mask": torch.ones(1, T, dtype=torch.bool),
        "shot": torch.from_numpy(shot_index(target.cuts, fi))[None],
        "stage": torch.full((1, T), -100, dtype=torch.long),
        "bounds": torch.full((1, 2), -1, dtype=torch.long),
        "code": torch.from_numpy(code_features(target.action_code))[None],
        "action": torch.tensor([vocab.get(target.action_code, -1)], dtype=torch.long),
        "dd": torch.tensor([float(target.dd)]),
        "score": torch.tensor([nan]),
        "components": torch.full((1, 3), nan),
        "judges": torch.full((1, max(info.n_judges, 1)), nan),
        "deductions": torch.zeros(1, info.n_items),
        "index": torch.zeros(1, dtype=torch.long),
        "frame_index": torch.from_numpy(fi)[None],
    }


def compose(out, target: Target, info) -> dict:
    """Model output of one video -> the judge's numbers (rules engine: consensus judge, caps, truncation)."""
    import torch

    from judgemind import rules
    from judgemind.train.predict import to_mark  # the same 0.1-grid rounding as `judgemind evaluate`

    res: dict[str, Any] = {}
    probs = torch.sigmoid(out.deduction_logits[0]).numpy() if out.deduction_logits is not None else None
    caps = {}
    if probs is not None:
        for k, item in enumerate(info.item_ids):
            if item in CAP_ITEMS and probs[k] >= 0.5:
                caps[CAP_ITEMS[item]] = True
    if out.components is not None and info.scoring.startswith("aerials"):
        marks = {c: to_mark(out.components[0, k], c) for k, c in enumerate(COMPONENTS)}
        capped = rules.apply_landing_caps(marks["landing"], **caps) if caps else marks["landing"]
        if capped != marks["landing"]:
            res["caps_applied"] = (f"landing {marks['landing']} -> {capped} because the model sees "
                                   f"{', '.join(k.replace('_', ' ') for k in caps)}")
            marks["landing"] = capped
        sc = rules.score_aerials([(marks["air"], marks["form"], marks["landing"])] * 5, target.dd)
        res["components"] = {c: str(marks[c]) for c in COMPONENTS}
        res["components_raw"] = {c: round(float(out.components[0, k]), 4) for k, c in enumerate(COMPONENTS)}
        res["bands"] = {}
        for c in COMPONENTS:
            b = rules.band_of(c, marks[c])
            res["bands"][c] = {"name": b.name, "range": b.label, "description": b.description,
                               "official": b.official}
        res["J"], res["final_score"], res["raw"] = str(sc.J), str(sc.score), str(sc.raw)
    else:
        raw = Decimal(repr(max(float(out.score[0]), 0.0)))
        res["J"], res["final_score"] = None, str(rules.truncate2(raw))
    res["deduction_probs"] = probs
    return res


def score_video(video: str | os.PathLike, checkpoint: str | os.PathLike, *, action_code: str | None = None,
                dd: str | None = None, start: int | None = None, end: int | None = None,
                locator: str | None = None, weights: str | None = None, threshold: float = 0.3,
                use_dataset: bool = True, loaded: dict | None = None) -> tuple[dict, dict]:
    """Score one jump. Returns ``(result JSON dict, assets)`` where assets hold the images for the sheet.

    ``loaded``: the output of :func:`load_for_scoring` of this checkpoint, when several videos are scored with it
    (a round); loaded here otherwise."""
    import torch

    from judgemind import __version__, rules
    from judgemind.features.pipeline import extract_record
    from judgemind.rules import load_catalogue
    from judgemind.video.locators import get_locator

    loaded = loaded or load_for_scoring(checkpoint)
    model, cfg, info, ck, manifest = loaded["run"]
    target = resolve_target(video, action_code, dd, start, end, use_dataset)
    extractor, fcfg = build_extractor(manifest, weights)
    trained_locator = fcfg.get("locator", "mediapipe")
    if target.boxes:
        loc_name = "annotation"
    else:
        loc_name = locator or (trained_locator if trained_locator != "annotation" else "mediapipe")
    if loc_name == "annotation" and not target.boxes:
        raise JudgemindError(f"{video}: locator 'annotation' needs athlete boxes from a dataset record; this video "
                             f"is not in a FineSkiing dataset -- pass --locator mediapipe, hog or motion")
    loc_opts = dict(fcfg.get("locator_config", {})) if loc_name == trained_locator else {}
    loc_opts.pop("name", None)
    loc = get_locator(loc_name, **loc_opts)
    if not extractor.needs_video:   # e.g. annotated skeletons: read from the video's data set, not its pixels
        feats = _annotation_features(extractor, video, target, start, end)
    else:
        feats = extract_record(extractor, loc, target.video, target)
    batch = _batch(feats, target, info)
    with torch.no_grad():
        out = model(batch)
    res = compose(out, target, info)
    fi = feats["frame_index"].astype(np.int64)
    T = len(fi)
    # stages: decoded boundaries in steps -> frames
    stage_probs = None
    if out.stage_logits is not None:
        stage_probs = torch.softmax(out.stage_logits[0], -1).numpy()
    stages = None
    if out.bounds is not None:
        b1, b2 = (int(x) for x in out.bounds[0])
        b1, b2 = min(max(b1, 1), T - 2), min(max(b2, 2), T - 1)
        edges = [target.frames[0]] + [int((fi[b - 1] + fi[b]) // 2) + 1 for b in (b1, b2)] + [target.frames[1]]
        stages = {s: [edges[k], edges[k + 1]] for k, s in enumerate(STAGES)}
    cat = load_catalogue()
    deds = []
    probs = res.pop("deduction_probs")
    if probs is not None:
        steps = out.deduction_step[0].numpy() if out.deduction_step is not None else np.zeros(len(probs), int)
        for rank, k in enumerate(np.argsort(-probs, kind="stable")):
            # every item above the threshold, and at least the three most likely ones (marked as unsure) so the
            # sheet always says where the model looked
            if probs[k] < threshold and rank >= 3:
                break
            item = cat.get(info.item_ids[k])
            deds.append({"item": item.id, "name": item.name, "stage": item.stage, "component": item.component,
                         "probability": round(float(probs[k]), 4), "above_threshold": bool(probs[k] >= threshold),
                         "evidence_step": int(steps[k]), "evidence_frame": int(fi[min(int(steps[k]), T - 1)]),
                         "points_range": f"{item.points_min}-{item.points_max}", "description": item.description})
        res["all_deduction_probs"] = {info.item_ids[k]: round(float(p), 4) for k, p in enumerate(probs)}
    data_meta = _training_data(cfg)
    from judgemind.utils import display_text

    result = {
        "video": display_text(target.video), "video_name": display_text(Path(target.video).name),
        "frames": list(target.frames),
        "fps": target.extra.get("fps"), "action_code": target.action_code,
        "code_description": rules.describe_code(target.action_code), "dd": str(target.dd),
        **{k: v for k, v in res.items()},
        "stages": stages, "deductions": deds, "deduction_threshold": threshold, "cuts": list(target.cuts),
        "steps": {"frame_index": fi.tolist(),
                  "stage_probs": None if stage_probs is None else np.round(stage_probs, 4).tolist()},
        "provenance": {"model": cfg.model_name, "checkpoint": display_text(checkpoint),
                       "training_data": data_meta["name"], "synthetic": data_meta["synthetic"],
                       "features": f"{manifest.get('extractor')} ({cfg.data.features})",
                       "locator": f"{loc_name}" + (f" (boxes and cuts from {target.source})"
                                                   if target.source != "video" else ""),
                       "judgemind_version": __version__, "git_revision": ck.get("git_revision"),
                       "scored_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")},
        "notes": ["The score is that of one consensus judge given five times: the predicted Air, Form and Landing "
                  "rounded to 0.1, landing caps applied, J = 3 x total, J x DD truncated to 2 decimals."],
    }
    if loc_name != trained_locator:
        result["notes"].append(f"The model was trained with locator {trained_locator!r}; this video used "
                               f"{loc_name!r}, so its foreground tokens may differ from what the model saw.")
    judge_view(result, res, out, feats, stage_probs, target, loaded["calibration"])
    assets = {"boxes": {int(f): b for f, b in zip(fi, feats.get("box", []))}, "stage_probs": stage_probs,
              "video_path": str(target.video)}
    return result, assets


def load_for_scoring(checkpoint) -> dict:
    """``{"run": load_scoring_run(...), "calibration": (calibration or None, note)}`` of a checkpoint."""
    from judgemind.train.calibrate import load_calibration

    run = load_scoring_run(checkpoint)
    return {"run": run, "calibration": load_calibration(*run_dir_of(checkpoint))}


def judge_view(result: dict, res: dict, out, feats: dict, stage_probs, target: Target, calibration) -> None:
    """Add what a judge needs beside the numbers (issue 15): 90 % intervals, the in-distribution check, and the
    panel of an annotated data set with the model's error. ``calibration``: (document or None, note)."""
    from judgemind.train import calibrate as C

    cal, note = calibration
    # intervals: split conformal around the reported score and the raw components
    iv: dict[str, Any] = {"level": 0.9}
    if cal is not None:
        dd = float(target.dd)
        top = 30.0 * dd if result.get("J") is not None else None   # J <= 30 (3 judges x 10)
        iv["final_score"] = C.interval_of(float(result["final_score"]), cal, "final_score", 0.0, top, dd)
        for c, v in (res.get("components_raw") or {}).items():
            iv[c] = C.interval_of(float(v), cal, c, 0.0, C.COMPONENT_TOP[c])
        iv["calibrated_on"] = f"{cal.get('split')} split, {cal.get('n')} videos"
        iv["method"] = ("split conformal on the validation split (final score: absolute error per unit of DD, "
                        "so the interval is score +- q x DD)")
        if iv["final_score"] is None:
            iv["note"] = cal.get("guarantee")
    else:
        iv["note"] = note
    result["intervals"] = iv
    # is this an aerials jump? signals the system already computes
    sig: dict[str, Any] = {"track_fraction": None if target.boxes else C.track_fraction(feats)}
    L = feats["global"].shape[0]
    ood = (cal or {}).get("ood")
    if ood is not None:
        vec = C.pooled_tokens(feats["global"][:L], feats["foreground"][:L])
        sig["feature_distance"] = C.feature_distance(vec, np.asarray(ood["feature_mean"]),
                                                     np.asarray(ood["feature_std"]))
    if stage_probs is not None and out.bounds is not None:
        sig["stage_doubt"] = C.stage_doubt(stage_probs, out.bounds[0].numpy())
    ok, reasons = C.ood_check(sig, ood)
    result["in_distribution"] = ok
    result["ood_reasons"] = reasons
    result["ood_signals"] = {k: (None if v is None else round(float(v), 4)) for k, v in sig.items()}
    if ood is not None:
        result["ood_thresholds"] = ood.get("thresholds")
    else:
        result["ood_note"] = ("only the athlete-track check ran: the run has no calibration (" + str(note) + ")")
    rec = target.extra.get("record")
    result["panel"] = panel_of(rec, result, res) if rec is not None else None


def panel_of(rec, result: dict, res: dict) -> dict:
    """The annotated panel of a data-set record beside the model: marks, counted/dropped, official score, errors."""
    from judgemind import rules

    judges = [{k: (str(v) if v is not None else None) for k, v in
               (("air", j.air), ("form", j.form), ("landing", j.landing), ("air_form", j.air_form),
                ("score", j.score))} | {"total": str(j.total)} for j in rec.judges]
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
        return {"name": f"{meta.get('name')} ({cfg.data.dataset}, split {cfg.data.train_split})",
                "synthetic": bool(meta.get("synthetic"))}
    except (OSError, ValueError):
        return {"name": str(cfg.data.dataset), "synthetic": None}


# --------------------------------------------------------------------------------------------------------------
# writing


def _jpeg(img_rgb: np.ndarray, height: int = 96, box=None) -> str:
    import cv2

    from judgemind.report.sheet import data_uri

    img = img_rgb.copy()
    if box is not None and np.all(np.isfinite(box)):
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        cv2.rectangle(img, (x0, y0), (x1, y1), (230, 60, 40), max(1, img.shape[0] // 100))
    h, w = img.shape[:2]
    img = cv2.resize(img, (max(1, int(w * height / h)), height), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return data_uri(buf.tobytes(), "image/jpeg")


def write_outputs(result: dict, assets: dict, out_dir: str | os.PathLike, strip_frames: int = 12) -> dict:
    """Write result.json, sheet.html and timeline.png into ``out_dir``; every file atomically, all computed
    before the first is written (no partial output on error)."""
    from judgemind.report.sheet import render_sheet
    from judgemind.report.timeline import plot_timeline
    from judgemind.utils.atomic import atomic_write_bytes
    from judgemind.video.decode import read_frames

    from judgemind.video.probe import probe_video

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise JudgemindError(f"--out {out} exists and is not a folder")
    s, e = result["frames"]
    strip_idx = sorted(set(np.linspace(s, e - 1, strip_frames).astype(int).tolist()))
    ev_idx = sorted({d["evidence_frame"] for d in result["deductions"]})
    want = sorted(set(strip_idx) | set(ev_idx))
    video = assets.get("video_path", result["video"])
    # the sheet shows 96 px thumbnails: decode small (a 8000 x 8000 video must not be held at full size)
    imgs = dict(zip(want, read_frames(video, want, short_side=SHEET_SHORT_SIDE)))
    any_img = next(iter(imgs.values()))
    scale = any_img.shape[1] / float(probe_video(video).display_width or any_img.shape[1])
    boxes = assets.get("boxes", {})
    stages = result.get("stages") or {}

    def stage_of(f):
        for k in STAGES:
            if k in stages and stages[k][0] <= f < stages[k][1]:
                return k
        return None

    def near_box(f):
        if not boxes:
            return None
        k = min(boxes, key=lambda x: abs(x - f))
        return np.asarray(boxes[k], np.float64) * scale

    strip = [{"frame": f, "stage": stage_of(f), "src": _jpeg(imgs[f])} for f in strip_idx]
    evidence = {d["item"]: _jpeg(imgs[d["evidence_frame"]], 72, near_box(d["evidence_frame"]))
                for d in result["deductions"]}
    sp = assets.get("stage_probs")
    png = plot_timeline(np.asarray(result["steps"]["frame_index"]), sp, stages, result["deductions"],
                        title=f"{result['video_name']}  {result['action_code']}  score {result['final_score']}")
    # every file's bytes are made before the first is written: an error (e.g. text that cannot be encoded)
    # leaves no partial output
    html = render_sheet(result, strip, evidence, png).encode("utf-8")
    from judgemind.train.runs import clean_json

    text = (json.dumps(clean_json(result), indent=2, default=str, allow_nan=False) + "\n").encode("utf-8")
    out.mkdir(parents=True, exist_ok=True)
    if not os.access(out, os.W_OK | os.X_OK):
        raise JudgemindError(f"--out {out}: the folder is not writable; choose another with --out")
    atomic_write_bytes(out / "timeline.png", png)
    atomic_write_bytes(out / "result.json", text)
    atomic_write_bytes(out / "sheet.html", html)
    return {"result": out / "result.json", "sheet": out / "sheet.html", "timeline": out / "timeline.png"}
