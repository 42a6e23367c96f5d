"""`judgemind score VIDEO --checkpoint RUN/best.pt`: score one jump, write a JSON result and an HTML judge sheet."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser(
        "score", help="score a jump video: stages, Air/Form/Landing, deductions, final score + HTML judge sheet",
        description="Score one aerials jump from video with a trained model. Writes result.json, sheet.html (a "
                    "self-contained judge sheet: frame strip with stage boundaries, Air/Form/Landing with their "
                    "bands, likely deductions with evidence frames, J, DD and the final score truncated like the "
                    "official result, provenance) and timeline.png.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("video", help="any video file PyAV can open")
    p.add_argument("--checkpoint", required=True, help="RUN/best.pt (or a run folder) of `judgemind train`")
    p.add_argument("--action-code", help="declared jump code, e.g. bFdFF (sets the DD; needed unless the video "
                                         "is in a FineSkiing dataset)")
    p.add_argument("--dd", help="degree of difficulty, when it differs from judgemind's DD table")
    p.add_argument("--start", type=int, help="first frame of the jump (default: the start of the video)")
    p.add_argument("--end", type=int, help="frame after the jump's last frame (default: the end of the video)")
    p.add_argument("--out", help="output folder (default: <video name>_judgemind beside the current folder)")
    p.add_argument("--locator", choices=["mediapipe", "hog", "motion", "annotation"],
                   help="athlete locator for videos outside a dataset (default: the training locator, or mediapipe)")
    p.add_argument("--weights", help="backbone weights file, when the features were made with one (e.g. i3d)")
    p.add_argument("--threshold", type=float, default=0.3, help="report deductions with at least this probability")
    p.add_argument("--no-dataset", action="store_true",
                   help="ignore boxes/cuts of a dataset record even when the video belongs to one")
    p.add_argument("--json", action="store_true", help="print the result JSON instead of a summary")
    p.set_defaults(func=run)


def run(args) -> int:
    import json
    from pathlib import Path

    import math

    from judgemind.errors import JudgemindError
    from judgemind.report.scoring import score_video, write_outputs

    if not (math.isfinite(args.threshold) and 0.0 <= args.threshold <= 1.0):
        raise JudgemindError(f"--threshold must be a probability in [0, 1], got {args.threshold}")
    for flag in ("start", "end"):
        v = getattr(args, flag)
        if v is not None and not 0 <= v < (1 << 62):
            raise JudgemindError(f"--{flag} must be a frame index >= 0, got {v}")

    result, assets = score_video(args.video, args.checkpoint, action_code=args.action_code, dd=args.dd,
                                 start=args.start, end=args.end, locator=args.locator, weights=args.weights,
                                 threshold=args.threshold, use_dataset=not args.no_dataset)
    out = Path(args.out) if args.out else Path(f"{Path(args.video).stem}_judgemind")
    paths = write_outputs(result, assets, out)
    if args.json:
        from judgemind.train.runs import clean_json

        print(json.dumps(clean_json(result), indent=2, default=str, allow_nan=False))
        return 0
    c = result.get("components") or {}
    print(f"{result['video_name']}: {result['action_code']} (DD {result['dd']})")
    if c:
        print(f"  Air {c['air']}  Form {c['form']}  Landing {c['landing']}  "
              f"({', '.join(result['bands'][k]['name'] for k in ('air', 'form', 'landing'))})")
    if result.get("stages"):
        print("  stages: " + ", ".join(f"{k} {v[0]}-{v[1] - 1}" for k, v in result["stages"].items()))
    for d in result["deductions"][:6]:
        kind = "likely deduction" if d.get("above_threshold", True) else "possible (below threshold)"
        print(f"  {kind}: {d['name']} ({d['probability']:.0%}, frame {d['evidence_frame']})")
    print(f"  J = {result['J']}  score = {result['final_score']}")
    from judgemind.utils import display_text

    print(f"judge sheet: {display_text(paths['sheet'])}\nresult: {display_text(paths['result'])}\n"
          f"timeline: {display_text(paths['timeline'])}")
    return 0
