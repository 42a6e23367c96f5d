"""Timeline plot of one scored jump: stage probabilities per time step and where each likely deduction has its
strongest evidence."""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np

from judgemind.rules.names import STAGE_LABELS, STAGES
from judgemind.utils.optional import load_pyplot

STAGE_COLOURS = ("#3b7dd8", "#e0902b", "#3aa65b")  # take-off, flight, landing


def plot_timeline(
    frame_index: np.ndarray,
    stage_probs: np.ndarray | None,
    stages: dict,
    deductions: Sequence[dict],
    title: str = "",
    label_boxes: list | None = None,
) -> bytes:
    """Return PNG bytes.

    frame_index: (T,) frame of each time step; stage_probs: (T, 3) softmax per step (or None);
    stages: {"takeoff": [s, e), ...} decoded boundaries in frames; deductions: dicts with name, probability,
    evidence_frame. label_boxes: when a list, the deduction labels' extents (x0, y0, x1, y1 in pixels) are
    appended to it (they never overlap: a label that would is moved up a row).
    """
    plt = load_pyplot()

    fig, ax = plt.subplots(figsize=(10, 3.2), dpi=100)
    x = np.asarray(frame_index)
    if stage_probs is not None:
        for k in range(3):
            ax.plot(x, stage_probs[:, k], color=STAGE_COLOURS[k], label=f"P({STAGE_LABELS[k]})", lw=2)
    for k, s in enumerate(STAGES):
        if s in stages:
            a, b = stages[s]
            ax.axvspan(a, b, color=STAGE_COLOURS[k], alpha=0.08)
    for s in ("flight", "landing"):
        if s in stages:
            ax.axvline(stages[s][0], color="#333", ls="--", lw=1)
    marks = [d for d in deductions if d.get("evidence_frame") is not None]
    for d in marks:
        p = _value(d)
        ax.plot([d["evidence_frame"]], [1.08], marker="v", color="#c84b31", ms=6 + 8 * p)
    ax.set_ylim(0, 1.35)
    ax.set_xlabel("frame")
    ax.set_ylabel("probability")
    if x.size:
        ax.set_xlim(
            min(x.min(), *(d["evidence_frame"] for d in marks)) - 1 if marks else x.min() - 1,
            max(x.max(), *(d["evidence_frame"] for d in marks)) + 1 if marks else x.max() + 1,
        )
    if title:
        ax.set_title(title, fontsize=10, parse_math=False)  # a file name like "$x$" is text, not mathtext
    ax.legend(loc="center left", fontsize=8, frameon=False, bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    boxes = _place_labels(fig, ax, marks)
    if label_boxes is not None:
        label_boxes.extend(boxes)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _place_labels(fig, ax, marks: Sequence[dict], grow: bool = True) -> list[tuple[float, float, float, float]]:
    """Write each deduction's label beside its marker, left to right; a label that would overlap one already placed
    goes up a row (the y axis grows to make room). Returns the labels' pixel extents."""
    renderer = fig.canvas.get_renderer()
    placed: list[tuple[float, float, float, float]] = []
    texts = []
    for d in sorted(marks, key=lambda m: (m["evidence_frame"], -_value(m))):
        p = _value(d)
        row = 0
        while True:
            t = ax.annotate(
                f"{d.get('name', d.get('item'))} {p:.0%}",
                (d["evidence_frame"], 1.08),
                xytext=(3, 6 + 11 * row),
                textcoords="offset points",
                fontsize=8,
                color="#c84b31",
                parse_math=False,
                annotation_clip=False,
            )
            bb = t.get_window_extent(renderer)
            box = (bb.x0, bb.y0, bb.x1, bb.y1)
            if not any(_overlap(box, q) for q in placed) or row > 3 * len(marks):
                break
            t.remove()
            row += 1
        placed.append(box)
        texts.append(t)
    if placed:
        # grow the axis so that the highest row stays inside the figure
        top = max(b[3] for b in placed)
        ax_top = ax.get_window_extent(renderer).y1
        if top > ax_top and grow:
            y0, y1 = ax.get_ylim()
            extra = (top - ax_top) / ax.get_window_extent(renderer).height * (y1 - y0)
            ax.set_ylim(y0, y1 + extra * 1.6)
            for t in texts:
                t.remove()
            fig.tight_layout()
            return _place_labels(fig, ax, marks, grow=False)  # the axes moved: place again in the new geometry
    return placed


def _value(d: dict) -> float:
    """A deduction's calibrated probability, or its raw score for a run without deduction calibration."""
    p = d.get("probability")
    return float(p if p is not None else d.get("score") or 0.0)


def _overlap(a, b, pad: float = 1.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad
