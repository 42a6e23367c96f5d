"""`judgemind serve [--host 127.0.0.1] [--port 8000] [--checkpoint RUN] [--data DIR] [--workers N] [--token T]
[--root FOLDER]`: the local web app -- score clips in a browser (upload, a persistent queue, judge sheets, a round's
ranking) and annotate a FineSkiing data set (see docs/serve.md; the app is :mod:`judgemind.serve`)."""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from judgemind.cli.commands import COMMANDS
from judgemind.errors import JudgemindError
from judgemind.serve.app import ServeConfig
from judgemind.serve.server import run_server
from judgemind.serve.uploads import Limits
from judgemind.serve.worker import ScoreOptions

_EXAMPLES = """examples:
  judgemind serve --checkpoint runs/x/best.pt                  score clips at http://127.0.0.1:8000/
  judgemind serve --checkpoint runs/x/best.pt --data data/mine  score, and annotate data/mine
  judgemind serve --host 0.0.0.0 --token "$(python -c 'import secrets; print(secrets.token_urlsafe(24))')" ...
"""


def add_common(p, annotate: bool = False) -> None:
    """The options `serve` and `annotate` share."""
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (another than the loopback needs --token)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free port)")
    p.add_argument(
        "--checkpoint",
        help="RUN/best.pt (or a run folder) of `judgemind train` that scores uploads"
        + ("; with it, clips are pre-filled from the model" if annotate else "; without it the score pages are off"),
    )
    p.add_argument("--workers", type=int, default=1, help="scoring worker processes (each loads the model once)")
    p.add_argument("--token", help="a secret every request must carry (required with a non-loopback --host)")
    p.add_argument(
        "--root",
        default="judgemind_serve",
        help="the server's folder: its job queue, uploads and results (a restart resumes from it)",
    )
    p.add_argument("--max-upload-mb", type=float, default=500.0, help="largest clip accepted (MB)")
    p.add_argument("--locator", choices=["mediapipe", "hog", "motion", "annotation"], help="as in `judgemind score`")
    p.add_argument(
        "--perception", choices=["aerialspose", "mediapipe"], help="as in `judgemind score` (skeleton checkpoints)"
    )
    p.add_argument("--weights", help="as in `judgemind score`: backbone weights, when the features were made with one")
    p.add_argument("--threshold", type=float, help="as in `judgemind score`: list deductions from this probability")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "serve",
        help=COMMANDS["serve"],
        description="Start a local web app. Score: upload clips (drag and drop) with their action codes, or pick "
        "videos of --data; a persistent queue scores them (--workers processes, the model loaded once each) into "
        "the same files as `judgemind score`: a judge sheet per jump and a round page ranking them. Annotate "
        "(--data): stages, deductions, the five judges' marks and the code of a clip, validated like `judgemind data "
        "validate` and saved into the data set. Listens on 127.0.0.1 unless told otherwise. See docs/serve.md.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(p)
    p.add_argument("--data", help="a FineSkiing data set folder: its videos can be scored, and it can be annotated")
    p.set_defaults(func=run, start="score")


def run(args) -> int:

    if args.checkpoint is None and args.data is None:
        raise JudgemindError("nothing to serve: give --checkpoint RUN (score clips) and/or --data DATASET (annotate)")
    if not 0 <= args.port <= 65535:
        raise JudgemindError(f"--port must be 0-65535, got {args.port}")
    if not 1 <= args.workers <= 64:
        raise JudgemindError(f"--workers must be 1-64, got {args.workers}")
    if not (math.isfinite(args.max_upload_mb) and 0 < args.max_upload_mb <= 1 << 20):
        raise JudgemindError(f"--max-upload-mb must be a positive size, got {args.max_upload_mb}")
    if args.threshold is not None and not (math.isfinite(args.threshold) and 0.0 <= args.threshold <= 1.0):
        raise JudgemindError(f"--threshold must be a probability in [0, 1], got {args.threshold}")
    data = Path(args.data) if args.data else None
    if data is not None and not (data / "dataset.json").is_file():
        raise JudgemindError(f"--data {data}: not a FineSkiing data set folder (no dataset.json)")
    cfg = ServeConfig(
        root=Path(args.root),
        checkpoint=args.checkpoint,
        data=data,
        host=args.host,
        token=args.token,
        start=args.start,
        limits=Limits(max_file_bytes=int(args.max_upload_mb * (1 << 20))),
        workers=args.workers,
    )
    opts = None
    if args.checkpoint is not None:
        opts = ScoreOptions(
            checkpoint=args.checkpoint,
            locator=args.locator,
            weights=args.weights,
            perception=args.perception,
            threshold=args.threshold,
            threads=max(1, ((os.cpu_count() or 2) - 1) // args.workers),
        )
    run_server(cfg, opts, args.port, announce=lambda line: print(line, flush=True))
    return 0
