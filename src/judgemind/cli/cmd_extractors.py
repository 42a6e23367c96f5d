"""`judgemind extractors`: list the feature extractors and athlete locators with what each needs."""

from __future__ import annotations

import dataclasses
import importlib.util
import json

from judgemind.cli.commands import COMMANDS
from judgemind.features.base import list_extractors
from judgemind.video.locators import list_locators


def add_parser(sub) -> None:
    p = sub.add_parser(
        "extractors",
        help=COMMANDS["extractors"],
        description="List the registered feature extractors (token sizes, weights, packages) and athlete locators.",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=run)


def _available(package: str) -> bool:

    return importlib.util.find_spec(package) is not None


def run(args) -> int:

    exts, locs = list_extractors(), list_locators()
    if args.json:
        print(
            json.dumps(
                {
                    "extractors": [dataclasses.asdict(e) for e in exts],
                    "locators": [dataclasses.asdict(x) for x in locs],
                },
                indent=2,
            )
        )
        return 0

    def pkgs(req):
        return ", ".join(p + ("" if _available(p) else " (missing)") for p in req) or "-"

    rows = [("extractor", "dims (global / fg)", "steps", "weights", "packages", "description")]
    rows += [(e.name, e.dims, e.default_steps, e.weights or "none", pkgs(e.requires), e.description) for e in exts]
    _table(rows)
    print()
    rows = [("locator", "keypoints", "needs", "packages", "description")]
    rows += [
        (
            x.name,
            "yes" if x.keypoints else "no",
            "record boxes" if x.needs_record_boxes else "-",
            pkgs(x.requires),
            x.description,
        )
        for x in locs
    ]
    _table(rows)
    print("\nUse: judgemind extract DATASET --extractor NAME [--locator NAME] [--weights FILE|DIR]")
    return 0


def _table(rows) -> None:
    widths = [max(len(str(r[i])) for r in rows[:]) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)) + "  " + str(r[-1]))
