"""`judgemind train`: train a registered model on a dataset's cached features into a run folder.

Config precedence: defaults in code < --config FILE < --set SECTION.KEY=VALUE < the dedicated flags below. The
same command runs on one CPU, one GPU, or several processes under `torchrun --nproc_per_node N`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import yaml

from judgemind.cli.commands import COMMANDS
from judgemind.errors import CheckpointError
from judgemind.runs.config import resolve_config
from judgemind.train.loop import fit
from judgemind.train.rundir import run_folder
from judgemind.utils import check_out_dir

EPILOG = """examples:
  judgemind train --data data/synth --features tiny3d --model judgemind --out runs/jm
  judgemind train --data data/synth --features tiny3d --model judgemind --set model.knowledge=false
  judgemind train --out runs/jm --resume                       # continue after a crash, same result
  torchrun --nproc_per_node 2 -m judgemind.cli.main train ...  # data parallel, same global batch
see docs/model.md for every config key and the ablation switches"""


def add_parser(sub) -> None:

    p = sub.add_parser(
        "train",
        help=COMMANDS["train"],
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--data", metavar="DATASET", help="FineSkiing dataset folder (data.dataset)")
    p.add_argument("--features", metavar="NAME", help="feature cache under DATASET/features/ (data.features)")
    p.add_argument("--model", metavar="NAME", help="registered model, see `judgemind models` (default judgemind)")
    p.add_argument("--config", metavar="FILE", help="YAML config file (sections data, model, optim, run)")
    p.add_argument(
        "--set",
        metavar="K=V",
        action="append",
        default=[],
        dest="sets",
        help="override one key, e.g. --set model.knowledge=false --set optim.lr=1e-3 (repeatable)",
    )
    p.add_argument("--out", metavar="RUN", help="run folder (default runs/<model>-<dataset>-<features>-s<seed>)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last.pt")
    p.add_argument("--epochs", type=int, help="optim.epochs")
    p.add_argument("--seed", type=int, help="optim.seed")
    p.add_argument("--batch-size", type=int, help="optim.batch_size (the global batch)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="run.device")
    p.add_argument("--threads", type=int, help="torch CPU threads per process (run.threads)")
    p.add_argument("--end-to-end", action="store_true", help="train a video backbone with the model from frames")
    p.add_argument("--backbone", metavar="NAME", help="backbone for --end-to-end (tiny3d)")
    p.set_defaults(func=run)


def _flags(args) -> dict:
    return {
        "data": {"dataset": args.data, "features": args.features},
        "model": {"name": args.model},
        "optim": {"epochs": args.epochs, "seed": args.seed, "batch_size": args.batch_size},
        "run": {
            "out": args.out,
            "device": args.device,
            "threads": args.threads,
            "end_to_end": True if args.end_to_end else None,
            "backbone": args.backbone,
        },
    }


def resolve(args):
    """The resolved TrainConfig of the command line (on --resume: the run's saved config + these flags)."""

    flags = _flags(args)
    base = None
    if args.resume:
        saved = Path(args.out) / "config.yaml" if args.out else None
        if saved is not None and saved.is_file():
            base = yaml.safe_load(saved.read_text(encoding="utf-8"))
            old = (base.get("model") or {}).get("name")
            if args.model and old and args.model != old:
                raise CheckpointError(
                    f"{args.out} is a run of model {old!r}, not {args.model!r}; resume it without "
                    f"--model or start a new run folder"
                )
    cfg = resolve_config(args.config, args.sets, flags, base=base)
    if cfg.data.dataset:
        cfg.data.dataset = str(Path(cfg.data.dataset).resolve())
    cfg.run.out = str(run_folder(cfg))
    return cfg


def run(args) -> int:

    # Idle OpenMP threads sleep instead of spinning: on a CPU shared with other processes, spinning threads made an
    # epoch up to 30x slower (benchmarks/train_speed.py); set OMP_WAIT_POLICY yourself to override. Takes effect
    # only before torch starts its thread pool, i.e. here, before the first torch import of this process.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    if args.out:
        check_out_dir(args.out)
    cfg = resolve(args)
    run_dir = fit(cfg, resume=args.resume, argv=["judgemind"] + sys.argv[1:])
    summary = run_dir / "summary.json"
    if summary.is_file():
        s = json.loads(summary.read_text())
        val = s.get("best_val") or {}
        print(
            f"{run_dir}: best epoch {s['best_epoch']} (val rho {val.get('rho')}); "
            f"next: judgemind evaluate {run_dir} --split test"
        )
    return 0
