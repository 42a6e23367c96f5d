"""`judgemind score VIDEO --checkpoint RUN/best.pt`: score one jump, write a JSON result and an HTML judge sheet.

`judgemind score VIDEOS... | DIR --checkpoint RUN/best.pt [--codes FILE]`: a round, one sheet per jump and an
index.html ranking (see :mod:`judgemind.infer.round`).

Both call the Python API (:mod:`judgemind.api`: ``Judge.load(...).score(...)``, ``ScoreResult.write_sheet``,
``score_round``), which wires :mod:`judgemind.infer` (scoring) and :mod:`judgemind.report` (the files)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from judgemind.api import Judge, check_frame_index, check_out, check_threshold, score_round
from judgemind.cli.commands import COMMANDS
from judgemind.errors import JudgemindError
from judgemind.rules.names import COMPONENTS
from judgemind.utils import display_text


def add_parser(sub) -> None:
    p = sub.add_parser(
        "score",
        help=COMMANDS["score"],
        description="Score one aerials jump from video with a trained model. Writes result.json, sheet.html (a "
        "self-contained judge sheet: frame strip with stage boundaries, Air/Form/Landing with their "
        "bands, likely deductions with evidence frames, J, DD and the final score truncated like the "
        "official result, provenance) and timeline.png.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "video",
        nargs="*",
        help="a video file PyAV can open; several files or a folder score a round (one sheet per jump + index.html)",
    )
    p.add_argument("--checkpoint", required=True, help="RUN/best.pt (or a run folder) of `judgemind train`")
    p.add_argument(
        "--action-code",
        help="declared jump code, e.g. bFdFF (sets the DD; needed unless the video is in a FineSkiing dataset)",
    )
    p.add_argument("--dd", help="degree of difficulty, when it differs from judgemind's DD table")
    p.add_argument("--start", type=int, help="first frame of the jump (default: the start of the video)")
    p.add_argument("--end", type=int, help="frame after the jump's last frame (default: the end of the video)")
    p.add_argument("--out", help="output folder (default: <video name>_judgemind beside the current folder)")
    p.add_argument(
        "--locator",
        choices=["mediapipe", "hog", "motion", "annotation"],
        help="athlete locator for videos outside a dataset (default: the training locator, or mediapipe)",
    )
    p.add_argument("--weights", help="backbone weights file, when the features were made with one (e.g. i3d)")
    p.add_argument(
        "--perception",
        choices=["aerialspose", "mediapipe"],
        help="how skeletons are read from the video, for a checkpoint that reads skeletons: AerialsPose "
        "(SynthAerials renders) or MediaPipe (real footage), then the temporal refiner "
        "(default: the perception the checkpoint was trained with)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="list deduction items with at least this probability (default: each item's own threshold, chosen on "
        "val's calib half; 0.3 of the raw score for a run without deduction calibration)",
    )
    p.add_argument(
        "--no-dataset",
        action="store_true",
        help="ignore boxes/cuts of a dataset record even when the video belongs to one",
    )
    p.add_argument("--json", action="store_true", help="print the result JSON instead of a summary")
    p.add_argument(
        "--codes",
        metavar="FILE",
        help="a round's action codes: one 'VIDEO CODE' line per jump (VIDEO relative to FILE's folder); "
        "with no VIDEOS, the videos of the file are scored; in a round, --action-code is the code "
        "of every video the file does not list",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="a video that does not look like an aerials jump is an error (exit code 3); the sheet is still written",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar for a round")
    p.set_defaults(func=run)


def run(args) -> int:

    if not args.video and not args.codes:
        raise JudgemindError("score needs a video (or several, a folder, or --codes FILE)")

    if args.threshold is not None:
        check_threshold(args.threshold, "--threshold")
    for flag in ("start", "end"):
        check_frame_index(getattr(args, flag), f"--{flag}")

    if len(args.video) != 1 or args.codes or Path(args.video[0]).is_dir():
        return run_round(args)
    args.video = args.video[0]
    out = Path(args.out) if args.out else Path(f"{Path(args.video).stem}_judgemind")
    check_out(out)
    result = Judge.load(args.checkpoint).score(
        args.video,
        code=args.action_code,
        dd=args.dd,
        start=args.start,
        end=args.end,
        locator=args.locator,
        weights=args.weights,
        threshold=args.threshold,
        use_dataset=not args.no_dataset,
        perception=args.perception,
    )
    paths = result.write_sheet(out)
    if args.json:
        print(result.json_text(), end="")
        return _strict(args, result)
    c = result.components or {}
    print(f"{result.video_name}: {result.action_code} (DD {result.dd})")
    if c:
        print(
            f"  Air {c['air']}  Form {c['form']}  Landing {c['landing']}  "
            f"({', '.join(result.bands[k]['name'] for k in COMPONENTS)})"
        )
    if result.stages:
        print("  stages: " + ", ".join(f"{k} {v[0]}-{v[1] - 1}" for k, v in result.stages.items()))
    for d in result.deductions[:6]:
        kind = "likely deduction" if d.get("listed", d.get("above_threshold", True)) else "not listed"
        name = f"{d['group']}: {d['name']}" if d.get("group") else d["name"]
        p = d.get("probability")
        what = f"{p:.0%}" if p is not None else f"score {d.get('score', 0):.2f}, uncalibrated"
        print(f"  {kind}: {name} ({what}, frame {d['evidence_frame']})")
    iv = (result.intervals or {}).get("final_score")
    print(
        f"  J = {result.J}  score = {result.final_score}" + (f"  (90% interval {iv[0]:.2f}-{iv[1]:.2f})" if iv else "")
    )
    if result.in_distribution is False:
        print("  WARNING: this may not be an aerials jump: " + "; ".join(result.ood_reasons))
    elif (result.feature_check or {}).get("unlike_training"):
        fc = result.feature_check
        print(
            f"  note: the video's features are unlike the training set's (margin {fc['margin']:+.2f}); marks may be off"
        )
    p = result.panel
    if p:
        print(f"  panel: official score {p['official_score']}, model error {p['model_error']['final_score']}")

    print(
        f"judge sheet: {display_text(paths['sheet'])}\nresult: {display_text(paths['result'])}\n"
        f"timeline: {display_text(paths['timeline'])}"
    )
    return _strict(args, result)


def _strict(args, result) -> int:

    if args.strict and result.in_distribution is False:
        print(
            f"error: {result.video_name} does not look like an aerials jump (--strict): "
            + "; ".join(result.ood_reasons),
            file=sys.stderr,
        )
        return 3
    return 0


def run_round(args) -> int:

    for flag in ("start", "end", "dd", "json"):
        if getattr(args, flag) not in (None, False):
            raise JudgemindError(
                f"--{flag.replace('_', '-')} applies to one video; in a round give codes with "
                f"--codes FILE (segments: one video per jump)"
            )
    out = Path(args.out) if args.out else Path("judgemind_round")
    doc = score_round(
        args.checkpoint,
        args.video,
        out,
        codes=args.codes,
        action_code=args.action_code,
        progress=not args.no_progress,
        locator=args.locator,
        weights=args.weights,
        threshold=args.threshold,
        perception=args.perception,
        use_dataset=not args.no_dataset,
    )
    for r in doc["jumps"]:
        if r["status"] == "failed":
            print(f"  FAILED {r['name']}: {r['reason']}")
        else:
            flag = "  (not an aerials jump?)" if r.get("in_distribution") is False else ""
            print(f"  {r['rank']:>3}. {r['name']:<30} {r['final_score']:>7}{flag}")
    print(
        f"{doc['n']} jumps, {doc['failed']} failed, {doc['not_in_distribution']} flagged, {doc['elapsed_s']:.1f} s"
        f"\nranking: {out / 'index.html'}"
    )
    if doc["failed"]:
        print(f"error: {doc['failed']} of {doc['n']} videos failed (listed in {out / 'index.html'})", file=sys.stderr)
        return 1
    if args.strict and doc["not_in_distribution"]:
        print(f"error: {doc['not_in_distribution']} videos do not look like aerials jumps (--strict)", file=sys.stderr)
        return 3
    return 0
