"""Regenerate every table of docs/results.md: the SynthAerials preset, its shortcut audit, every model tuned with
one budget, the paper's claims with intervals, camera-switch robustness, the data-efficiency curve and the
video-only path - one resumable command.

    python benchmarks/ladder.py --preset bench --out /tmp/ladder                 # everything (docs/ of this checkout)
    python benchmarks/ladder.py --preset bench --out /tmp/ladder --steps data,main,tables
    python benchmarks/ladder.py --preset bench --out /tmp/ladder --steps tables  # re-render from what is there

Running the same command again continues an interrupted suite (finished data, caches and runs are kept). A folder
made with another preset, other settings or other code is refused. Numbers are SYNTHETIC (SynthAerials). See
judgemind.bench.ladder for what each step runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from judgemind.bench.ladder import LADDER_GRID, STEPS, LadderConfig, run_suite
from judgemind.errors import JudgemindError


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _steps(text: str) -> tuple[str, ...]:
    steps = tuple(s.strip() for s in text.split(",") if s.strip())
    bad = [s for s in steps if s not in STEPS]
    if bad or not steps:
        raise argparse.ArgumentTypeError(
            f"unknown step(s) {', '.join(bad) or '(none)'}; choose from {', '.join(STEPS)}"
        )
    return steps


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--preset", default="bench", help="the SynthAerials preset (default bench)")
    p.add_argument("--out", required=True, type=Path, help="suite folder (data sets, caches, bench runs)")
    p.add_argument("--n", type=int, default=0, help="jumps (default: the preset's); a smaller set is a quick pass")
    p.add_argument("--seeds", type=_ints, default=(0, 1, 2), help="training seeds (default 0,1,2)")
    p.add_argument("--epochs", type=int, default=40, help="epochs ceiling of every trained model (default 40)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--budget", type=int, default=8, help="tuning points per model, the same for all (default 8)")
    p.add_argument("--grid", default=LADDER_GRID, help=f"tuning grid (default {LADDER_GRID!r})")
    p.add_argument("--sizes", type=_ints, default=(100, 200, 400, 800), help="training-set sizes of the curve")
    p.add_argument("--steps", type=_steps, default=STEPS, help=f"steps to run (default all: {','.join(STEPS)})")
    p.add_argument("--jobs", type=int, default=0, help="bench runs in parallel (default: judgemind bench's)")
    p.add_argument(
        "--docs", type=Path, default=Path(__file__).resolve().parents[1] / "docs", help="docs folder to write"
    )
    a = p.parse_args(argv)
    cfg = LadderConfig(
        out=a.out,
        preset=a.preset,
        n=a.n,
        seeds=a.seeds,
        epochs=a.epochs,
        batch_size=a.batch_size,
        budget=a.budget,
        grid=a.grid,
        sizes=a.sizes,
        steps=a.steps,
        jobs=a.jobs,
        docs=a.docs,
    )
    try:
        run_suite(cfg)
    except JudgemindError as exc:
        print(f"ladder: {exc}", file=sys.stderr)
        return 2
    print(f"tables: {cfg.docs / 'results.md'}; sources: {cfg.docs / 'results' / 'ladder'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
