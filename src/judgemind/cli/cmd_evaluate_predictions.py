"""`judgemind evaluate-predictions PRED.npy TRUE.npy`: score metrics of saved prediction arrays.

Reads two 1-D ``.npy`` arrays (one score per sample, same order), e.g. the pred/true arrays that AQA repos
release, and prints rho, L2, R-l2 x100, MAE and n -- computed by :mod:`judgemind.evaluate`, like every number
the project reports. ``--classes`` adds per-class rho and their Fisher-z average.
"""

from __future__ import annotations

import json

import numpy as np

from judgemind.cli.commands import COMMANDS
from judgemind.errors import JudgemindError
from judgemind.evaluate import ScoreReport, class_averaged_spearman, per_class_spearman
from judgemind.utils import clean_json
from judgemind.utils.npy import read_npy


def add_parser(sub) -> None:
    p = sub.add_parser(
        "evaluate-predictions",
        help=COMMANDS["evaluate_predictions"],
        description="Compute rho, L2, R-l2 x100 (relative to the range of TRUE), MAE and n for two 1-D .npy "
        "arrays holding one score per sample in the same order.",
    )
    p.add_argument("pred", metavar="PRED.npy", help="predicted scores, shape (N,)")
    p.add_argument("true", metavar="TRUE.npy", help="ground-truth scores, shape (N,)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument(
        "--classes",
        metavar="CLASSES.npy",
        help="class label per sample, shape (N,) (ints or strings): adds per-class rho and their Fisher-z average",
    )
    p.set_defaults(func=run)


def _load_npy(path_str: str, role: str) -> np.ndarray:
    """A plain array (numbers, or short texts for class labels): never a pickle, its header checked against the
    file before anything is allocated."""

    return read_npy(path_str, f"{role} file", kinds="fiubU", max_itemsize=4 * 256)


def _check_vector(arr: np.ndarray, path: str, role: str, numeric: bool) -> None:
    if arr.ndim != 1:
        raise JudgemindError(f"{role} file {path} has shape {arr.shape}; expected a 1-D array (N,), one per sample")
    if arr.size == 0:
        raise JudgemindError(f"{role} file {path} is empty; there is nothing to evaluate")
    if numeric:
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
            raise JudgemindError(f"{role} file {path} has dtype {arr.dtype}; expected numeric scores")
        bad = ~np.isfinite(arr.astype(np.float64))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise JudgemindError(
                f"{role} file {path} has {int(bad.sum())} non-finite value(s) (first at index {i}: {arr[i]}); "
                f"fix or remove those samples"
            )


def run(args) -> int:

    pred = _load_npy(args.pred, "PRED")
    true = _load_npy(args.true, "TRUE")
    _check_vector(pred, args.pred, "PRED", numeric=True)
    _check_vector(true, args.true, "TRUE", numeric=True)
    if pred.shape != true.shape:
        raise JudgemindError(
            f"PRED file {args.pred} has shape {pred.shape} but TRUE file {args.true} has {true.shape}; "
            f"they must hold one score per sample in the same order"
        )
    report = ScoreReport.compute(pred, true)
    result: dict = report.as_dict()

    if args.classes:
        classes = _load_npy(args.classes, "CLASSES")
        _check_vector(classes, args.classes, "CLASSES", numeric=False)
        if classes.shape != true.shape:
            raise JudgemindError(
                f"CLASSES file {args.classes} has shape {classes.shape} but TRUE file {args.true} has "
                f"{true.shape}; pass one class label per sample"
            )
        result["per_class_rho"] = {str(k): v for k, v in per_class_spearman(pred, true, classes).items()}
        result["avg_rho_fisher_z"] = class_averaged_spearman(pred, true, classes)

    if args.json:
        out = clean_json(result)  # JSON has no NaN: null
        out["pred_file"], out["true_file"] = args.pred, args.true
        print(json.dumps(out, indent=2, allow_nan=False))
        return 0

    print(report.format())
    if args.classes:
        print("per-class rho:")
        width = max(len(k) for k in result["per_class_rho"])
        for k, v in result["per_class_rho"].items():
            print(f"  {k:<{width}}  {v:.4f}")
        print(f"avg rho (Fisher z)  {result['avg_rho_fisher_z']:.4f}")
    return 0
