"""Accuracy and wall time on SynthAerials (synthetic data): generate, extract, benchmark — and the demo's time.

    python benchmarks/synth_accuracy.py --out /tmp/sa600 --n 600 --features pixels tiny3d pose
    python benchmarks/synth_accuracy.py --demo /tmp/demo_full          # times `judgemind demo` (full)
    python benchmarks/synth_accuracy.py --demo /tmp/demo_quick --quick

The first form runs `judgemind synth`, `judgemind extract` for each feature set and `judgemind bench --models all
--seeds 0,1,2` (ablations included), then prints each bench.md path and the wall time of every step; every step
resumes, so a re-run only does what is missing. The numbers in docs/results.md came from this sequence.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def jm(*args: str) -> float:
    t = time.time()
    subprocess.run([sys.executable, "-m", "judgemind.cli.main", *args], check=True)
    return time.time() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="/tmp/sa600", help="SynthAerials dataset folder")
    p.add_argument("--n", type=int, default=600)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--features", nargs="+", default=["pixels"], help="extractors to compare")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--demo", help="instead: run `judgemind demo --out DEMO` and report its step times")
    p.add_argument("--quick", action="store_true", help="with --demo: the --quick demo")
    a = p.parse_args()
    if a.demo:
        total = jm("demo", "--out", a.demo, *(["--quick"] if a.quick else []), "--no-progress")
        doc = json.loads((Path(a.demo) / "demo.json").read_text())
        print(
            json.dumps(
                {
                    "wall_s": round(total, 1),
                    "steps_s": {k: round(v, 1) for k, v in doc["times_s"].items()},
                    "test_metrics": doc["test_metrics"],
                    "synthetic": True,
                },
                indent=2,
            )
        )
        return
    times = {"synth": jm("synth", a.out, "--n", str(a.n), "--seed", str(a.seed), "--no-progress")}
    for f in a.features:
        times[f"extract {f}"] = jm("extract", a.out, "--extractor", f, "--workers", "2", "--no-progress")
        out = f"{a.out}_bench_{f}"
        times[f"bench {f}"] = jm(
            "bench",
            "--data",
            a.out,
            "--features",
            f,
            "--models",
            "all",
            "--seeds",
            a.seeds,
            "--out",
            out,
            "--no-progress",
        )
        print(f"{f}: {out}/bench.md")
    print(json.dumps({k: round(v, 1) for k, v in times.items()}, indent=2))


if __name__ == "__main__":
    main()
