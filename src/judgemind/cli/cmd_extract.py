"""`judgemind extract DATASET --extractor NAME`: real footage in, cached feature tokens out.

Decodes each record's ``[start, end)``, locates the athlete, runs the extractor and writes
``DATASET/features/<name>/<record>.safetensors`` + ``manifest.json`` (see ``docs/video.md``). Resumable (finished
records are skipped), shardable (``--shard i/n`` takes records i, i+n, ...), parallel (``--workers``). A record that
fails is reported and skipped; the command goes on, lists the failures at the end and exits with 1.
"""

from __future__ import annotations

import json
import sys

from judgemind.cli.commands import COMMANDS
from judgemind.errors import JudgemindError
from judgemind.features.pipeline import parse_shard, run_extract


def add_parser(sub) -> None:
    p = sub.add_parser(
        "extract",
        help=COMMANDS["extract"],
        description="Decode every record's frames, locate the athlete, and cache one safetensors file of tokens "
        "per record under DATASET/features/NAME. Re-running resumes; a cache made with other settings is an error.",
        epilog="Examples: judgemind extract data/synth --extractor tiny3d; judgemind extract data/real --extractor "
        "i3d --weights model_rgb.pth --locator hog --workers 2; judgemind extract data/real --extractor pose "
        "--shard 0/4. `judgemind extractors` lists extractors and locators.",
    )
    p.add_argument("dataset", metavar="DATASET", help="FineSkiing dataset folder")
    p.add_argument("--extractor", "-e", metavar="NAME", help="tiny3d, pose, i3d, videomae, ...")
    p.add_argument(
        "--perception",
        choices=["aerialspose", "mediapipe"],
        help="skeletons read from the video by AerialsPose (SynthAerials renders) or MediaPipe (real "
        "footage), then cleaned by the shipped temporal refiner: the same as --extractor aerialspose "
        "--set estimator=P --set refiner=shipped, cached as P_refined",
    )
    p.add_argument(
        "--locator",
        default="auto",
        metavar="NAME",
        help="athlete locator: annotation, mediapipe, hog, motion; auto (default) = annotation when every "
        "record has boxes, else mediapipe",
    )
    p.add_argument("--weights", metavar="FILE", help="weights file (i3d, tiny3d) or checkpoint folder (videomae)")
    p.add_argument("--steps", type=int, metavar="T", help="time steps per record (default: the extractor's)")
    p.add_argument("--split", metavar="S", help="only this split (default: every record)")
    p.add_argument("--shard", metavar="i/n", help="only records i, i+n, i+2n, ... (0 <= i < n)")
    p.add_argument("--workers", type=int, default=1, metavar="k", help="parallel processes (default 1)")
    p.add_argument("--threads", type=int, metavar="N", help="torch/OpenCV threads per worker (default cores/k)")
    p.add_argument("--name", metavar="CACHE", help="cache folder name under DATASET/features (default: extractor)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="options",
        help="extractor option, repeatable (e.g. --set in_size=96 --set short_side=360)",
    )
    p.add_argument(
        "--locator-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="locator_options",
        help="locator option, repeatable (e.g. --locator-set detect_every=3)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def parse_options(items: list[str], what: str) -> dict:
    """``["a=1", "b=x", "c=[1,2]"]`` -> ``{"a": 1, "b": "x", "c": [1, 2]}`` (values parsed as JSON when they can be)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise JudgemindError(f"{what} {item!r} must look like KEY=VALUE")
        try:
            out[key.strip()] = json.loads(value)
        except (json.JSONDecodeError, ValueError, RecursionError):  # ValueError: an integer of > 4300 digits
            out[key.strip()] = value
    return out


def run(args) -> int:

    if args.workers < 1:
        raise JudgemindError("--workers must be >= 1")
    options = parse_options(args.options, "--set")
    if args.perception:
        if args.extractor not in (None, "aerialspose"):
            raise JudgemindError(
                f"--perception reads skeletons (the aerialspose extractor); drop --extractor "
                f"{args.extractor} or --perception"
            )
        args.extractor = "aerialspose"
        options = {"estimator": args.perception, "refiner": "shipped", **options}
        args.name = args.name or f"{args.perception}_refined"
    if not args.extractor:
        raise JudgemindError("extract needs --extractor NAME (`judgemind extractors` lists them) or --perception")
    if args.threads is not None and args.threads < 1:
        raise JudgemindError(f"--threads must be >= 1, got {args.threads}")
    if args.steps is not None and args.steps < 1:
        raise JudgemindError(f"--steps must be >= 1, got {args.steps}")
    summary = run_extract(
        args.dataset,
        args.extractor,
        locator=args.locator,
        weights=args.weights,
        steps=args.steps,
        split=args.split,
        shard=parse_shard(args.shard),
        workers=args.workers,
        threads=args.threads,
        name=args.name,
        options=options,
        locator_options=parse_options(args.locator_options, "--locator-set"),
        progress=not args.no_progress,
    )
    cfg = summary.config
    print(
        f"{summary.cache_dir}: extractor {cfg['extractor']}, locator {cfg['locator']}, {summary.selected} "
        f"record(s) selected: {summary.done} extracted, {summary.skipped} already cached, "
        f"{len(summary.failed)} failed ({summary.seconds:.1f} s)"
    )
    if summary.failed:
        print(f"{len(summary.failed)} record(s) failed (no feature file was written for them):", file=sys.stderr)
        for rid, msg in summary.failed:
            print(f"  - {rid}: {msg}", file=sys.stderr)
        print("fix them and re-run the same command; finished records are skipped", file=sys.stderr)
        return 1
    return 0
