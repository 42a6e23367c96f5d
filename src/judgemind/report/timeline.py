"""Timeline plot of one scored jump: the model's stage probability per time step (top) and, one row per deduction
item (below), the frame its evidence is shown at, the strip of a motion item and where its attention peaked.

Every label sits outside the plotting area (the items' names are the lower axes' tick labels, the stage
probabilities' legend is above the plot), so no label crosses a stage line or leaves the picture; the top axis
says what it shows and runs from 0 to 1.
"""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np

from judgemind.rules.names import STAGE_LABELS, STAGES
from judgemind.utils.optional import load_pyplot

STAGE_COLOURS = ("#3b7dd8", "#e0902b", "#3aa65b")  # take-off, flight, landing
EVIDENCE_COLOUR = "#c84b31"


def plot_timeline(
    frame_index: np.ndarray,
    stage_probs: np.ndarray | None,
    stages: dict,
    deductions: Sequence[dict],
    title: str = "",
    label_boxes: list | None = None,
    cuts=(),
) -> bytes:
    """Return PNG bytes.

    frame_index: (T,) frame of each time step; stage_probs: (T, 3) softmax per step (or None);
    stages: {"takeoff": [s, e), ...} decoded boundaries in frames; deductions: dicts with name, probability (or
    score, uncalibrated), evidence_frame and optionally evidence_frames (a strip) and evidence_peak_frame; cuts:
    the camera cuts (first frames of new shots), drawn as dotted lines.
    label_boxes: when a list, ``{"kind": "label" | "plot", "text", "box": (x0, y0, x1, y1)}`` is appended for every
    text on the figure and every plotting area (figure pixels from the bottom left), so a test can check that no
    label enters a plotting area or leaves the picture.
    """
    plt = load_pyplot()

    marks = [d for d in deductions if d.get("evidence_frame") is not None]
    rows = len(marks)
    heights = [2.0] + ([0.32 * rows + 0.25] if rows else [])
    fig, axes = plt.subplots(
        len(heights),
        1,
        figsize=(10, sum(heights) + 1.1),
        dpi=100,
        sharex=True,
        squeeze=False,
        layout="constrained",
        gridspec_kw={"height_ratios": heights},
    )
    top = axes[0, 0]
    x = np.asarray(frame_index)
    if stage_probs is not None:
        for k in range(3):
            top.plot(x, stage_probs[:, k], color=STAGE_COLOURS[k], label=STAGE_LABELS[k].capitalize(), lw=2)
        top.set_ylim(-0.02, 1.02)
        top.set_yticks([0, 0.5, 1])
        top.set_ylabel("stage probability\n(model, per step)", fontsize=9)
    else:
        top.set_yticks([])
        top.set_ylabel("stages", fontsize=9)
    for ax in axes[:, 0]:
        _stage_spans(ax, stages)
        for k, c in enumerate(cuts):
            ax.axvline(c, color="#777", ls=":", lw=1.2, label="camera cut" if k == 0 and ax is top else None)
    if top.get_legend_handles_labels()[0]:
        top.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=4, fontsize=8, frameon=False)
    if rows:
        _evidence_rows(axes[1, 0], marks)
    axes[-1, 0].set_xlabel("frame")
    lo, hi = _x_range(x, marks, stages)
    top.set_xlim(lo, hi)
    if title:
        top.set_title(title, fontsize=10, loc="left", parse_math=False)  # a file name like "$x$" is text
    if label_boxes is not None:
        label_boxes.extend(_label_extents(fig, axes[:, 0]))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _stage_spans(ax, stages: dict) -> None:
    for k, s in enumerate(STAGES):
        if s in stages:
            a, b = stages[s]
            ax.axvspan(a, b, color=STAGE_COLOURS[k], alpha=0.08, lw=0)
    for s in STAGES[1:]:
        if s in stages:
            ax.axvline(stages[s][0], color="#333", ls="--", lw=1)


def _evidence_rows(ax, marks: Sequence[dict]) -> None:
    """One row per item, the first at the top: the shown frame (a filled triangle, larger for a more probable
    item), its strip (a bar), and the attention's peak when another frame is shown (a hollow circle)."""
    n = len(marks)
    for r, d in enumerate(marks):
        y = n - 1 - r
        strip = d.get("evidence_frames") or []
        if len(strip) > 1:
            ax.plot([min(strip), max(strip)], [y, y], color=EVIDENCE_COLOUR, lw=5, alpha=0.3, solid_capstyle="butt")
        peak = d.get("evidence_peak_frame")
        if peak is not None and peak != d["evidence_frame"]:
            ax.plot([peak], [y], marker="o", mfc="none", color=EVIDENCE_COLOUR, ms=6)
        ax.plot([d["evidence_frame"]], [y], marker="v", color=EVIDENCE_COLOUR, ms=5 + 5 * min(_value(d), 1.0))
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_yticks(range(n))
    ax.set_yticklabels([_label(d) for d in reversed(marks)], fontsize=8, color=EVIDENCE_COLOUR)
    ax.tick_params(axis="y", length=0)
    ax.set_ylabel("deduction\nevidence", fontsize=9)


def _label(d: dict) -> str:
    name = d.get("name", d.get("item"))
    if d.get("probability") is not None:
        return f"{name} {float(d['probability']):.0%}"
    return f"{name} (score {float(d.get('score') or 0.0):.2f})"


def _x_range(x: np.ndarray, marks: Sequence[dict], stages: dict) -> tuple[float, float]:
    pts = [float(v) for v in x.tolist()]
    for d in marks:
        pts += [d["evidence_frame"], *(d.get("evidence_frames") or [])]
    for a, b in (stages or {}).values():
        pts += [a, b]
    if not pts:
        return 0.0, 1.0
    return min(pts) - 1, max(pts) + 1


def _label_extents(fig, axes) -> list[dict]:
    """Every text on the figure (title, axis labels, tick labels, legend) and every plotting area, with its pixel
    extent (see :func:`plot_timeline`'s ``label_boxes``)."""
    fig.canvas.draw()  # the constrained layout places everything when drawn
    renderer = fig.canvas.get_renderer()
    out: list[dict] = []
    for ax in axes:
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        texts = [ax.title, ax.xaxis.label, ax.yaxis.label]
        texts += [t for t in ax.get_xticklabels() if x0 <= t.get_position()[0] <= x1]  # ticks outside are not drawn
        texts += [t for t in ax.get_yticklabels() if y0 <= t.get_position()[1] <= y1]
        if ax.get_legend() is not None:
            texts += list(ax.get_legend().get_texts())
        for t in texts:
            if t.get_visible() and t.get_text():
                bb = t.get_window_extent(renderer)
                out.append({"kind": "label", "text": t.get_text(), "box": (bb.x0, bb.y0, bb.x1, bb.y1)})
        bb = ax.get_window_extent(renderer)
        out.append({"kind": "plot", "text": "", "box": (bb.x0, bb.y0, bb.x1, bb.y1)})
    return out


def _value(d: dict) -> float:
    """A deduction's calibrated probability, or its raw score for a run without deduction calibration."""
    p = d.get("probability")
    return float(p if p is not None else d.get("score") or 0.0)


def _overlap(a, b, pad: float = 1.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad
