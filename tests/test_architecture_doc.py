"""docs/architecture.md's package table matches the code: one row for every package and top-level module of
``src/judgemind``, no package imports what its row says it must never import (read from the same import graph as
the import-circle test), and every entry point named in the table exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from test_import_cycles import import_graph

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "judgemind"


def table() -> dict[str, dict[str, str]]:
    """``{unit: {"never": cell, "entries": cell}}``, unit = a package (``rules``) or a top-level module
    (``errors``), from the rows ``| `rules/` | owns | must never import | main entry points |``."""
    rows = {}
    for line in (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 4, f"architecture.md table row without 4 cells: {line[:80]}"
        for unit in re.findall(r"`([^`]+)`", cells[0]):
            rows[unit.rstrip("/").removesuffix(".py")] = {"never": cells[2], "entries": cells[3]}
    return rows


def units() -> set[str]:
    out = {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    return out | {p.stem for p in PKG.glob("*.py") if p.stem != "__init__"}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def forbidden(cell: str, unit: str, all_units: set[str]) -> set[str]:
    """The units a row's "must never import" cell forbids (parenthesised remarks are not part of the rule)."""
    rule = re.sub(r"\([^)]*\)", "", cell)
    named = set(re.findall(r"`([^`]+)`", rule))
    if re.match(r"\s*(anything|everything) but", rule):
        return all_units - named - {unit}
    return named


def test_the_table_has_a_row_for_every_package_and_module():
    rows, found = set(table()), units()
    assert rows == found, (
        f"docs/architecture.md's table lacks {sorted(found - rows)} and names "
        f"{sorted(rows - found)}, which are not in src/judgemind"
    )


def test_no_package_imports_what_the_table_forbids():
    rows, all_units = table(), units()
    graph = import_graph()
    breaches = []
    for module, deps in sorted(graph.items()):
        unit = _unit(module)
        if unit not in rows:
            continue
        banned = forbidden(rows[unit]["never"], unit, all_units)
        breaches += [f"{module} imports {d}" for d in sorted(deps) if _unit(d) in banned and _unit(d) != unit]
    assert not breaches, "imports that docs/architecture.md says must never happen:\n" + "\n".join(breaches)


def test_nothing_imports_the_cli():
    graph = import_graph()
    users = sorted(m for m, deps in graph.items() if _unit(m) != "cli" and any(_unit(d) == "cli" for d in deps))
    assert not users, f"only the cli imports the cli: {users}"


def _resolve(name: str, unit: str):
    if ":" in name:
        module, attr = name.split(":")
        return getattr(importlib.import_module(module), attr)
    for base in (f"judgemind.{unit}", "judgemind"):
        try:
            obj = importlib.import_module(base)
            for part in name.split("."):
                obj = getattr(obj, part) if hasattr(obj, part) else importlib.import_module(f"{obj.__name__}.{part}")
            return obj
        except (ImportError, AttributeError):
            continue
    raise AssertionError(
        f"{name} (the {unit} row of docs/architecture.md) is neither judgemind.{unit}.{name} nor judgemind.{name}"
    )


def test_every_entry_point_exists():
    for unit, row in table().items():
        for name in re.findall(r"`([^`]+)`", row["entries"]):
            _resolve(name, unit)


def test_the_rule_reader():
    all_units = {"rules", "errors", "data", "video"}
    assert forbidden("anything but `errors` (no torch, numpy, data)", "rules", all_units) == {"data", "video"}
    assert forbidden("`data`, `video` (it may read `bench.plan`)", "x", all_units) == {"data", "video"}
    assert forbidden("— (nothing imports `cli`)", "cli", all_units) == set()
