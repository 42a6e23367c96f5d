"""`judgemind synth`: write a SynthAerials dataset (synthetic aerials videos with FineSkiing annotations)."""

from __future__ import annotations

import argparse
import time

from judgemind.cli.commands import COMMANDS
from judgemind.rules.names import DEFAULT_FPS
from judgemind.synth import generate, write_preview
from judgemind.synth.stats import box_height_table
from judgemind.synth.writer import resolve_preset

# The cut patterns of judgemind.synth.spec.CUT_MODES, spelled out here so that `--help` does not import the
# generator (start-up time); tests/synth/test_synth_cli.py checks that they agree.
CUT_MODES = ("none", "broadcast", "heavy")

_EXAMPLES = """examples:
  judgemind synth data/bench --preset bench           the SynthAerials benchmark (2000 jumps, 160 px, seed 2026)
  judgemind synth data/bench_heavy --preset bench --cuts heavy   the same 2000 jumps, filmed with many more cuts
  judgemind synth data/synth --n 300 --seed 0
  judgemind synth data/small --n 24 --size 96 --fps 25 --codes bLT,bFdFF --preview data/small/contact.png
  judgemind synth data/synth --n 300 --seed 0        (again: resumes an interrupted run)

The videos are SYNTHETIC (a drawn stick figure); see docs/synth.md for what that means.
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "synth",
        help=COMMANDS["synth"],
        description="Render procedurally generated aerials jumps (in-run, kicker, somersaults and twists of the "
        "jump code, landing) with faults from the deduction catalogue, judged by a simulated 5-judge panel, into "
        "a FineSkiing-format dataset folder: videos/*.mp4 (h264), annotations.jsonl and dataset.json with "
        "train/val/test splits. Deterministic by --seed; an interrupted run resumes when the same command is run "
        "again.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "out", metavar="OUT", help="dataset folder to create (new or empty, or an unfinished run of the same settings)"
    )
    p.add_argument(
        "--preset",
        help="a named standard set: 'bench' = the SynthAerials benchmark every accuracy "
        "figure is quoted on (2000 jumps, 1400/300/300, 160 px, seed 2026); --n, "
        "--seed, --size, --fps override it",
    )
    p.add_argument("--n", type=int, default=None, help="number of jumps (default 300)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    p.add_argument("--size", type=int, default=None, help="square frame size in pixels, even, >= 64 (default 128)")
    p.add_argument("--fps", type=float, default=None, help="frames per second (default 25)")
    p.add_argument(
        "--cuts",
        choices=CUT_MODES,
        default=None,
        help="camera switches, a controlled variable (the same seed gives the same jumps, judges and marks under "
        "each; only the shots differ): 'none' one shot for the whole clip, 'broadcast' 2-4 shots cutting near "
        "take-off, mid-flight and touchdown (default), 'heavy' 4-7 shots cutting anywhere, mid-flight included; "
        "recorded in dataset.json (extra.generator.cuts); a preset keeps it",
    )
    p.add_argument("--workers", type=int, default=2, help="processes rendering jumps in parallel (default 2)")
    p.add_argument(
        "--codes",
        help="comma-separated jump codes to draw from uniformly (default: a World-Cup-like "
        "mix of the DD table's codes; see `judgemind rules codes`)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the dataset files (dataset.json, annotations.jsonl, videos/, .synth/) in OUT",
    )
    p.add_argument(
        "--preview",
        metavar="PNG",
        help="also write a contact sheet of frames with stage and fault labels to this image",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:

    defaults = {"n": 300, "seed": 0, "size": 128, "fps": DEFAULT_FPS, "cuts": "broadcast"}
    prm = resolve_preset(args.preset, n=args.n, seed=args.seed, size=args.size, fps=args.fps, cuts=args.cuts)
    prm = {**defaults, **prm}
    t0 = time.time()
    out = generate(
        args.out,
        n=prm["n"],
        seed=prm["seed"],
        size=prm["size"],
        fps=prm["fps"],
        workers=args.workers,
        codes=args.codes,
        overwrite=args.overwrite,
        progress=not args.no_progress,
        cuts=prm["cuts"],
    )
    print(
        f"wrote {prm['n']} synthetic jumps ({prm['size']} px, seed {prm['seed']}, cuts {prm['cuts']}) to {out} in "
        f"{time.time() - t0:.1f} s (check: judgemind data validate {out}; ceilings: judgemind data stats {out})"
    )
    print(box_height_table(out))
    if args.preview:
        png = write_preview(out, args.preview)
        print(f"contact sheet: {png}")
    return 0
