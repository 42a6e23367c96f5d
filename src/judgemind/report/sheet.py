"""The judge sheet: a self-contained HTML page (images inlined) that explains one scored jump.

Input is the JSON result of ``judgemind score`` (see :func:`judgemind.infer.score_video`) plus
already-encoded images. Layout, top to bottom: headline (final score, J, DD, code), the stages (a bar with whole
labels, a strip of frames), Air / Form / Landing cards with their band names, the panel beside the model (a data
set's record), the listed deductions (calibrated probability, threshold, expected points, and the item's own
evidence: a crop around the athlete at the frame its attention picks, a strip of frames for an item about motion,
the skeleton drawn over it (a toggle), a click on it opens the whole frame; an exclusive group on one line;
"uncalibrated" scores for a run without deduction calibration), the timeline plot, provenance. A video flagged as
not like an aerials jump greys everything that comes from the model (``.from-model``) and lists nothing as likely.

Elements carry stable ids/classes (``#final-score``, ``#score-interval``, ``#ood-warning``, ``.component``,
``#deductions`` (``data-calibrated``), ``.deduction`` (``data-listed``, ``data-item``), ``.evidence`` (a
``<details>``: ``.crop`` images, ``.large`` the whole frame), ``#show-skeleton``, ``#deductions-uncalibrated``,
``#deductions-suppressed``, ``#panel-table``, ``#timeline``, ``#provenance``, ``body.flagged``) so tests and users'
scripts can read them.
"""

from __future__ import annotations

import base64
import html
from typing import Any, Mapping, Sequence

from judgemind.data.result import ScoreResult
from judgemind.data.skeleton import SKELETON_BONES, SKELETON_POINTS
from judgemind.report import timeline
from judgemind.rules.names import COMPONENT_RANGES, COMPONENTS, STAGE_LABELS, STAGES

STAGE_COLOURS = dict(zip(STAGES, timeline.STAGE_COLOURS))
STAGE_TITLES = {s: label.capitalize() for s, label in zip(STAGES, STAGE_LABELS)}  # Take-off, Flight, Landing

