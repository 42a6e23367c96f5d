"""`judgemind evaluate` (placeholder until its issue lands)."""

from __future__ import annotations

from judgemind.errors import JudgemindError


def add_parser(sub) -> None:
    p = sub.add_parser("evaluate", help="(not yet available)")
    p.set_defaults(func=run)


def run(args) -> int:
    raise JudgemindError("`judgemind evaluate` is not implemented yet")
