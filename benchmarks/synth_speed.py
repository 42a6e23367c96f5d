"""Speed and memory of the SynthAerials generator (``judgemind synth``).

    python benchmarks/synth_speed.py                      # 60 jumps at 128 and 224 px, 2 workers
    python benchmarks/synth_speed.py --memory-n 1000      # plus a 1000-jump run for peak memory

For each size, one untimed warm-up jump, then ``generate(n, size, fps=25, workers)`` into a temporary folder;
jumps/min = n / wall time x 60 (whole command: sampling, rendering, h264 encoding, writing, assembling). CPU s/jump
is user+system time of this process and its workers. The machine is shared: the load average before and after
is printed, and a loaded machine gives lower numbers than the generator can do.

Peak memory comes from ``resource.getrusage``: the largest resident set of this process (RUSAGE_SELF) and of any
one worker (RUSAGE_CHILDREN, the largest child that ended); the total is self + workers x child, an upper bound.
The memory run goes in a fresh subprocess so that the speed runs do not count.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mib(who) -> float:
    rss = resource.getrusage(who).ru_maxrss
    return rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


def _cpu(who) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def time_run(n: int, size: int, workers: int, fps: float, seed: int = 0) -> dict:
    from judgemind.synth import generate

    with tempfile.TemporaryDirectory(prefix="synth_bench_") as tmp:
        generate(Path(tmp) / "warm", n=1, seed=seed + 1, size=size, fps=fps, workers=1, progress=False)
        cpu0 = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN)
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        root = generate(Path(tmp) / "ds", n=n, seed=seed, size=size, fps=fps, workers=workers, progress=False)
        wall = time.perf_counter() - t0
        cpu = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN) - cpu0
        frames = sum(json.loads(line)["frames"][1] for line in (root / "annotations.jsonl").open())
        mb = sum(p.stat().st_size for p in (root / "videos").iterdir()) / 2**20
    return {
        "size": size,
        "n": n,
        "workers": workers,
        "wall_s": round(wall, 2),
        "jumps_per_min": round(n / wall * 60, 1),
        "cpu_s_per_jump": round(cpu / n, 3),
        "ms_cpu_per_frame": round(cpu / frames * 1000, 2),
        "frames_per_jump": round(frames / n, 1),
        "video_kib_per_jump": round(mb * 1024 / n, 1),
        "load_before": round(load0, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def memory_run(n: int, size: int, workers: int, fps: float) -> dict:
    """Generate ``n`` jumps in a fresh process and report its peak memory (and the workers')."""
    code = f"""
import json, resource, sys, tempfile, time
from pathlib import Path
from judgemind.synth import generate
def rss(w):
    r = resource.getrusage(w).ru_maxrss
    return r / 1024 / 1024 if sys.platform == "darwin" else r / 1024
with tempfile.TemporaryDirectory(prefix="synth_mem_") as tmp:
    t0 = time.perf_counter()
    generate(Path(tmp) / "ds", n={n}, seed=0, size={size}, fps={fps}, workers={workers}, progress=False)
    wall = time.perf_counter() - t0
print(json.dumps({{"self_mib": round(rss(resource.RUSAGE_SELF), 1),
                   "child_max_mib": round(rss(resource.RUSAGE_CHILDREN), 1), "wall_s": round(wall, 1)}}))
"""
    load0 = os.getloadavg()[0]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res.update(
        n=n,
        size=size,
        workers=workers,
        jumps_per_min=round(n / res["wall_s"] * 60, 1),
        total_upper_bound_mib=round(res["self_mib"] + workers * res["child_max_mib"], 1),
        load_before=round(load0, 2),
        load_after=round(os.getloadavg()[0], 2),
    )
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=60, help="jumps per timed run (default 60)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[128, 224], help="frame sizes (default 128 224)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument(
        "--memory-n",
        type=int,
        default=0,
        help="also run this many jumps at the first size for peak memory (e.g. 1000; 0 = skip)",
    )
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args(argv)

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()}")
    results = {"speed": [], "memory": None, "cpus": os.cpu_count()}
    print("| size | jumps | workers | wall s | jumps/min | CPU s/jump | CPU ms/frame | frames/jump | KiB/jump | load |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for size in args.sizes:
        r = time_run(args.n, size, args.workers, args.fps)
        results["speed"].append(r)
        print(
            f"| {size} | {r['n']} | {r['workers']} | {r['wall_s']} | {r['jumps_per_min']} | {r['cpu_s_per_jump']} | "
            f"{r['ms_cpu_per_frame']} | {r['frames_per_jump']} | {r['video_kib_per_jump']} | "
            f"{r['load_before']} -> {r['load_after']} |",
            flush=True,
        )
    if args.memory_n:
        m = memory_run(args.memory_n, args.sizes[0], args.workers, args.fps)
        results["memory"] = m
        print(
            f"\npeak memory, {m['n']} jumps at {m['size']} px with {m['workers']} workers: main process "
            f"{m['self_mib']} MiB, largest worker {m['child_max_mib']} MiB, total <= {m['total_upper_bound_mib']} "
            f"MiB ({m['jumps_per_min']} jumps/min, load {m['load_before']} -> {m['load_after']})"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
