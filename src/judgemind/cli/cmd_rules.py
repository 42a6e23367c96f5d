"""`judgemind rules` (placeholder until its issue lands)."""

from __future__ import annotations

from judgemind.errors import JudgemindError


def add_parser(sub) -> None:
    p = sub.add_parser("rules", help="(not yet available)")
    p.set_defaults(func=run)


def run(args) -> int:
    raise JudgemindError("`judgemind rules` is not implemented yet")
