"""The files of a round (``judgemind score VIDEOS...``, scored by ``judgemind.infer.round``): ``OUT/index.html``
(the ranking, links to each jump's sheet) and ``OUT/round.json``.

The ranking has one column per fact (:data:`COLUMNS`): the rank range (the best and worst rank consistent with the
90 % intervals), the "is this an aerials jump?" warning, the model's score,
its 90 % interval, the marks, and -- for jumps of an annotated data set -- the panel's official score and the model's
error. A flagged jump's numbers from the model are greyed.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Callable, NamedTuple
from urllib.parse import quote

from judgemind.report.sheet import SHEET_CSS
from judgemind.rules.names import COMPONENTS
from judgemind.utils import clean_json
from judgemind.utils.atomic import atomic_write_bytes


def write_round(out: Path, doc: dict) -> None:
    """``OUT/round.json`` and ``OUT/index.html`` of a round document (``judgemind.infer.round.score_round``)."""
    atomic_write_bytes(
        out / "round.json", (json.dumps(clean_json(doc), indent=2, allow_nan=False) + "\n").encode("utf-8")
    )
    atomic_write_bytes(out / "index.html", render_index(doc).encode("utf-8"))


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def jump_flag(r: dict) -> str:
    """The round page's warning of one jump: flagged as not an aerials jump (with the jump check's margin), or the
    softer "features unlike training"; empty otherwise."""
    m = r.get("jump_margin")
    margin = "" if m is None else f" (margin {m:+.2f})"
    if r.get("in_distribution") is False:
        return (
            f"<span class='ood-flag' title='{_e('; '.join(r.get('ood_reasons') or []))}'>&#9888; not an aerials "
            f"jump?{_e(margin)}</span>"
        )
    if r.get("features_unlike_training"):
        return "<span class='feature-flag' title='features unlike the training set'>features unlike training</span>"
    return ""


class Column(NamedTuple):
    """A ranking column: its header, its cells' class, whether the model made it (greyed on a flagged jump),
    whether it is shown only when some jump has a value, and the cell's HTML of a row."""

    header: str
    cls: str
    from_model: bool
    optional: bool
    cell: Callable[[dict], str]


def _rank_range(r: dict) -> str:
    """``best–worst`` (one number when the intervals fix the rank; ``-`` for a row without one)."""
    rr = r.get("rank_range")
    if not rr:
        return "-"
    return _e(rr[0]) if rr[0] == rr[1] else f"{_e(rr[0])}&ndash;{_e(rr[1])}"


def _warning(r: dict) -> str:
    """The "Aerials jump?" cell: :func:`jump_flag`'s warning, else a tick for a jump the check passed."""
    return jump_flag(r) or ("<span class='ok'>&#10003;</span>" if r.get("in_distribution") else "-")


def _interval(r: dict) -> str:
    iv = r.get("interval")
    return f"{iv[0]:.2f} &ndash; {iv[1]:.2f}" if iv else "-"


COLUMNS = (
    Column("Rank", "rank", False, False, lambda r: _e(r["rank"])),
    Column(
        "<span title='the best and worst rank consistent with the 90% intervals'>Rank range</span>",
        "rank-range",
        True,
        False,
        _rank_range,
    ),
    Column("Jump", "name", False, False, lambda r: f"<a href='{_e(quote(r['sheet']))}'>{_e(r['name'])}</a>"),
    Column("Code", "code", False, False, lambda r: _e(r.get("action_code"))),
    Column("DD", "dd", False, False, lambda r: _e(r.get("dd"))),
    Column("Aerials jump?", "warning", False, False, _warning),
    Column("Model score", "score", True, False, lambda r: _e(r.get("final_score"))),
    Column("90% interval", "interval", True, False, _interval),
    Column(
        "Air / Form / Landing",
        "marks",
        True,
        False,
        lambda r: _e(" / ".join(str((r.get("components") or {}).get(k, "-")) for k in COMPONENTS)),
    ),
    Column("Panel score", "official", False, True, lambda r: _e(r.get("official_score") or "-")),
    Column("Error (model &minus; panel)", "error", True, True, lambda r: _e(r.get("error") or "-")),
)


def render_index(doc: dict) -> str:
    """OUT/index.html: the ranking (:data:`COLUMNS`; the panel's columns only when some jump has a panel), links
    to each sheet, failures listed."""

    jumps = doc["jumps"]
    known = {"official": "official_score", "error": "error"}
    cols = [c for c in COLUMNS if not c.optional or any(r.get(known[c.cls]) is not None for r in jumps)]
    rows = []
    for r in jumps:
        if r["status"] == "failed":
            rows.append(
                f"<tr class='failed'><td>-</td><td class='name'>{_e(r['name'])}</td><td colspan='{len(cols) - 2}'>"
                f"failed: {_e(r.get('reason'))}</td></tr>"
            )
            continue
        ood = r.get("in_distribution") is False
        cells = "".join(
            f"<td class='{c.cls}{' greyed' if ood and c.from_model else ''}'>{c.cell(r)}</td>" for c in cols
        )
        rows.append(f"<tr class='jump{' ood' if ood else ''}' data-name='{_e(r['name'])}'>{cells}</tr>")
    head = "".join(f"<th class='{c.cls}'>{c.header}</th>" for c in cols)
    failed = doc["failed"]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>judgemind round</title>"
        f"<style>{SHEET_CSS} tr.failed td{{color:#b71c1c}} .ood-flag{{color:#b71c1c;font-weight:600}}"
        " .feature-flag{color:#8a6d00} .ok{color:#2e7d32} td.greyed{text-decoration:line-through}"
        " td.score,td.interval,td.official,td.error"
        "{font-variant-numeric:tabular-nums}</style></head><body><header><div><h1>Round "
        f"&middot; {doc['n']} jumps</h1><div class='sub'>checkpoint {_e(doc['checkpoint'])}</div></div>"
        f"<div class='scorebox'><div class='j'>{failed} failed &middot; {doc['not_in_distribution']} flagged as "
        "not an aerials jump</div></div></header><main><section><h2>Ranking</h2><table id='ranking'>"
        f"<tr>{head}</tr>{''.join(rows)}</table><p class='muted'>Ranked by the model's score. Jumps flagged as "
        "possibly not an aerials jump are ranked after the others, the model's numbers greyed; open a jump's sheet "
        "for its reasons. The panel's score and the model's error are shown for jumps of an annotated data set."
        "</p></section></main></body></html>"
    )
