"""`judgemind bench`: JudgeMind and the classic AQA baselines on the same features and splits, over seeds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from judgemind.bench import BenchConfig, run_bench
from judgemind.bench.plan import DEFAULT_TUNE_BUDGET
from judgemind.cli.commands import COMMANDS
from judgemind.errors import JudgemindError
from judgemind.report.bench import write_bench_outputs
from judgemind.utils import check_out_dir

EPILOG = """\
examples:
  judgemind bench --data data/synth --features tiny3d --models all --seeds 0,1,2
  judgemind bench --data data/synth --features tiny3d --models judgemind,usdl --seeds 0 --epochs 5
  judgemind bench --data finediving:data/finediving --models usdl,musdl,core,tsa   # FineDiving protocol, i3d
  judgemind bench --data data/synth --features skeleton --models all --tune        # each model tuned on val
  judgemind bench --data data/synth --models all --tune --tune-grid "lr=1e-3,3e-4;width=0.5,1"
  judgemind bench --data data/synth --models all --tune --tune-budget 12 --seeds 0,1,2

The fair protocol: --tune gives every tuned model the same --tune-budget points of one grid (the centre first,
then a fixed seeded permutation); bench.json and bench.md record every candidate, the choice, which chosen values
sit on an edge of the grid and whether the checkpoint is the last epoch. Val is split in two halves by a hash of
the record id: "select" chooses the checkpoint epoch and the tuning point, "calib" only calibrates the 90 %
conformal intervals reported on test (final score and Air/Form/Landing: cover_*/width_* in bench.json).

Both protocols are reported: the checkpoint chosen on val (ours) and the best epoch on test (the field's
protocol, labelled as such). Finished (model, seed) runs are stored under OUT/results and skipped on a re-run.
See docs/bench.md.
"""


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bench",
        help=COMMANDS["bench"],
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data",
        required=True,
        metavar="DATASET",
        help="FineSkiing dataset folder, or finediving:PATH for the FineDiving protocol",
    )
    p.add_argument(
        "--features",
        default="",
        metavar="NAME",
        help="feature cache under DATASET/features/ (default: i3d for finediving:, else the only cache)",
    )
    p.add_argument(
        "--models",
        default="all",
        help="all, or a comma-separated list (codeprior,judgemind,usdl,musdl,core,tsa,posestats,mlp,mean)",
    )
    p.add_argument("--seeds", type=_ints, default=[0, 1, 2], help="comma-separated seeds (default 0,1,2)")
    p.add_argument("--epochs", type=int, default=0, help="training epochs per run (default 12)")
    p.add_argument("--batch-size", type=int, default=0, help="training batch size (default 16)")
    p.add_argument("--out", default="", metavar="DIR", help="output folder (default bench/<dataset>-<features>)")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--ablations",
        dest="ablations",
        action="store_true",
        default=None,
        help="also run JudgeMind's ablations on every seed: each module switched off (-segmentation, "
        "-foreground = global only, -global = foreground only, -knowledge, -grade_bands) and the controls "
        "shuffled-knowledge and plain-head (default with --models all)",
    )
    g.add_argument("--no-ablations", dest="ablations", action="store_false")
    p.add_argument("--limit", type=int, default=0, metavar="N", help="keep the first N videos of each split")
    p.add_argument(
        "--train-size",
        type=int,
        default=0,
        metavar="N",
        help="train on N videos of the training split (a fixed subset by record-id hash, nested across N: the "
        "points of a data-efficiency curve), with the whole val and test splits",
    )
    p.add_argument(
        "--settings-from",
        default="",
        metavar="BENCH_JSON",
        help="train each model with the settings another bench chose for it on val (its bench.json, from a "
        "--tune run): the same choices across the parts of a suite, without tuning again",
    )
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="optim.KEY=VALUE for every run, or MODEL.KEY=VALUE for one model (repeatable)",
    )
    p.add_argument(
        "--tune",
        action="store_true",
        help="first choose each model's settings on val's select half (seed 0) from the same points of one grid, "
        "then run the chosen settings on every seed (recorded in bench.json and bench.md); codeprior, posestats "
        "and mean have nothing to tune",
    )
    p.add_argument(
        "--tune-grid",
        default=None,
        metavar="GRID",
        help="the tuning grid, axes separated by ';': width (factor on the model's width keys), aug (factor on "
        "optim.aug_noise 0.1 / aug_shot 0.5) or any optim key (default "
        '"lr=3e-3,1e-3,5e-4,3e-4,1e-4;epochs=12,24,36;width=0.5,1,2;weight_decay=0,0.01,0.1;aug=0,1"); '
        "epochs is a ceiling (the checkpoint epoch is chosen on val); one value per axis = fixed settings, "
        "marked not tuned; implies --tune",
    )
    p.add_argument(
        "--tune-budget",
        type=int,
        default=None,
        metavar="N",
        help="grid points tried per tuned model, the same N for every model: the grid's centre and N-1 points of "
        "a fixed seeded permutation (default 8; 0 = the whole grid); implies --tune",
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    p.add_argument(
        "--jobs",
        type=int,
        default=0,
        help="runs trained in parallel processes (default: 2 on a CPU with >= 2 cores, else 1)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads per run (default 1: fastest for these small models; 0 = torch's choice)",
    )
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    p.set_defaults(func=run)


def bench_and_report(cfg) -> dict:
    """Run (or resume) the bench of ``cfg`` (``judgemind.bench``) and write its tables and plots
    (``judgemind.report.bench``); returns the summary document (bench.json) with ``out`` and ``files``."""

    doc, results = run_bench(cfg)
    write_bench_outputs(Path(doc["out"]), doc, results)
    return doc


def run(args) -> int:

    budget = DEFAULT_TUNE_BUDGET if args.tune_budget is None else args.tune_budget
    if min(args.epochs, args.batch_size, args.limit, args.jobs, args.threads, budget, args.train_size) < 0:
        raise JudgemindError(
            "--epochs, --batch-size, --limit, --jobs, --threads, --tune-budget and --train-size must be >= 0"
        )
    if args.out:
        check_out_dir(args.out)
    cfg = BenchConfig(
        data=args.data,
        features=args.features,
        models=[args.models],
        seeds=args.seeds,
        epochs=args.epochs,
        batch_size=args.batch_size,
        out=args.out,
        ablations=args.ablations,
        limit=args.limit,
        device=args.device,
        threads=args.threads,
        jobs=args.jobs,
        progress=args.progress,
        sets=args.sets,
        tune=args.tune or args.tune_grid is not None or args.tune_budget is not None,
        tune_grid=args.tune_grid,
        tune_budget=budget,
        settings_from=args.settings_from,
        train_size=args.train_size,
    )
    doc = bench_and_report(cfg)
    out = doc["out"]
    with open(f"{out}/bench.md", encoding="utf-8") as fh:
        sys.stdout.write(fh.read())
    print(
        f"\nwrote {out}/bench.md, bench.csv, bench.json and plots/ ({len(doc['files']['plots'])} PNG)", file=sys.stderr
    )
    return 0
