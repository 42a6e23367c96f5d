"""Speed of ``judgemind serve``: upload -> sheet against ``judgemind score`` on the same clip, and the page-load
latency on the loopback while the worker scores a round.

    python benchmarks/serve.py                                  # a small SynthAerials run made here (see below)
    python benchmarks/serve.py --checkpoint RUN/best.pt --clip jump.mp4 --code bFdFF --locator mediapipe

1. ``judgemind score CLIP`` as a user runs it (a fresh process: start-up, loading the run, scoring, writing the three
   files), ``--repeat`` times; the median wall time.
2. The same clip uploaded to a running server (one worker, the run loaded already) over HTTP on 127.0.0.1: the time
   from the first byte of the upload to the sheet fetched (the client polls the round every 50 ms, as the page
   polls every second), ``--repeat`` times; the median. Target: <= 1.3 x (1).
3. ``--round`` clips (copies of the fixture's videos, or of CLIP) uploaded at once; while the worker scores them,
   a client loads the score page, the round page, its JSON and a jump's page in turn; every load's latency is
   kept. Target: each <= 200 ms.

Without ``--checkpoint``: SynthAerials at ``--size`` px (16 jumps), pixels features, JudgeMind trained 2 epochs --
a run that scores, not one that judges well: the times are those of the pipeline, not of a real-footage model
(mediapipe or AerialsPose perception costs more per clip). The machine is shared: the load average is printed
before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "serve"))
from serve_helpers import ENV, Client, Server  # noqa: E402


def fixture(root: Path, size: int) -> tuple[Path, Path]:
    from judgemind.cli.main import main
    from judgemind.features.pipeline import run_extract
    from judgemind.synth import generate

    data, run = root / "data", root / "run"
    generate(data, n=16, seed=3, size=size, workers=1, progress=False)
    run_extract(data, "pixels", locator="auto", workers=1, progress=False, options={"steps": 12})
    args = ["train", "--data", str(data), "--features", "pixels", "--model", "judgemind", "--epochs", "2"]
    assert main(args + ["--out", str(run), "--set", "optim.batch_size=4", "--threads", "1"]) == 0
    return data, run / "best.pt"


def time_cli(ck: Path, clip: Path, code: str, locator: str | None, out: Path) -> float:
    cmd = [sys.executable, "-m", "judgemind.cli.main", "score", str(clip), "--checkpoint", str(ck)]
    cmd += ["--action-code", code, "--out", str(out)] + (["--locator", locator] if locator else [])
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"judgemind score failed: {r.stderr[-2000:]}")
    return wall


def time_upload(c: Client, clip: bytes, code: str) -> float:
    t0 = time.perf_counter()
    r = c.upload("clip.mp4", clip, code)
    assert r.status == 200, r.text
    rid, jid = r.json()["round"], r.json()["jobs"][0]["id"]
    while True:
        doc = c.get(f"/api/rounds/{rid}").json()
        if doc["finished"]:
            break
        time.sleep(0.05)
    assert doc["counts"]["done"] == 1, doc["jobs"]
    sheet = c.get(f"/jobs/{jid}/sheet.html")
    assert sheet.status == 200
    return time.perf_counter() - t0


def page_latency(c: Client, clips: list[bytes], code: str) -> dict:
    """Upload the round at once, then load pages until every clip is scored."""
    rid = c.upload("round.mp4", clips[0], code).json()["round"]
    threads = [threading.Thread(target=c.upload, args=(f"r{i}.mp4", b, code, rid)) for i, b in enumerate(clips[1:])]
    t_up = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    up_s = time.perf_counter() - t_up
    lat: dict[str, list[float]] = {"/score": [], "/rounds/ID": [], "/api/rounds/ID": [], "/jobs/ID": []}
    t0 = time.perf_counter()
    jid = None
    while True:
        for name in lat:
            path = name.replace("/rounds/ID", f"/rounds/{rid}").replace("/jobs/ID", f"/jobs/{jid}")
            if name == "/jobs/ID" and jid is None:
                continue
            s = time.perf_counter()
            r = c.get(path)
            lat[name].append(time.perf_counter() - s)
            assert r.status == 200, (path, r.status)
            if name == "/api/rounds/ID":
                doc = r.json()
                jid = doc["jobs"][len(doc["jobs"]) // 2]["id"]
        if doc["finished"]:
            break
        time.sleep(0.1)
    every = [x for v in lat.values() for x in v]
    return {
        "clips": len(clips),
        "upload_all_s": round(up_s, 2),
        "round_s": round(time.perf_counter() - t0, 1),
        "scored": doc["counts"]["done"],
        "failed": doc["counts"]["failed"],
        "page_loads": len(every),
        "median_ms": round(1000 * statistics.median(every), 1),
        "p95_ms": round(1000 * sorted(every)[int(0.95 * (len(every) - 1))], 1),
        "max_ms": round(1000 * max(every), 1),
        "over_200ms": sum(x > 0.2 for x in every),
        "per_page_median_ms": {k: round(1000 * statistics.median(v), 1) for k, v in lat.items() if v},
        "per_page_max_ms": {k: round(1000 * max(v), 1) for k, v in lat.items() if v},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", help="RUN/best.pt (default: a small SynthAerials run made here)")
    ap.add_argument("--clip", help="the clip to score (default: a video of the fixture)")
    ap.add_argument("--code", default="bLT")
    ap.add_argument("--locator", default="motion", help="athlete locator for clips outside a data set")
    ap.add_argument("--size", type=int, default=128, help="fixture video size (px)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--round", type=int, default=50, help="clips in the latency round")
    ap.add_argument("--json-out", help="write the figures here too")
    args = ap.parse_args()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="serve_bench_") as tmp:
        tmp = Path(tmp)
        videos: list[Path] = []
        if args.checkpoint:
            ck = Path(args.checkpoint)
        else:
            data, ck = fixture(tmp / "fixture", args.size)
            videos = sorted((data / "videos").glob("*.mp4"))
        clip = Path(args.clip) if args.clip else tmp / "clip.mp4"
        if not args.clip:
            shutil.copy(videos[0], clip)
        clip_bytes = clip.read_bytes()

        time_cli(ck, clip, args.code, args.locator, tmp / "warm")  # (file caches, the run's calibration made)
        cli = [time_cli(ck, clip, args.code, args.locator, tmp / f"cli{i}") for i in range(args.repeat)]
        srv_args = ["serve", "--checkpoint", ck, "--root", tmp / "srv"] + (
            ["--locator", args.locator] if args.locator else []
        )
        srv = Server(*srv_args, cwd=tmp, timeout=600)
        assert srv.url, srv.output()
        try:
            c = Client(srv.url)
            time_upload(c, clip_bytes, args.code)  # warm-up: the first clip a fresh worker scores
            up = [time_upload(c, clip_bytes, args.code) for _ in range(args.repeat)]
            pool = [v.read_bytes() for v in videos] or [clip_bytes]
            lat = page_latency(c, [pool[i % len(pool)] for i in range(args.round)], args.code)
        finally:
            srv.stop()
    res = {
        "clip": str(args.clip or f"SynthAerials {args.size} px fixture clip"),
        "judgemind_score_s": [round(x, 2) for x in cli],
        "upload_to_sheet_s": [round(x, 2) for x in up],
        "ratio_median": round(statistics.median(up) / statistics.median(cli), 2),
        "round": lat,
        "load_average_before_after": [round(load0[0], 2), round(os.getloadavg()[0], 2)],
        "cpus": os.cpu_count(),
    }
    print(
        f"judgemind score (fresh process), median of {args.repeat}: {statistics.median(cli):.2f} s  "
        f"{res['judgemind_score_s']}"
    )
    print(
        f"upload -> sheet (running server), median of {args.repeat}: {statistics.median(up):.2f} s  "
        f"{res['upload_to_sheet_s']}"
    )
    print(f"ratio: {res['ratio_median']} (target <= 1.3)")
    print(
        f"round of {lat['clips']} clips: scored {lat['scored']}, failed {lat['failed']} in {lat['round_s']} s; "
        f"{lat['page_loads']} page loads while scoring: median {lat['median_ms']} ms, p95 {lat['p95_ms']} ms, "
        f"max {lat['max_ms']} ms, {lat['over_200ms']} over 200 ms (target: none)"
    )
    print(f"  per page, median: {lat['per_page_median_ms']}; max: {lat['per_page_max_ms']}")
    print(f"load average before/after: {res['load_average_before_after']} on {res['cpus']} CPUs (a shared machine)")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    main()
