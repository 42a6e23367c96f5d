"""Speed and memory of decoding, athlete locators and feature extractors on 720p video.

    python benchmarks/extract_speed.py                 # everything (a few minutes on 2 cores)
    python benchmarks/extract_speed.py --quick         # fewer frames, 1-minute long video
    python benchmarks/extract_speed.py --json out.json

Input: OpenCV's vtest.avi (real walkers, Debian ``opencv-doc``) upscaled to 1280x720 and re-encoded as H.264; a
synthetic moving figure when vtest is absent. All numbers use ``--threads`` torch / OpenCV / decoder threads
(default 2). The machine may be shared: numbers are wall-clock and include other people's load.

Reported:
  decode         frames/s of streaming decode + swscale conversion to RGB (full 720p, short side 360 / 256)
  locate         frames/s of each locator on consecutive frames at the extractors' working size
  extract        per record of ``--frames`` 720p frames: seconds and *video* frames/s (record frames / time),
                 for each extractor (i3d with random weights, videomae with a random ViT-B config) and locator
  real path      decode + mediapipe locator + pose features, both as used by `extract` (T=32 steps per record)
                 and dense (every frame located and featurised)
  long video     peak RSS of a child process that stream-decodes a synthetic ``--long-minutes`` 720p video
                 (every frame decoded and converted, motion locator on every 5th frame, then pose features for a
                 32-step record spanning the whole video), for two lengths: memory must not grow with length
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

W, H = 1280, 720


def _log(msg: str) -> None:
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# inputs


def make_720p(out: Path, n: int) -> tuple[Path, str]:
    """``n`` frames of 720p H.264: vtest upscaled, or the synthetic figure."""
    from judgemind.video import iter_frames
    from judgemind.video.encode import moving_figure, write_video
    from judgemind.video.samples import sample_video

    vt = sample_video("vtest")
    if vt is not None:
        frames = (f for _, f in iter_frames(vt, 0, min(n, 795), size=(W, H)))
        source = "vtest.avi upscaled to 1280x720"
    else:
        frames = moving_figure(n, W, H)
        source = "synthetic moving figure 1280x720 (vtest.avi not installed)"
    write_video(out, frames, fps=25, options={"crf": "20", "preset": "veryfast"})
    return out, source


def make_long(out: Path, minutes: float) -> Path:
    """A long 720p video: 100 distinct synthetic frames looped (decoding cost is what matters)."""
    from judgemind.video.encode import moving_figure, write_video

    base = list(moving_figure(100, W, H))
    n = int(minutes * 60 * 25)
    write_video(
        out, (base[i % 100] for i in range(n)), fps=25, options={"crf": "30", "preset": "ultrafast", "g": "250"}
    )
    return out


# ---------------------------------------------------------------------------------------------------------------
# measurements


def bench_decode(path: Path, threads: int) -> dict:
    from judgemind.video import iter_frames

    out = {}
    for label, kw in (("720p", {}), ("short_side=360", {"short_side": 360}), ("short_side=256", {"short_side": 256})):
        t, c = time.perf_counter(), _cpu()
        n = sum(1 for _ in iter_frames(path, threads=threads, **kw))
        out[label] = n / (time.perf_counter() - t)
        _log(f"decode {label:16s} {out[label]:7.1f} frames/s  {1000 * (_cpu() - c) / n:5.1f} CPU-ms/frame")
    return out


def bench_locators(path: Path, n: int, threads: int) -> dict:
    import types

    from judgemind.video import get_locator, iter_frames

    out = {}
    cases = [
        ("annotation", {}, 256),
        ("motion", {}, 360),
        ("mediapipe", {}, 360),
        ("mediapipe", {}, 480),
        ("hog", {"pose": False}, 360),
        ("hog", {}, 360),
        ("hog", {}, 480),
    ]
    cache: dict[int, list] = {}
    for name, kw, side in cases:
        if side not in cache:
            cache[side] = list(iter_frames(path, 0, n, short_side=side, threads=threads))
        frames = cache[side]
        rec = types.SimpleNamespace(id="bench", boxes={i: (500, 200, 600, 500) for i in range(0, n, 5)}, cuts=())
        loc = get_locator(name, **kw)
        loc.locate(frames[:3], record=rec, scale=side / H)  # warm-up (graph creation)
        t, c = time.perf_counter(), _cpu()
        dets = loc.locate(frames, record=rec, scale=side / H)
        fps = len(frames) / (time.perf_counter() - t)
        cpu_ms = 1000 * (_cpu() - c) / len(frames)
        found = sum(not d.filled for d in dets) / len(dets)
        label = f"{name}{'(' + ','.join(f'{k}={v}' for k, v in kw.items()) + ')' if kw else ''}@{side}"
        out[label] = {"fps": fps, "found": found, "cpu_ms_per_frame": cpu_ms}
        _log(
            f"locate {label:28s} {fps:7.1f} frames/s  {cpu_ms:6.1f} CPU-ms/frame  (box detected on {found:.0%} "
            f"of frames)"
        )
        loc.close()
    return out


def _record(n: int, boxes: bool = False):
    import types

    return types.SimpleNamespace(
        id="bench",
        frames=(0, n),
        cuts=(),
        boxes={i: (500.0, 200.0, 600.0, 500.0) for i in range(0, n, 5)} if boxes else None,
    )


def bench_extractors(path: Path, n: int, tmp: Path) -> dict:
    import torch

    from judgemind.features import get_extractor
    from judgemind.features.pipeline import extract_record
    from judgemind.video import get_locator

    weights = {}
    from judgemind.features.i3d import InceptionI3d

    torch.save(InceptionI3d(num_classes=400).state_dict(), tmp / "i3d_random.pt")
    weights["i3d"] = str(tmp / "i3d_random.pt")
    try:
        from transformers import VideoMAEConfig, VideoMAEModel

        VideoMAEModel(VideoMAEConfig()).save_pretrained(tmp / "videomae_b")  # ViT-B/16, 16 frames, 224 (random)
        weights["videomae"] = str(tmp / "videomae_b")
    except ImportError:
        pass
    cases = [
        ("tiny3d", {}, "annotation"),
        ("tiny3d", {}, "mediapipe"),
        ("pose", {}, "annotation"),
        ("pose", {}, "mediapipe"),
        ("pose", {}, "hog"),
        ("pose", {}, "motion"),
        ("i3d", {}, "annotation"),
        ("videomae", {"steps": 2}, "annotation"),
    ]
    out = {}
    for name, kw, loc_name in cases:
        if name in ("i3d", "videomae") and name not in weights:
            continue
        ext = get_extractor(name, **kw, **({"weights": weights[name]} if name in weights else {}))
        loc = get_locator(loc_name)
        rec = _record(n, boxes=True)
        extract_record(ext, loc, path, _record(min(n, 40), boxes=True))  # warm-up
        t, c = time.perf_counter(), _cpu()
        res = extract_record(ext, loc, path, rec)
        dt, cpu = time.perf_counter() - t, _cpu() - c
        T = len(res["frame_index"])
        label = f"{name}{kw or ''}+{loc_name}"
        out[label] = {"seconds_per_record": dt, "video_fps": n / dt, "steps": T, "cpu_seconds_per_record": cpu}
        _log(
            f"extract {label:34s} {dt:6.2f} s per {n}-frame record (T={T})  = {n / dt:7.1f} video frames/s "
            f"({cpu:.1f} CPU-s)"
        )
        ext.close()
        loc.close()
    return out


def _cpu() -> float:
    """CPU seconds of this process, all threads (less sensitive than wall time to other people's load)."""
    t = os.times()
    return t.user + t.system


def bench_real_path(path: Path, n: int) -> dict:
    """decode + mediapipe locate + pose features, as `extract` runs it (T=32) and dense (every frame)."""
    from judgemind.features import get_extractor
    from judgemind.features.pipeline import extract_record
    from judgemind.video import get_locator

    out = {}
    for label, steps in (("T=32 per record", 32), ("dense (every frame)", n)):
        ext = get_extractor("pose", steps=steps)
        loc = get_locator("mediapipe")
        extract_record(ext, loc, path, _record(40))
        t, c = time.perf_counter(), _cpu()
        extract_record(ext, loc, path, _record(n))
        dt, cpu = time.perf_counter() - t, _cpu() - c
        out[label] = {"video_fps": n / dt, "located_fps": steps / dt, "cpu_ms_per_video_frame": 1000 * cpu / n}
        _log(
            f"real path (decode+mediapipe+pose) {label:20s}: {n / dt:7.1f} video frames/s, "
            f"{steps / dt:6.1f} located frames/s; {1000 * cpu / n:5.1f} CPU-ms per video frame"
        )
        ext.close()
        loc.close()
    return out


_CHILD = r"""
import sys, time, types
import torch
torch.set_num_threads({threads})
from judgemind.video import iter_frames, get_locator, probe_video
from judgemind.features import get_extractor
from judgemind.features.pipeline import extract_record
path = sys.argv[1]
t = time.perf_counter()
loc = get_locator("motion")
n = 0
for i, f in iter_frames(path, threads={threads}):
    n += 1
    if i % 5 == 0:
        loc.detect(f, i)
t_decode = time.perf_counter() - t
info = probe_video(path)
rec = types.SimpleNamespace(id="long", frames=(0, info.n_frames), cuts=(), boxes=None)
t = time.perf_counter()
extract_record(get_extractor("pose", steps=32), get_locator("mediapipe"), path, rec)
t_extract = time.perf_counter() - t
# VmHWM (peak resident set of this process image); ru_maxrss would include the parent's pages from before exec
hwm_kb = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
print(n, t_decode, t_extract, hwm_kb)
"""


def bench_long(tmp: Path, minutes: list[float], threads: int) -> dict:
    out = {}
    for m in minutes:
        p = tmp / f"long_{m:g}min.mp4"
        t = time.perf_counter()
        make_long(p, m)
        mb = p.stat().st_size / 1e6
        _log(f"long video: wrote {m:g} min of 720p in {time.perf_counter() - t:.0f} s ({mb:.0f} MB)")
        r = subprocess.run(
            [sys.executable, "-c", _CHILD.format(threads=threads), str(p)], capture_output=True, text=True, check=True
        )
        n, t_dec, t_ext, rss_kb = r.stdout.split()[-4:]
        rss = int(rss_kb) / 1024
        out[f"{m:g} min"] = {
            "frames": int(n),
            "decode_seconds": float(t_dec),
            "decode_fps": int(n) / float(t_dec),
            "pose_T32_seconds": float(t_ext),
            "peak_rss_mb": rss,
        }
        _log(
            f"long video {m:g} min ({n} frames): streamed decode+motion/5 at {int(n) / float(t_dec):.1f} frames/s, "
            f"pose T=32 over the whole video {float(t_ext):.1f} s, peak RSS {rss:.0f} MB"
        )
        p.unlink()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=200, help="720p frames for the speed tests")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--long-minutes", type=float, default=10.0, help="length of the long video (0 = skip)")
    ap.add_argument("--quick", action="store_true", help="100 frames, 1-minute long video, fewer cases")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument(
        "--only",
        default="decode,locate,extract,real,long",
        help="comma-separated sections to run (decode, locate, extract, real, long)",
    )
    args = ap.parse_args()
    if args.quick:
        args.frames, args.long_minutes = 100, 1.0
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import cv2
    import torch

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    results: dict = {
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        "frames": args.frames,
        "load_average_start": os.getloadavg(),
    }
    with tempfile.TemporaryDirectory(prefix="judgemind_bench_") as d:
        tmp = Path(d)
        path, source = make_720p(tmp / "bench720.mp4", args.frames)
        results["source"] = source
        _log(f"input: {source}, {args.frames} frames; threads={args.threads}; load average {os.getloadavg()}")
        only = set(args.only.split(","))
        if "decode" in only:
            results["decode"] = bench_decode(path, args.threads)
        if "locate" in only:
            results["locate"] = bench_locators(path, min(args.frames, 60), args.threads)
        if "extract" in only:
            results["extract"] = bench_extractors(path, args.frames, tmp)
        if "real" in only:
            results["real_path"] = bench_real_path(path, args.frames)
        if args.long_minutes > 0 and "long" in only:
            lengths = [args.long_minutes / 10, args.long_minutes]
            results["long"] = bench_long(tmp, lengths, args.threads)
    results["load_average_end"] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
