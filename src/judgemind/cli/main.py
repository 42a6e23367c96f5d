"""Entry point of the ``judgemind`` command.

Each subcommand lives in its own module ``judgemind.cli.cmd_<name>`` with a function ``add_parser(subparsers)``
that adds its parser and sets ``func`` (called with the parsed ``args``; returns an exit code or None).
Modules are imported when the parser is built, but heavy libraries (torch, av, mediapipe) are imported inside
``run`` functions so that ``judgemind --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from judgemind import __version__
from judgemind.errors import JudgemindError

# Order is the order shown by --help.
COMMANDS = [
    "demo",
    "score",
    "synth",
    "extract",
    "extractors",
    "train",
    "evaluate",
    "predict",
    "bench",
    "models",
    "evaluate_predictions",
    "data",
    "rules",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="judgemind",
        description="Score freestyle-skiing aerials jumps from video the way a judging panel does: stages, "
        "Air/Form/Landing, likely deductions and the official score (J x DD, truncated).",
        epilog="Start with `judgemind demo --quick`. Run `judgemind COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"judgemind {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMANDS:
        module = importlib.import_module(f"judgemind.cli.cmd_{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach a model hub at run time
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        code = args.func(args)
    except JudgemindError as exc:
        print(f"judgemind {args.command}: error: {exc}", file=sys.stderr)
        problems = getattr(exc, "problems", None)
        if problems:
            for p in problems[:200]:
                print(f"  - {p}", file=sys.stderr)
            if len(problems) > 200:
                print(f"  ... and {len(problems) - 200} more", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"judgemind {args.command}: interrupted; finished outputs are kept, re-run to resume", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
