"""Speed of AerialsPose on the CPU: the crop network, the detector, the whole estimator, the aerialspose extractor.

    python benchmarks/pose_speed.py                         # the shipped weights, 2 threads
    python benchmarks/pose_speed.py --weights runs/pose/aerialspose.safetensors --data data/bench --json out.json
    python benchmarks/pose_speed.py --score CHECKPOINT      # also `judgemind score` on a 5 s 1280x720 clip

Reported (wall clock; the machine may be shared -- the load average is printed beside each figure):
  crops/s       PoseNet alone on batches of 128 crops (``--crop`` px)
  detector      BoxNet frames/s on batches of 128 letterboxed frames
  estimator     frames/s of AerialsPose on decoded frames (detector + crop + refined crop), as the extractor runs it
  extractor     seconds per record and video frames/s of the aerialspose extractor (decode, cuts, the camera's
                motion included) on ``--records`` jumps of ``--data`` (dense: every frame; steps: only the 48 step
                frames; steps+refiner: the step frames, then the shipped temporal refiner), and jumps/s
  camera        the camera's motion alone (background corners + RANSAC) on the decoded frames, frames/s
  refiner       the temporal refiner alone, tracks/s
  score         wall seconds of `judgemind score` on a 5 s 1280x720 clip (a SynthAerials jump letterboxed to 720p
                and re-encoded), with a checkpoint trained on aerialspose features
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _log(msg: str) -> None:
    print(f"{msg}   [load {os.getloadavg()[0]:.1f}]", flush=True)


def bench_nets(est, threads: int, n: int = 512) -> dict:
    import torch

    torch.set_num_threads(threads)
    out = {}
    x = torch.rand(128, 3, est.cfg.crop, est.cfg.crop)
    with torch.no_grad():
        est.model.pose(x)
        t = time.perf_counter()
        for _ in range(n // 128):
            est.model.pose(x)
        out["crops_per_s"] = n / (time.perf_counter() - t)
        xb = torch.rand(128, 3, est.cfg.box_input, est.cfg.box_input)
        est.model.box(xb)
        t = time.perf_counter()
        for _ in range(n // 128):
            est.model.box(xb)
        out["detector_frames_per_s"] = n / (time.perf_counter() - t)
    _log(f"PoseNet   {out['crops_per_s']:7.0f} crops/s ({est.cfg.crop} px, {threads} threads)")
    _log(f"BoxNet    {out['detector_frames_per_s']:7.0f} frames/s ({est.cfg.box_input} px letterbox)")
    return out


def bench_estimator(est, data: Path, records: int) -> dict:
    from judgemind.data import load_dataset
    from judgemind.video.decode import open_video

    ds = load_dataset(data)
    frames = []
    for r in ds.records[:records]:
        with open_video(ds.video_path(r)) as v:
            frames += [f for _, f in v.frames(range(*r.frames))]
    est(frames[:8])
    t = time.perf_counter()
    est(frames)
    fps = len(frames) / (time.perf_counter() - t)
    _log(f"AerialsPose estimator {fps:7.1f} frames/s ({len(frames)} frames, detector + 2 crops each)")
    return {"estimator_frames_per_s": fps}


def bench_extractor(weights: str | None, data: Path, records: int) -> dict:
    from judgemind.data import load_dataset
    from judgemind.features.base import get_extractor
    from judgemind.features.pipeline import extract_record

    ds = load_dataset(data)
    out = {}
    from judgemind.pose.refiner import shipped_refiner

    runs = [("dense", {"dense": True}), ("steps", {"dense": False})]
    if shipped_refiner().is_file():
        runs.append(("steps+refiner", {"dense": False, "refiner": "shipped"}))
    for label, opts in runs:
        ext = get_extractor("aerialspose", weights=weights, **opts)
        recs = ds.records[:records]
        extract_record(ext, None, ds.video_path(recs[0]), recs[0])
        t = time.perf_counter()
        n = 0
        for r in recs:
            extract_record(ext, None, ds.video_path(r), r)
            n += r.frames[1] - r.frames[0]
        secs = time.perf_counter() - t
        out[label] = {"s_per_record": secs / len(recs), "jumps_per_s": len(recs) / secs, "video_frames_per_s": n / secs}
        _log(
            f"extractor ({label:13s}) {secs / len(recs):5.2f} s/record = {len(recs) / secs:5.2f} jumps/s, "
            f"{n / secs:6.1f} video frames/s"
        )
    return out


def bench_camera_and_refiner(data: Path, records: int) -> dict:
    from judgemind.data import load_dataset
    from judgemind.data.skeleton import SKELETON_POINTS, load_skeleton
    from judgemind.data.track import track_from_skeleton
    from judgemind.pose.refiner import load_refiner, shipped_refiner
    from judgemind.video.decode import open_video
    from judgemind.video.motion import camera_motion

    ds = load_dataset(data)
    out = {}
    frames, n = [], 0
    t = time.perf_counter()
    for r in ds.records[:records]:
        with open_video(ds.video_path(r)) as v:
            fr = [f for _, f in v.frames(range(*r.frames))]
        t0 = time.perf_counter()
        camera_motion(fr, list(range(len(fr))))
        frames.append(time.perf_counter() - t0)
        n += len(fr)
    out["camera_frames_per_s"] = n / sum(frames)
    _log(f"camera motion          {out['camera_frames_per_s']:7.1f} frames/s")
    if shipped_refiner().is_file():
        ref = load_refiner()
        idx = [ds.meta.skeleton.points.index(p) for p in SKELETON_POINTS]
        tracks = []
        for r in ds.records[:records]:
            sk = load_skeleton(ds.root, r, ds.meta.skeleton)
            rows = np.linspace(0, len(sk.uv) - 1, 48).round().astype(int)
            tracks.append(
                track_from_skeleton(
                    sk.uv[rows][:, idx],
                    sk.visibility[rows][:, idx],
                    None,
                    rows + r.frames[0],
                    r.cuts or (),
                    ds.meta.skeleton.frame_size,
                    25.0,
                )
            )
        ref(tracks[0])
        t = time.perf_counter()
        for tr in tracks:
            ref(tr)
        out["refiner_tracks_per_s"] = len(tracks) / (time.perf_counter() - t)
        _log(f"temporal refiner       {out['refiner_tracks_per_s']:7.1f} tracks/s (48 steps each)")
    return out


def bench_score(checkpoint: str, data: Path, action_code: str | None) -> dict:
    from judgemind.data import load_dataset
    from judgemind.video import iter_frames
    from judgemind.video.encode import write_video

    ds = load_dataset(data)
    rec = ds.records[0]
    tmp = Path(tempfile.mkdtemp())
    clip = tmp / "jump_720p.mp4"

    def frames():
        import cv2

        for _, f in iter_frames(ds.video_path(rec)):
            side = 720
            big = cv2.resize(f, (side, side), interpolation=cv2.INTER_LINEAR)
            canvas = np.zeros((720, 1280, 3), np.uint8)
            canvas[:, 280:1000] = big
            yield canvas

    write_video(clip, frames(), fps=25, options={"crf": "20", "preset": "veryfast"})
    cmd = [
        sys.executable,
        "-m",
        "judgemind.cli.main",
        "score",
        str(clip),
        "--checkpoint",
        checkpoint,
        "--action-code",
        action_code or rec.action_code,
        "--out",
        str(tmp / "sheet"),
    ]
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    secs = time.perf_counter() - t
    if r.returncode:
        raise SystemExit(f"score failed: {r.stderr[-2000:]}")
    n = rec.frames[1] - rec.frames[0]
    _log(
        f"judgemind score on a {n / 25:.1f} s 1280x720 clip: {secs:.1f} s wall "
        f"({secs / (n / 25):.2f} x real time, process start and model load included)"
    )
    return {"score_seconds": secs, "clip_seconds": n / 25}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", help="AerialsPose weights (default: shipped)")
    ap.add_argument("--data", type=Path, help="a SynthAerials data set (for the estimator and extractor figures)")
    ap.add_argument("--records", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--score", metavar="CHECKPOINT", help="also time `judgemind score` on a 720p clip")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args(argv)
    import torch

    from judgemind.pose.infer import AerialsPose

    torch.set_num_threads(args.threads)
    est = AerialsPose(args.weights)
    res = {"weights": str(est.path), "threads": args.threads, **bench_nets(est, args.threads)}
    if args.data:
        res.update(bench_estimator(est, args.data, args.records))
        res["extractor"] = bench_extractor(args.weights, args.data, args.records)
        res.update(bench_camera_and_refiner(args.data, args.records))
        if args.score:
            res.update(bench_score(args.score, args.data, None))
    res["load_average"] = os.getloadavg()[0]
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
