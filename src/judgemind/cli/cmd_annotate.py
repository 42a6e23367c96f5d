"""`judgemind annotate DATASET [--checkpoint RUN] ...`: `judgemind serve --data DATASET` opened on its annotate
page (stages, deductions, the five judges' marks and the code of each clip; see docs/serve.md)."""

from __future__ import annotations

import argparse

from judgemind.cli import cmd_serve
from judgemind.cli.commands import COMMANDS


def add_parser(sub) -> None:
    p = sub.add_parser(
        "annotate",
        help=COMMANDS["annotate"],
        description="Start `judgemind serve --data DATASET` on its annotate page: open a clip, step through it "
        "frame by frame, set the stage boundaries, add deductions at their frames, enter the five judges' marks "
        "and the action code (pre-filled from the model's result where there is one), and save: the record is "
        "validated like `judgemind data validate` and written into DATASET atomically under its lock. A data "
        "set that does not validate is listed with its errors instead. See docs/serve.md.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("data", metavar="DATASET", help="the FineSkiing data set folder to annotate")
    cmd_serve.add_common(p, annotate=True)
    p.set_defaults(func=cmd_serve.run, start="annotate")
