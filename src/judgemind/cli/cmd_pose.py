"""`judgemind pose train|eval|train-refiner`: the AerialsPose estimator (learned perception for SynthAerials
renders) and the temporal refiner of skeleton tracks."""

from __future__ import annotations

import argparse

from judgemind.cli.commands import COMMANDS
from judgemind.errors import JudgemindError
from judgemind.features.cache import FeatureCache
from judgemind.pose.evaluate import format_report, pck_report
from judgemind.pose.infer import AerialsPose
from judgemind.pose.refine_train import train_refiner
from judgemind.pose.train import PoseTrainConfig, train_pose
from judgemind.utils import check_out_dir, clean_json
from judgemind.utils.atomic import atomic_write_json

_EXAMPLES = """examples:
  judgemind pose train --data data/bench --out runs/pose         (resumes when run again with the same settings)
  judgemind pose eval --data data/other_seed                     (the weights shipped with judgemind)
  judgemind pose eval --data data/other_seed --weights runs/pose/aerialspose.safetensors --json pck.json

The trained weights score SynthAerials renders; for real footage use the mediapipe perception
(`judgemind extract DATA --extractor aerialspose --set estimator=mediapipe`).
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "pose",
        help=COMMANDS["pose"],
        description="AerialsPose finds the athlete in each frame (a small detector) and its 19 skeleton points, "
        "their visibility and a pelvis-relative 3D pose (a small crop network). It learns from a data set with "
        "per-frame skeletons (schema v2, written by `judgemind synth`) on the CPU. `judgemind extract DATA "
        "--extractor aerialspose` turns its predictions into the skeleton extractor's tokens.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ps = p.add_subparsers(dest="pose_command", metavar="ACTION", title="actions")
    t = ps.add_parser(
        "train",
        help="train AerialsPose on a data set with skeletons",
        description="Train both networks on frames of the data set's training split; write "
        "OUT/aerialspose.safetensors (weights, layout and model card in its header) and "
        "OUT/model_card.json (training command, data, size, validation PCK, time). Resumable: "
        "OUT/train_state.pt is saved every --save-every steps and the same command continues.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    t.add_argument("--data", required=True, help="FineSkiing data set folder with skeletons (judgemind synth)")
    t.add_argument("--out", required=True, help="output folder (created)")
    t.add_argument("--split", default="train", help="split(s) to learn from, comma-separated (default train)")
    t.add_argument("--steps", type=int, default=2500, help="optimisation steps (default 2500)")
    t.add_argument(
        "--batch", type=int, default=64, help="crops per step (default 64; the detector sees half as many frames)"
    )
    t.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (default 3e-3)")
    t.add_argument("--per-record", type=int, default=16, help="frames read from each jump (default 16)")
    t.add_argument("--width", type=int, default=24, help="crop network base channels (default 24)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument(
        "--init",
        metavar="FILE",
        default="",
        help="start from these AerialsPose weights (same layout) and continue training them",
    )
    t.add_argument("--save-every", type=int, default=250, help="steps between resumable checkpoints")
    t.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.set_defaults(func=run_train)
    e = ps.add_parser(
        "eval",
        help="PCK of AerialsPose on a data set with skeletons",
        description="PCK@0.05 and PCK@0.1 of the box height (and of the box's longer side) per "
        "joint, per joint group and overall, on frames of a data set with skeletons. The boxes come "
        "from AerialsPose's detector (the whole predicted path) unless --boxes annotated.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    e.add_argument("--data", required=True, help="FineSkiing data set folder with skeletons")
    e.add_argument("--weights", help="AerialsPose weights (default: the weights shipped with judgemind)")
    e.add_argument("--split", default="test", help="split(s), comma-separated, or 'all' (default test)")
    e.add_argument("--per-record", type=int, default=8, help="frames per jump (default 8)")
    e.add_argument("--seed", type=int, default=0, help="seed of the frame draw (default 0)")
    e.add_argument(
        "--boxes",
        choices=("detected", "annotated"),
        default="detected",
        help="where the crops come from (default detected)",
    )
    e.add_argument("--json", metavar="FILE", help="also write the full report as JSON (atomic)")
    e.add_argument("--no-progress", action="store_true", help="no progress bar")
    e.set_defaults(func=run_eval)
    r = ps.add_parser(
        "train-refiner",
        help="train the temporal refiner on a data set's estimated tracks",
        description="Train the temporal refiner (a small sequence model over a skeleton track: "
        "outlier frames, swapped sides, lost joints and skis cleaned; pelvis-relative 3D and the "
        "pelvis trajectory estimated) on pairs of (estimated track, annotated skeleton) of the data "
        "set's training split; half of each batch are annotated tracks corrupted like an estimator's, "
        "so the refiner serves any estimator. The val split picks the checkpoint. Writes "
        "OUT/refiner.safetensors and OUT/model_card.json (PCK, swap rate, joint-angle, 3D and "
        "trajectory error on val before and after refinement). Needs the estimates first: `judgemind "
        "extract DATA --extractor aerialspose`.",
        epilog="examples:\n  judgemind extract data/bench --extractor aerialspose --workers 2\n"
        "  judgemind pose train-refiner --data data/bench --out runs/refiner\n"
        "  judgemind extract data/bench --extractor refined --set refiner=runs/refiner/refiner.safetensors",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("--data", required=True, help="FineSkiing data set folder with skeletons and an estimate cache")
    r.add_argument("--out", required=True, help="output folder (created)")
    r.add_argument(
        "--source",
        default="aerialspose",
        help="the feature cache whose skeleton tracks are the estimates (default aerialspose)",
    )
    r.add_argument("--steps", type=int, default=3000, help="optimisation steps (default 3000)")
    r.add_argument("--batch", type=int, default=32, help="tracks per step (default 32)")
    r.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default 2e-3)")
    r.add_argument("--width", type=int, default=128, help="channels (default 128)")
    r.add_argument(
        "--simulated",
        type=float,
        default=0.5,
        help="share of each batch made of corrupted annotated tracks (default 0.5)",
    )
    r.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    r.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=run_train_refiner)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


MAX_SEED = 2**32 - 1


def _positive(name: str, v: int, hi: int = 10**7, lo: int = 1) -> None:

    if not lo <= v <= hi:
        raise JudgemindError(f"--{name} must be {lo}-{hi}, got {str(v)[:40]}")


def run_train(args) -> int:

    for n in ("steps", "batch", "per_record", "width", "save_every"):
        _positive(n.replace("_", "-"), getattr(args, n), 4096 if n in ("batch", "width") else 10**7)
    _positive("seed", args.seed, MAX_SEED, 0)
    _positive("threads", args.threads, 1024, 0)

    check_out_dir(args.out)
    if not 0 < args.lr < 1:
        raise JudgemindError(f"--lr must be in (0, 1), got {args.lr}")
    cfg = PoseTrainConfig(
        steps=args.steps,
        batch=args.batch,
        box_batch=max(1, args.batch // 2),
        lr=args.lr,
        per_record=args.per_record,
        split=args.split,
        seed=args.seed,
        width=args.width,
        save_every=args.save_every,
        threads=args.threads,
        init=args.init,
    )
    card = train_pose(args.data, args.out, cfg, progress=not args.no_progress)
    v = card.get("val", {})
    pck = f"; validation PCK@0.1 {v['pck@0.1']:.3f}" if "pck@0.1" in v else ""
    print(
        f"wrote {args.out}/aerialspose.safetensors ({card['weights_bytes'] / 1e6:.1f} MB, "
        f"{card['train_seconds'] / 60:.1f} min){pck}; model card {args.out}/model_card.json"
    )
    return 0


def run_train_refiner(args) -> int:

    _positive("steps", args.steps)
    _positive("batch", args.batch, 4096)
    if not 8 <= args.width <= 1024 or args.width % 8:
        raise JudgemindError(f"--width must be a multiple of 8 in 8-1024, got {args.width}")
    if not 0 < args.lr < 1:
        raise JudgemindError(f"--lr must be in (0, 1), got {args.lr}")
    if not 0 <= args.seed < 2**63:
        raise JudgemindError(f"--seed must be 0 or a positive integer below 2**63, got {args.seed}")

    check_out_dir(args.out)

    cache = FeatureCache(args.data, args.source)
    if not cache.exists():
        raise JudgemindError(
            f"{cache.dir}: no feature cache {args.source!r} with estimated tracks; run `judgemind "
            f"extract {args.data} --extractor aerialspose` first"
        )
    card = train_refiner(
        args.data,
        args.out,
        cache,
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        width=args.width,
        seed=args.seed,
        threads=args.threads,
        simulated=args.simulated,
        progress=not args.no_progress,
        log=lambda *a: None,
    )
    b, a = card["val_before"], card["val_after"]
    print(
        f"wrote {args.out}/refiner.safetensors ({card['parameters']} parameters, {card['minutes']} min); val "
        f"PCK@0.1 {b['pck10']:.3f} -> {a['pck10']:.3f}, joint angles {b['angle_error_deg']:.1f} -> "
        f"{a['angle_error_deg']:.1f} deg, swaps {100 * b['swap_rate']:.1f} -> {100 * a['swap_rate']:.1f} % of "
        f"frames; model card {args.out}/model_card.json"
    )
    return 0


def run_eval(args) -> int:

    _positive("per-record", args.per_record, 10**5)
    _positive("seed", args.seed, MAX_SEED, 0)
    est = AerialsPose(args.weights)
    rep = pck_report(
        est,
        args.data,
        split=args.split,
        per_record=args.per_record,
        seed=args.seed,
        boxes=args.boxes,
        progress=not args.no_progress,
    )
    rep["weights"] = str(est.path)
    print(format_report(rep))
    if args.json:
        atomic_write_json(args.json, clean_json(rep))  # a joint never in the picture has no PCK: null
    return 0
