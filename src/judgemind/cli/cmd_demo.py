"""`judgemind demo`: the whole pipeline on SynthAerials, one command, no downloads.

generate a SynthAerials set -> extract features (default: skeletons predicted from the video by AerialsPose) ->
train JudgeMind -> benchmark JudgeMind against two baselines
-> evaluate the run on the test split -> score a few test videos (judge sheets) -> print where everything is.
Every step resumes: re-running the same command reuses what is finished.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from judgemind.api import Judge
from judgemind.bench import BenchConfig
from judgemind.cli.cmd_bench import bench_and_report
from judgemind.cli.cmd_evaluate import evaluate_run
from judgemind.cli.commands import COMMANDS
from judgemind.data import load_dataset
from judgemind.errors import JudgemindError
from judgemind.features.base import extractor_class
from judgemind.features.pipeline import run_extract
from judgemind.pose.refiner import shipped_refiner
from judgemind.runs.config import resolve_config
from judgemind.runs.outputs import headline
from judgemind.synth import generate
from judgemind.train.loop import fit
from judgemind.utils import check_out_dir, clean_json
from judgemind.utils.atomic import atomic_write_json

FULL = dict(n=600, size=128, epochs=30, bench_epochs=20, sheets=3)
QUICK = dict(n=120, size=96, epochs=10, bench_epochs=8, sheets=2)
BASELINES = ("posestats", "usdl")
# the learning rate chosen on val for JudgeMind, USDL and MUSDL on skeleton tokens (docs/results.md, the ladder)
DEMO_LR = 4e-3


def add_parser(sub) -> None:
    p = sub.add_parser(
        "demo",
        help=COMMANDS["demo"],
        description="Run judgemind end to end on SynthAerials (synthetic aerials videos made on this machine): "
        "generate the data set, extract features, train JudgeMind, benchmark it against two classic "
        "baselines, evaluate it on the test split and score a few test videos into HTML judge sheets. "
        f"Full: {FULL['n']} jumps (about 10-15 min on 2 CPU cores); --quick: {QUICK['n']} jumps "
        "(a few minutes). Re-running resumes. All numbers it prints are on synthetic data.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--out", default="demo_out", help="output folder")
    p.add_argument("--quick", action="store_true", help="small and fast (a smoke run of every step)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data set and the training runs")
    p.add_argument(
        "--extractor",
        default="aerialspose",
        help="feature extractor (see `judgemind extractors`); the default, aerialspose, predicts the "
        "athlete's skeleton from the video with the shipped AerialsPose weights and cleans it over "
        "time with the shipped temporal refiner (no annotation is read: the model trains and is "
        "tested on predicted, refined skeletons)",
    )
    p.add_argument("--workers", type=int, default=2, help="processes for generation and extraction")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def _say(msg: str) -> None:

    print(f"\n== {msg}", file=sys.stderr, flush=True)


def run(args) -> int:

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    prm = QUICK if args.quick else FULL
    out = Path(args.out)

    check_out_dir(out)
    if out.exists() and not out.is_dir():
        raise JudgemindError(f"--out {out} exists and is not a folder")
    data, runs, bench_dir, sheets = out / "data", out / "runs", out / "bench", out / "sheets"
    progress = not args.no_progress
    t0 = time.time()
    times: dict[str, float] = {}

    _say(f"1/6 SynthAerials: {prm['n']} synthetic jumps at {prm['size']}x{prm['size']} -> {data}")

    t = time.time()
    generate(data, n=prm["n"], seed=args.seed, size=prm["size"], fps=25, workers=args.workers, progress=progress)
    times["generate"] = time.time() - t

    options = {}
    if args.extractor == "aerialspose":
        if shipped_refiner().is_file():
            options["refiner"] = "shipped"
    how = (
        "boxes, cuts and joints predicted from the video (learned perception, AerialsPose"
        + (", then the temporal refiner)" if options else ")")
        if extractor_class(args.extractor).finds_athlete
        else "athlete boxes from the annotations"
    )
    _say(f"2/6 features: extractor {args.extractor}, {how}")

    t = time.time()
    summary = run_extract(
        data, args.extractor, locator="auto", workers=args.workers, progress=progress, options=options
    )
    if getattr(summary, "failed", None):
        raise JudgemindError(f"feature extraction failed for {len(summary.failed)} video(s); see above")
    times["extract"] = time.time() - t

    _say(f"3/6 training JudgeMind ({prm['epochs']} epochs, checkpoint chosen on val)")

    t = time.time()
    run_dir = runs / "judgemind"
    cfg = resolve_config(
        flags={
            "data": {"dataset": str(data), "features": args.extractor},
            "optim": {"epochs": prm["epochs"], "seed": args.seed, "lr": DEMO_LR},
            "run": {"out": str(run_dir), "threads": 2},
        }
    )
    cfg.model_name = "judgemind"
    done = (run_dir / "summary.json").is_file()
    if not done:
        fit(cfg, resume=(run_dir / "last.pt").is_file(), argv=["judgemind", "demo"])
    times["train"] = time.time() - t

    _say(f"4/6 benchmark: JudgeMind vs {', '.join(BASELINES)} (same features and splits, seed {args.seed})")

    t = time.time()
    bench_and_report(
        BenchConfig(
            data=str(data),
            features=args.extractor,
            models=("judgemind",) + BASELINES,
            seeds=(args.seed,),
            epochs=prm["bench_epochs"],
            out=str(bench_dir),
            sets=(f"optim.lr={DEMO_LR}",),
            ablations=False,
            progress=progress,
        )
    )
    times["bench"] = time.time() - t

    _say("5/6 evaluating the JudgeMind run on the test split")

    t = time.time()
    metrics = evaluate_run(run_dir, split="test")
    times["evaluate"] = time.time() - t

    _say(f"6/6 judge sheets for {prm['sheets']} test videos")

    t = time.time()
    judge = Judge.load(run_dir / "best.pt")
    ds = load_dataset(data)
    test = ds.split("test")
    # a spread of the test set: best, worst and middle jumps by the judges' score
    ranked = sorted(test, key=lambda r: float(r.final_score))
    picks = [ranked[-1], ranked[0], ranked[len(ranked) // 2]][: prm["sheets"]]
    sheet_paths = []
    for rec in picks:
        result = judge.score(ds.video_path(rec)).with_(
            truth={"final_score": str(rec.final_score), "deductions": [d.item for d in rec.deductions]}
        )
        paths = result.write_sheet(sheets / rec.id)
        sheet_paths.append((rec, result, paths["sheet"]))
    times["score"] = time.time() - t
    total = time.time() - t0

    m = headline(metrics["metrics"])
    print()
    print(
        "judgemind demo -- all numbers below are on SYNTHETIC data (SynthAerials); they show the system working, "
        "not how it would judge real jumps."
    )
    print(f"data set:        {data}  ({len(ds)} jumps; `judgemind data validate {data}`)")
    print(f"JudgeMind run:   {run_dir}  (test metrics: {metrics['out']}/metrics.json)")
    print("  test split: " + ", ".join(f"{k} {v:.3f}" for k, v in m.items() if isinstance(v, (int, float))))
    print(f"benchmark table: {bench_dir / 'bench.md'}")
    for rec, result, path in sheet_paths:
        print(f"judge sheet:     {path}  (predicted {result.final_score}, judges {rec.final_score})")
    print(f"time: {total / 60:.1f} min (" + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()) + ")")

    atomic_write_json(
        out / "demo.json",
        clean_json(
            {
                "quick": args.quick,
                "seed": args.seed,
                "extractor": args.extractor,
                "times_s": times,
                "total_s": total,
                "test_metrics": m,
                "sheets": [str(p) for _, _, p in sheet_paths],
                "synthetic": True,
            }
        ),
    )
    return 0
