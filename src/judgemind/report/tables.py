"""Tables for reports: one :class:`Table` rendered as Markdown or CSV, and number formatting.

    t = Table(["model", "rho"], [["judgemind", fmt_mean_std(0.93, 0.004, 3)]], title="SynthAerials test")
    write_text(out / "bench.md", t.to_markdown())
    write_csv(out / "bench.csv", t)

Cells are strings or numbers; ``None`` and NaN render as an en dash in Markdown and as an empty field in CSV.
Writes are atomic.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass, field
from typing import Any, Sequence

from judgemind.utils.atomic import atomic_write_text

DASH = "–"


def is_missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_num(x: Any, digits: int = 3) -> str:
    """``x`` with ``digits`` decimals; missing -> en dash; ints and strings as they are."""
    if is_missing(x):
        return DASH
    if isinstance(x, bool) or isinstance(x, str):
        return str(x)
    if isinstance(x, int):
        return str(x)
    return f"{float(x):.{digits}f}"


def fmt_mean_std(mean: Any, std: Any = None, digits: int = 3) -> str:
    """``"0.912 ± 0.004"``; the std is left out when missing (one seed)."""
    if is_missing(mean):
        return DASH
    if is_missing(std):
        return fmt_num(mean, digits)
    return f"{float(mean):.{digits}f} ± {float(std):.{digits}f}"


def fmt_count(n: Any) -> str:
    """Parameter counts and the like: ``1234567 -> "1.23M"``, ``52300 -> "52.3k"``."""
    if is_missing(n):
        return DASH
    n = float(n)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:.0f}"


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


@dataclass
class Table:
    """A titled table. ``align`` per column: ``"l"``, ``"r"`` or ``"c"`` (default: left for the first column,
    right for the others)."""

    columns: list[str]
    rows: list[list[Any]]
    title: str = ""
    notes: list[str] = field(default_factory=list)
    align: list[str] | None = None

    def __post_init__(self):
        for i, r in enumerate(self.rows):
            if len(r) != len(self.columns):
                raise ValueError(f"table {self.title!r}: row {i} has {len(r)} cells for {len(self.columns)} columns")

    def _cell(self, x: Any) -> str:
        return DASH if is_missing(x) else (x if isinstance(x, str) else fmt_num(x))

    def to_markdown(self, heading: str = "###") -> str:
        align = self.align or ["l"] + ["r"] * (len(self.columns) - 1)
        rule = {"l": ":---", "r": "---:", "c": ":---:"}
        lines = []
        if self.title:
            lines += [f"{heading} {self.title}", ""]
        lines.append("| " + " | ".join(_md_escape(c) for c in self.columns) + " |")
        lines.append("|" + "|".join(rule.get(a, "---") for a in align) + "|")
        for r in self.rows:
            lines.append("| " + " | ".join(_md_escape(self._cell(x)) for x in r) + " |")
        if self.notes:
            lines.append("")
            lines += [f"{n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        for r in self.rows:
            w.writerow(["" if is_missing(x) else x for x in r])
        return buf.getvalue()


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> str:
    return Table(list(columns), [list(r) for r in rows], title).to_markdown()


def write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_text(path, text)


def write_csv(path: str | os.PathLike, table: Table) -> None:
    atomic_write_text(path, table.to_csv())