SHEET_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f6f9;color:#1d2430}
header{background:#17324d;color:#fff;padding:18px 28px;display:flex;justify-content:space-between;align-items:center}
header h1{margin:0;font-size:22px} header .sub{opacity:.8;font-size:14px}
#final-score{font-size:44px;font-weight:700} .scorebox{text-align:right} .scorebox .j{font-size:14px;opacity:.85}
main{padding:18px 28px;max-width:1180px} section{background:#fff;border-radius:8px;padding:14px 18px;margin-bottom:16px;
box-shadow:0 1px 3px rgba(0,0,0,.08)} h2{font-size:16px;margin:0 0 10px 0;color:#17324d}
.strip{display:flex;gap:4px;overflow-x:auto} .strip figure{margin:0;text-align:center;font-size:11px}
.strip img{display:block;height:96px;border-bottom:5px solid #999;border-radius:3px}
.stagebar{display:flex;height:18px;border-radius:9px;overflow:hidden;margin:8px 0 4px 0}
.stagebar .stage{color:#fff;font-size:11px;text-align:center;line-height:18px;container-type:inline-size;
white-space:nowrap;overflow:hidden}
@container (max-width:64px){.stagebar .stage span{display:none}}
.stagekey{font-size:12px;color:#445} .stagekey .chip{display:inline-block;width:10px;height:10px;border-radius:2px;
margin:0 4px 0 10px;vertical-align:-1px} .stagekey .chip:first-child{margin-left:0}
.components{display:flex;gap:14px} .component{flex:1;border:1px solid #dde3ea;border-radius:8px;padding:10px 12px}
.component .value{font-size:28px;font-weight:700} .component .band{font-size:13px;color:#445}
.component .max{font-size:14px;color:#889}
table{border-collapse:collapse;width:100%;font-size:13px}
td,th{padding:6px 8px;border-bottom:1px solid #eef1f4;text-align:left;vertical-align:middle}
.prob{display:inline-block;height:8px;background:#c84b31;border-radius:4px;vertical-align:middle;margin-right:6px}
.muted{color:#778;font-size:12px}
.warn{background:#fff6e0;border:1px solid #f0d48a;padding:8px 12px;border-radius:6px;font-size:13px;margin-top:8px}
#timeline img{max-width:100%}
.interval{font-size:13px;opacity:.9} .component .interval{color:#556}
.greyed{color:#9aa3ad !important;text-decoration:line-through;opacity:.7}
.flagged .from-model{color:#9aa3ad !important;filter:grayscale(1);opacity:.55}
#ood-warning{background:#fde2e1;border:2px solid #c62828;color:#7f1d1d;padding:12px 16px;border-radius:8px;
font-size:15px;margin-bottom:16px} #ood-warning b{font-size:17px}
#panel-table td.dropped{color:#99a;text-decoration:line-through} #panel-table tr.model td{font-weight:600}
.deduction{border-top:1px solid #eef1f4;padding:10px 0 12px 0}
.deduction.unlisted{opacity:.6} .deduction.greyed{text-decoration:none;opacity:1}
.deduction.greyed .probability,.deduction.greyed .points{text-decoration:line-through}
.ded-head{display:flex;gap:18px;align-items:baseline;flex-wrap:wrap;font-size:14px}
.ded-head .name{font-size:15px;min-width:220px} .ded-head .stage{color:#556;font-size:12px;margin-left:6px}
.ded-desc{margin:4px 0 6px 0}
.evidence summary{list-style:none;cursor:zoom-in;display:flex;gap:6px;align-items:flex-end;flex-wrap:wrap}
.evidence summary::-webkit-details-marker{display:none}
.evidence[open] summary{cursor:zoom-out}
.evidence figure{margin:0;font-size:11px;color:#556;text-align:center}
.pic{position:relative;display:inline-block;line-height:0}
.pic img{display:block;border-radius:4px} .pic svg{position:absolute;left:0;top:0;width:100%;height:100%;
pointer-events:none}
.skeleton line{stroke:#21e6c1;stroke-width:2;stroke-linecap:round} .skeleton circle{fill:#fff;stroke:#0b7a66}
.window rect{fill:none;stroke:#ffd200;stroke-width:2}
.evidence .large{margin-top:8px} .evidence .large img{max-width:100%;height:auto}
.evidence .hint{font-size:12px;color:#557;align-self:center;margin-left:6px}
#show-skeleton:not(:checked) ~ .deduction-list .skeleton{display:none}
.toggle{font-size:13px;color:#334;margin-left:4px}
"""


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def render_panel(panel: Mapping[str, Any], result: ScoreResult) -> str:
    """The annotated panel beside the model: each judge's marks (dropped ones struck through), the official score,
    the model's marks and its error per component."""
    counted, dropped = set(panel.get("counted") or []), set(panel.get("dropped") or [])
    keys = [k for k in (*COMPONENTS, "air_form", "score") if any(k in j for j in panel["judges"])]
    head = "".join(f"<th>{_e(k.replace('_', '+').title())}</th>" for k in keys)
    rows = []
    for i, j in enumerate(panel["judges"]):
        st = "dropped" if i in dropped else ("counted" if i in counted else "")
        cls = f" class='{st}'" if st else ""
        rows.append(
            f"<tr class='judge' data-judge='{i + 1}' data-status='{st}'><td>Judge {i + 1}</td>"
            + "".join(f"<td{cls}>{_e(j.get(k, '-'))}</td>" for k in keys)
            + f"<td{cls}>{_e(j.get('total'))}</td><td>{_e(st or '-')}</td></tr>"
        )
    means, comps, err = panel.get("component_means") or {}, result.components or {}, panel.get("model_error") or {}
    rows.append(
        "<tr class='mean'><td>Panel mean</td>"
        + "".join(f"<td>{_e(means.get(k, ''))}</td>" for k in keys)
        + "<td></td><td></td></tr>"
    )
    rows.append(
        "<tr class='model from-model'><td>Model</td>"
        + "".join(f"<td>{_e(comps.get(k, ''))}</td>" for k in keys)
        + "<td></td><td></td></tr>"
    )
    rows.append(
        "<tr class='error from-model'><td>Model error</td>"
        + "".join(f"<td>{_e(err.get(k, ''))}</td>" for k in keys)
        + "<td></td><td></td></tr>"
    )
    inside = panel.get("official_in_interval")
    note = (
        ""
        if inside is None
        else (
            " &middot; inside the model's 90% interval"
            if inside
            else " &middot; <b>outside</b> the model's 90% interval"
        )
    )
    return (
        "<section id='panel'><h2>The panel beside the model</h2><table id='panel-table'><tr><th></th>"
        f"{head}<th>Total</th><th>Status</th></tr>{''.join(rows)}</table><p>Official score <b id='official-score'>"
        f"{_e(panel.get('official_score'))}</b>{' (J = ' + _e(panel['J']) + ')' if panel.get('J') else ''}; "
        f"<span class='from-model'>model {_e(result.final_score)}, error <b id='final-error'>"
        f"{_e(err.get('final_score', '-'))}</b>{note}</span>. <span class='muted'>Highest and lowest judge totals "
        "are dropped; the other three count.</span></p></section>"
    )


def render_deductions(result: ScoreResult, evidence: Mapping[str, Any], ood: bool) -> str:
    """The deduction section: the listed items ranked by expected points, an exclusive group as one line ("flight
    length: short flight 70 %"), each with its evidence (:func:`render_evidence`); a run without deduction
    calibration shows scores marked uncalibrated, never probabilities; a flagged video lists nothing as likely
    (``#deductions-suppressed``) and greys every item."""
    cal = result.deduction_calibration or {}
    calibrated = bool(cal.get("calibrated"))
    deds = result.deductions or []
    listed = [d for d in deds if d.get("listed", d.get("above_threshold", True))] if not ood else []
    title = "Likely deductions" if calibrated else "Deduction scores (uncalibrated)"
    if ood:
        title = "Deductions: not meaningful for this video"
    parts = [
        f"<section id='deductions' class='from-model' data-calibrated='{str(calibrated).lower()}'><h2>{title}</h2>"
    ]
    if ood:
        parts.append(
            "<p class='muted' id='deductions-suppressed'>The video failed the in-distribution check, so no "
            "deduction is listed as likely; the model's guesses below are greyed out.</p>"
        )
    if not calibrated:
        thr = result.deduction_threshold
        parts.append(
            "<p class='warn' id='deductions-uncalibrated'><b>Uncalibrated.</b> This run has no deduction calibration: "
            "the numbers are the model's scores, not probabilities (its head over-states every item), listed from "
            f"{float(thr if thr is not None else 0.3):.2f}. Re-run <code>judgemind evaluate RUN</code> or train again "
            "to calibrate.</p>"
        )
    elif not ood:
        parts.append(
            f"<p class='muted'>Probabilities calibrated on {_e(cal.get('calibrated_on', 'the validation split'))}: "
            "of the items shown at 70 %, about 7 in 10 are taken by a panel. An item is listed when its probability "
            "reaches its own threshold (chosen there for at least 70 % precision); ranked by expected points "
            "(probability &times; the points it would cost).</p>"
        )
    if not listed and not ood:
        parts.append(
            "<p class='muted' id='no-confident-deduction'>No deduction item reaches its reporting threshold"
            + ("; the most likely is shown below, not listed" if deds else "")
            + ".</p>"
        )
    if deds:
        parts.append(
            "<p class='muted'>Evidence: the frame where the item's own attention is strongest (moved off a camera "
            "cut when its attention allows), cut around the athlete; five frames for an item about motion. Click a "
            "picture for the whole frame.</p>"
        )
        if any(_has_points(evidence.get(d["item"])) for d in deds):
            parts.append(
                "<input type='checkbox' id='show-skeleton' checked><label class='toggle' for='show-skeleton'>draw "
                "the skeleton the model read</label>"
            )
        parts.append("<div class='deduction-list'>")
        for d in deds:
            is_listed = d in listed
            parts.append(_deduction(d, evidence.get(d["item"]), calibrated, is_listed, ood))
        parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


def _deduction(d: Mapping[str, Any], ev, calibrated: bool, is_listed: bool, ood: bool) -> str:
    p = d.get("probability")
    v = float(p if p is not None else d.get("score") or 0.0)
    shown = f"{v:.0%}" if calibrated else f"score {v:.2f}"
    cls = "deduction" + ("" if is_listed else " unlisted") + (" greyed" if ood else "")
    name = _e(d.get("name", d["item"]))
    if d.get("group"):
        name = f"{_e(d['group'])}: {name}"
    thr = d.get("threshold")
    thr_txt = f" <span class='muted'>listed from {float(thr):.0%}</span>" if calibrated and thr is not None else ""
    pts = d.get("expected_points")
    pts_txt = f"<span class='points'>expected {float(pts):.2f} points</span>" if calibrated and pts is not None else ""
    return (
        f"<div class='{cls}' data-item='{_e(d['item'])}' data-listed='{str(is_listed).lower()}' "
        f"data-evidence-frame='{_e(d.get('evidence_frame', ''))}'><div class='ded-head'><span class='name'><b>"
        f"{name}</b><span class='stage'>{_e(STAGE_TITLES.get(d.get('stage'), d.get('stage')))}</span></span>"
        f"<span class='probability'><span class='prob' style='width:{int(60 * min(max(v, 0.0), 1.0))}px'></span>"
        f"{shown}{thr_txt}</span>{pts_txt}</div>"
        f"<div class='ded-desc muted'>What judges look for: {_e(d.get('description', ''))}</div>"
        f"{render_evidence(d, ev)}</div>"
    )


def _has_points(ev) -> bool:
    return isinstance(ev, Mapping) and any(c.get("points") for c in ev.get("crops", []))


def render_evidence(d: Mapping[str, Any], ev) -> str:
    """One item's evidence: its crop(s) (``ev["crops"]``, each with the skeleton drawn over it when known) inside
    the ``<summary>`` of a ``<details>`` whose body is the whole frame with the crop's window (``ev["large"]``).
    ``ev``: ``judgemind.report.score_outputs.encode_evidence``'s dict, or a data URI (one picture), or None."""
    if not ev:
        return f"<div class='muted'>evidence frame {_e(d.get('evidence_frame', '-'))}</div>"
    if isinstance(ev, str):
        ev = {"kind": "frame", "frame": d.get("evidence_frame"), "crops": [{"src": ev}], "large": None}
    crops = []
    for c in ev["crops"]:
        size = c.get("size")
        dims = f" width='{size}' height='{size}'" if size else ""
        svg = _skeleton_svg(c.get("points"), size, size) if size else ""
        mark = " (shown)" if ev["kind"] == "strip" and c.get("frame") == ev.get("frame") else ""
        crops.append(
            f"<figure class='crop' data-frame='{_e(c.get('frame', ''))}'><div class='pic'><img src='{c['src']}'"
            f"{dims} alt='frame {_e(c.get('frame', ''))} around the athlete'>{svg}</div><figcaption>frame "
            f"{_e(c.get('frame', ev.get('frame')))}{mark}</figcaption></figure>"
        )
    source = ev["crops"][0].get("box_from")
    where = {
        "athlete box": "around the athlete box",
        "skeleton": "around the skeleton",
        "whole frame": "the whole frame: no athlete box",
    }
    note = []
    peak = d.get("evidence_peak_frame")
    if peak is not None and peak != d.get("evidence_frame"):
        note.append(f"its attention peaks at frame {_e(peak)}, just after a camera cut")
    if source in where:
        note.append(where[source])
    large = ev.get("large")
    if not large:
        return f"<div class='evidence' data-kind='{_e(ev['kind'])}'>{''.join(crops)}</div>"
    w, h = large["width"], large["height"]
    x0, y0, x1, y1 = large["window"]
    window = (
        f"<svg class='window' viewBox='0 0 {w} {h}' preserveAspectRatio='none'><rect x='{x0:.1f}' y='{y0:.1f}' "
        f"width='{x1 - x0:.1f}' height='{y1 - y0:.1f}' vector-effect='non-scaling-stroke'/></svg>"
    )
    return (
        f"<details class='evidence' data-kind='{_e(ev['kind'])}'><summary>{''.join(crops)}<span class='hint'>"
        f"{'; '.join(note) + '. ' if note else ''}Click for the whole frame.</span></summary><figure class='large'>"
        f"<div class='pic'><img src='{large['src']}' width='{w}' height='{h}' alt='frame {_e(ev.get('frame'))}, "
        f"whole picture'>{window}{_skeleton_svg(large.get('points'), w, h)}</div><figcaption>frame "
        f"{_e(ev.get('frame'))}, the whole picture; the yellow box is the crop</figcaption></figure></details>"
    )


def _skeleton_svg(points, w, h) -> str:
    """The skeleton's bones and joints (``points``: [x, y] or None per point of ``SKELETON_POINTS``, in the
    picture's pixels) as an SVG laid over a ``w`` x ``h`` picture; "" without points."""
    if not points:
        return ""
    at = dict(zip(SKELETON_POINTS, points))
    lines = "".join(
        f"<line x1='{at[a][0]}' y1='{at[a][1]}' x2='{at[b][0]}' y2='{at[b][1]}' vector-effect='non-scaling-stroke'/>"
        for a, b in SKELETON_BONES
        if at.get(a) and at.get(b)
    )
    r = max(w, h) / 110
    dots = "".join(f"<circle cx='{p[0]}' cy='{p[1]}' r='{r:.1f}'/>" for p in points if p)
    return f"<svg class='skeleton' viewBox='0 0 {w} {h}' preserveAspectRatio='none'>{lines}{dots}</svg>"


def check_lines(result) -> str:
    """The jump check's verdict when it could not tell, and the softer "features unlike training" warning, each
    one line with its margin (a flagged video has its reasons in the red box above)."""
    out = []
    jc = result.jump_check or {}
    if jc.get("is_jump") is None and jc:
        why = "; ".join(f"{k}: {jc['tests'][k].get('note')}" for k in jc.get("not_measured") or [])
        out.append(
            f"<div id='jump-check-unknown' class='muted'>Is this an aerials jump? Could not tell ({_e(why)}).</div>"
        )
    fc = result.feature_check or {}
    if fc.get("unlike_training"):
        out.append(
            "<div id='feature-warning' class='muted'>&#9888; The video's features are unlike the training set's "
            f"(distance {fc['distance']:.2f} above {fc['threshold']:.2f}, margin {fc['margin']:+.2f}): the marks may "
            "be less accurate than the interval says.</div>"
        )
    return "".join(out)


def render_sheet(
    result: ScoreResult,
    strip: Sequence[Mapping[str, Any]],
    evidence: Mapping[str, Any] | None = None,
    timeline_png: bytes | None = None,
) -> str:
    """Build the HTML page.

    result: the scored jump (:class:`judgemind.data.result.ScoreResult`; read by attribute).
    strip: list of {"frame": int, "stage": str, "src": data-URI of a JPEG}.
    evidence: item id -> its encoded evidence (``judgemind.report.score_outputs.encode_evidence``; a plain
    data URI is shown as one picture).
    timeline_png: PNG bytes of the timeline plot.
    """
    evidence = evidence or {}
    # keys that a model does not predict are stored as None (e.g. no stages, no components for a baseline)
    prov = result.provenance or {}
    stages = result.stages or {}
    a, b = result.frames or [0, 1]
    total = max(1, b - a)
    parts = []
    parts.append(
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>judgemind judge sheet - {_e(result.video_name)}</title>"
        f"<style>{SHEET_CSS}</style></head>"
    )
    ood = result.in_distribution is False
    parts.append("<body class='flagged'>" if ood else "<body>")
    iv = result.intervals or {}
    fs_iv = iv.get("final_score")
    iv_html = (
        f"<div class='interval from-model' id='score-interval'>90% interval {fs_iv[0]:.2f} &ndash; {fs_iv[1]:.2f}</div>"
        if fs_iv
        else ""
    )
    parts.append(
        "<header><div><h1>Judge sheet &middot; "
        f"<span id='action-code'>{_e(result.action_code)}</span></h1>"
        f"<div class='sub'>{_e(result.code_description or '')} &middot; "
        f"{_e(result.video_name)}</div></div>"
        f"<div class='scorebox'><div id='final-score' class='from-model{' greyed' if ood else ''}'>"
        f"{_e(result.final_score)}</div>{iv_html}"
        f"<div class='j from-model'>J = <span id='judges-total'>{_e(result.J if result.J is not None else '-')}"
        "</span> &times; DD "
        f"<span id='dd'>{_e(result.dd)}</span>, truncated to 2 decimals</div></div></header><main>"
    )
    if ood:
        reasons = "".join(f"<li>{_e(r)}</li>" for r in result.ood_reasons or [])
        parts.append(
            "<div id='ood-warning' role='alert'><b>&#9888; This may not be an aerials jump.</b> "
            + (
                "The athlete's motion does not show the take-off &rarr; flight &rarr; landing of a jump"
                if (result.jump_check or {}).get("is_jump") is False
                else "The video does not look like the videos the model was trained on"
            )
            + ", so everything the model says below (score, marks, interval, stages, deductions) is meaningless "
            f"and is shown greyed out.<ul>{reasons}</ul></div>"
        )
    parts.append(check_lines(result))

    # Strip of frames with the stage boundaries: a label sits in its segment only when it fits whole; the key below
    # always names every stage.
    parts.append("<section id='stages'><h2>Stages</h2><div class='stagebar from-model'>")
    for s in STAGES:
        if s in stages:
            sa, sb = stages[s]
            w = 100.0 * (sb - sa) / total
            parts.append(
                f"<div class='stage' data-stage='{s}' title='{STAGE_TITLES[s]}' style='width:{w:.2f}%;background:"
                f"{STAGE_COLOURS[s]}'><span>{STAGE_TITLES[s]}</span></div>"
            )
    parts.append("</div><div class='stagekey from-model'>")
    parts.append(
        "".join(
            f"<span class='chip' style='background:{STAGE_COLOURS[s]}'></span>{STAGE_TITLES[s]} frames "
            f"{stages[s][0]}&ndash;{stages[s][1] - 1}"
            for s in STAGES
            if s in stages
        )
        + (" <span class='muted'>(stages found by the model)</span>" if stages else "")
    )
    parts.append("</div><div class='strip'>")
    for fr in strip:
        col = STAGE_COLOURS.get(fr.get("stage"), "#999")
        parts.append(
            f"<figure><img src='{fr['src']}' alt='frame {fr['frame']}' style='border-color:{col}'>"
            f"<figcaption>{fr['frame']}</figcaption></figure>"
        )
    parts.append("</div></section>")

    # Components.
    parts.append("<section id='components'><h2>Scores of a consensus judge</h2><div class='components'>")
    comps, bands = result.components or {}, result.bands or {}
    for c in COMPONENTS:
        if c not in comps:
            continue
        band = bands.get(c) or {}
        parts.append(
            f"<div class='component from-model' id='component-{c}' data-component='{c}'><div>{c.title()}</div>"
            f"<div><span class='value{' greyed' if ood else ''}'>{_e(comps[c])}</span> <span "
            f"class='max'>/ {COMPONENT_RANGES[c][1]}</span></div><div class='band'>{_e(band.get('name', ''))}"
            f"{' (' + _e(band.get('range')) + ')' if band.get('range') else ''}</div>"
            + (f"<div class='interval'>90%: {iv[c][0]:.2f} &ndash; {iv[c][1]:.2f}</div>" if iv.get(c) else "")
            + "</div>"
        )
    parts.append("</div>")
    if result.landing_cap_note:
        parts.append(f"<div class='warn from-model'>Landing: {_e(result.landing_cap_note)}</div>")
    if fs_iv:
        parts.append(
            f"<p class='muted'>Intervals: the truth lies inside 9 times in 10 for jumps like the "
            f"validation set ({_e(iv.get('calibrated_on', ''))}); {_e(iv.get('method', ''))}.</p>"
        )
    elif iv.get("note"):
        parts.append(f"<p class='muted'>No interval: {_e(iv['note'])}</p>")
    parts.append("</section>")
    if result.panel:
        parts.append(render_panel(result.panel, result))

    # Deductions.
    parts.append(render_deductions(result, evidence, ood))
    if timeline_png:
        parts.append(
            "<section id='timeline' class='from-model'><h2>Timeline</h2>"
            f"<img src='{data_uri(timeline_png, 'image/png')}' "
            "alt='stage probabilities and deduction evidence over time'><p class='muted'>Top: the model's probability "
            "of each stage at each time step (0 to 1). Below, one row per deduction: &#9660; the frame shown as its "
            "evidence, a bar over the frames of its strip, &#9675; where its attention peaked when another frame is "
            "shown. Dashed lines: the stage boundaries.</p></section>"
        )

    parts.append("<section id='provenance'><h2>Provenance</h2><table>")
    for k, label in (
        ("model", "Model"),
        ("checkpoint", "Checkpoint"),
        ("training_data", "Training data"),
        ("features", "Features"),
        ("locator", "Athlete locator"),
        ("judgemind_version", "judgemind"),
        ("scored_at", "Scored at"),
    ):
        if prov.get(k) is not None:
            parts.append(f"<tr><th>{label}</th><td>{_e(prov[k])}</td></tr>")
    parts.append("</table>")
    if prov.get("synthetic"):
        parts.append(
            "<div class='warn' id='synthetic-warning'>This model was trained on <b>synthetic</b> data "
            "(SynthAerials). Its scores show how the system works; they are not calibrated on real "
            "competition footage.</div>"
        )
    parts.append("</section></main></body></html>")
    return "".join(parts)
