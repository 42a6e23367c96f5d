"""`judgemind predict`: per-record predictions (JSONL) of a trained run on any dataset that has the run's
features (same extractor name and dimensions)."""

from __future__ import annotations

from pathlib import Path

from judgemind.cli.commands import COMMANDS
from judgemind.infer import load_run, predict_dataset
from judgemind.report.predictions import write_jsonl


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help=COMMANDS["predict"], description=__doc__)
    p.add_argument("run_dir", metavar="RUN", help="run folder written by `judgemind train`")
    p.add_argument("--data", metavar="DATASET", required=True, help="dataset folder with the run's features")
    p.add_argument("--split", default="all", help="split to predict (default all records)")
    p.add_argument("--checkpoint", choices=["best", "last"], default="best")
    p.add_argument("--out", metavar="FILE", help="output JSONL (default RUN/predict/<dataset>-<split>-<ckpt>.jsonl)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=run)


def run(args) -> int:

    loaded = load_run(args.run_dir, args.checkpoint, args.device)
    lines = predict_dataset(loaded, args.data, args.split)
    out = args.out or Path(args.run_dir) / "predict" / f"{Path(args.data).name}-{args.split}-{args.checkpoint}.jsonl"
    print(write_jsonl(out, lines))
    flagged = [x["id"] for x in lines if (x.get("jump_check") or {}).get("is_jump") is False]
    if flagged:
        print(
            f"is this a jump? {len(flagged)} of {len(lines)} records fail the structural check "
            f"(jump_check in the file): {', '.join(flagged[:5])}{' ...' if len(flagged) > 5 else ''}"
        )
    return 0
