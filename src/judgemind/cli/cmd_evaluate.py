"""`judgemind evaluate`: metrics and per-record predictions of a run's checkpoint on one split.

Writes RUN/eval/<split>-<checkpoint>/metrics.json (every metric, computed by judgemind.evaluate) and
predictions.jsonl (per record: score by the rules engine, components, grade bands, stage bounds, deduction
probabilities with their evidence step, and the truth). Select checkpoints on val; touch test once.
"""

from __future__ import annotations

from pathlib import Path

from judgemind.cli.commands import COMMANDS
from judgemind.infer import evaluate_split, load_run
from judgemind.report.predictions import write_evaluation
from judgemind.utils import check_out_dir


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help=COMMANDS["evaluate"], description=__doc__)
    p.add_argument("run_dir", metavar="RUN", help="run folder written by `judgemind train`")
    p.add_argument("--split", default="test", help="split to evaluate (default test)")
    p.add_argument(
        "--checkpoint", choices=["best", "last"], default="best", help="best.pt (chosen on val, default) or last.pt"
    )
    p.add_argument("--out", metavar="DIR", help="output folder (default RUN/eval/<split>-<checkpoint>)")
    p.add_argument("--device", default="cpu", help="torch device (default cpu)")
    p.add_argument(
        "--features",
        metavar="CACHE",
        help="evaluate on another feature cache of the run's data set with the same token layout (e.g. "
        "aerialspose = predicted skeletons, for a model trained on annotated skeletons); default: "
        "the run's own features",
    )
    p.set_defaults(func=run)


def evaluate_run(
    run_dir,
    split: str = "test",
    checkpoint: str = "best",
    out_dir=None,
    device: str = "cpu",
    features: str | None = None,
) -> dict:
    """Evaluate ``RUN/<checkpoint>.pt`` on ``split`` (``judgemind.infer``) and write metrics.json and
    predictions.jsonl into ``out_dir`` (default RUN/eval/<split>-<checkpoint>); returns the document with ``out``."""

    ev = evaluate_split(load_run(run_dir, checkpoint, device), split, features)
    tag = f"-{features}" if features else ""
    out = write_evaluation(out_dir or Path(run_dir) / "eval" / f"{split}-{checkpoint}{tag}", ev.doc, ev.lines)
    return {**ev.doc, "out": str(out)}


def run(args) -> int:
    if args.out:
        check_out_dir(args.out)
    doc = evaluate_run(args.run_dir, args.split, args.checkpoint, args.out, args.device, args.features)
    m = doc["metrics"]
    tag = " (SYNTHETIC data)" if doc["synthetic"] else ""
    feats = f", features {doc['features']} (trained on {doc['trained_on_features']})" if args.features else ""
    print(
        f"{doc['model']} {args.checkpoint}.pt (epoch {doc['epoch']}) on {doc['split']} ({doc['n']} videos){feats}{tag}"
    )
    for name in ("final", "score"):
        s = m[name]
        print(
            f"  {name:<6} rho {_f(s['rho'])}  R-l2x100 {_f(s['rl2_x100'])}  L2 {_f(s['l2'], 2)}  MAE {_f(s['mae'], 3)}"
        )
    if "components" in m:
        print(
            "  components "
            + "  ".join(f"{c} rho {_f(v['rho'])} MAE {_f(v['mae'], 3)}" for c, v in m["components"].items())
        )
    if "segmentation" in m:
        f = m["segmentation"]["flight"]
        print(f"  segmentation AIoU@0.5 {_f(100 * f['aiou@0.5'], 2)}  @0.75 {_f(100 * f['aiou@0.75'], 2)}")
    if "deductions" in m:
        d = m["deductions"]
        how = "calibrated, per-item thresholds" if d.get("calibrated") else "UNCALIBRATED scores >= 0.3"
        print(
            f"  deductions mAP {_f(d['map'])}  listed ({how}): precision {_f(d['precision'], 3)}  recall "
            f"{_f(d['recall'], 3)}  ECE {_f(d['ece'], 3)}  items per clean stage {_f(d['clean_items'], 3)}"
        )
    iv = doc.get("intervals") or {}
    if "final_score" in iv:
        print(
            f"  90% intervals (calibrated on {iv['calibrated_on']}): "
            + "".join(
                f"\n    {k:<12} {v.get('kind', 'constant'):<8} coverage {_f(v['coverage'], 3)} "
                f"width {_f(v['width'], 2)}"
                + (
                    f"  (constant width: coverage {_f(v['constant']['coverage'], 3)} width "
                    f"{_f(v['constant']['width'], 2)})"
                    if v.get("kind") == "adaptive"
                    else ""
                )
                for k, v in iv.items()
                if isinstance(v, dict)
            )
        )
    elif iv.get("note"):
        print(f"  90% intervals: {iv['note']}")
    print(f"  is this a jump? {jump_summary(doc.get('is_this_a_jump'))}")
    print(f"  -> {doc['out']}/metrics.json, predictions.jsonl")
    return 0


def jump_summary(s: dict | None) -> str:
    """One line of a split's jump checks (``judgemind.infer.predict.add_checks``)."""
    if not s:
        return "not checked (end-to-end run)"
    if "is_jump" not in s:
        head = s["note"]
    else:
        head = (
            f"{s['is_jump']} of {s['n']} pass the structural check, {s['flagged']} flagged, "
            f"{s['not_measurable']} not measurable (smallest margin {_f(s['margin_min'], 2)})"
        )
    unlike = s.get("features_unlike_training")
    return head + ("" if unlike is None else f"; features unlike training (warning): {unlike}")


def _f(x, nd=4):
    return "n/a" if x is None or x != x else f"{x:.{nd}f}"
