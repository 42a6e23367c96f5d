"""The files of a round (``judgemind score VIDEOS...``, scored by ``judgemind.infer.round``): ``OUT/index.html``
(the ranking with scores, 90 % intervals and in-distribution warnings, links to each jump's sheet) and
``OUT/round.json``."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any
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


def render_index(doc: dict) -> str:
    """OUT/index.html: the ranking with scores, intervals and warnings, links to each sheet, failures listed."""

    rows = []
    for r in doc["jumps"]:
        if r["status"] == "failed":
            rows.append(
                f"<tr class='failed'><td>-</td><td>{_e(r['name'])}</td><td colspan='6'>failed: "
                f"{_e(r.get('reason'))}</td></tr>"
            )
            continue
        ood = r.get("in_distribution") is False
        iv = r.get("interval")
        c = r.get("components") or {}
        warn = jump_flag(r)
        rows.append(
            f"<tr class='jump{' ood' if ood else ''}' data-name='{_e(r['name'])}'><td>{r['rank']}</td>"
            f"<td><a href='{_e(quote(r['sheet']))}'>{_e(r['name'])}</a></td><td>{_e(r.get('action_code'))}</td>"
            f"<td>{_e(r.get('dd'))}</td><td class='score{' greyed' if ood else ''}'>"
            f"{_e(r.get('final_score'))}</td><td class='interval'>"
            f"{f'{iv[0]:.2f} &ndash; {iv[1]:.2f}' if iv else '-'}</td>"
            f"<td>{_e(' / '.join(str(c.get(k, '-')) for k in COMPONENTS))}</td>"
            f"<td>{warn}{_e(r.get('official_score') or '')}</td></tr>"
        )
    failed = doc["failed"]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>judgemind round</title>"
        f"<style>{SHEET_CSS} tr.failed td{{color:#b71c1c}} .ood-flag{{color:#b71c1c;font-weight:600;"
        "margin-right:6px} .feature-flag{color:#8a6d00;margin-right:6px}</style></head><body><header><div>"
        "<h1>Round &middot; "
        f"{doc['n']} jumps</h1><div class='sub'>checkpoint {_e(doc['checkpoint'])}</div></div>"
        f"<div class='scorebox'><div class='j'>{failed} failed &middot; {doc['not_in_distribution']} flagged as "
        "not an aerials jump</div></div></header><main><section><h2>Ranking</h2><table id='ranking'><tr>"
        "<th>Rank</th><th>Jump</th><th>Code</th><th>DD</th><th>Score</th><th>90% interval</th>"
        "<th>Air / Form / Landing</th><th>Warning / official score</th></tr>"
        f"{''.join(rows)}</table><p class='muted'>Jumps flagged as possibly not an aerials jump are ranked "
        "after the others, their scores greyed; open a jump's sheet for its reasons.</p></section></main>"
        "</body></html>"
    )
