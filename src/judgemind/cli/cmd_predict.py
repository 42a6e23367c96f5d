"""`judgemind predict`: per-record predictions (JSONL) of a trained run on any dataset that has the run's
features (same extractor name and dimensions)."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("predict", help="predictions of a trained run for a dataset", description=__doc__)
    p.add_argument("run_dir", metavar="RUN", help="run folder written by `judgemind train`")
    p.add_argument("--data", metavar="DATASET", required=True, help="dataset folder with the run's features")
    p.add_argument("--split", default="all", help="split to predict (default all records)")
    p.add_argument("--checkpoint", choices=["best", "last"], default="best")
    p.add_argument("--out", metavar="FILE", help="output JSONL (default RUN/predict/<dataset>-<split>-<ckpt>.jsonl)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=run)


def run(args) -> int:
    from judgemind.train.runs import predict_run

    path = predict_run(args.run_dir, args.data, args.split, args.checkpoint, args.out, args.device)
    print(path)
    return 0
