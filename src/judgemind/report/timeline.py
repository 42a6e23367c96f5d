"""Timeline plot of one scored jump: stage probabilities per time step and where each likely deduction has its
strongest evidence."""

from __future__ import annotations

import io
from typing import Sequence

import numpy as np

STAGE_COLOURS = ("#3b7dd8", "#e0902b", "#3aa65b")
STAGE_LABELS = ("take-off", "flight", "landing")


def plot_timeline(frame_index: np.ndarray, stage_probs: np.ndarray | None, stages: dict,
                  deductions: Sequence[dict], title: str = "") -> bytes:
    """Return PNG bytes.

    frame_index: (T,) frame of each time step; stage_probs: (T, 3) softmax per step (or None);
    stages: {"takeoff": [s, e), ...} decoded boundaries in frames; deductions: dicts with name, probability,
    evidence_frame.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 3.2), dpi=100)
    x = np.asarray(frame_index)
    if stage_probs is not None:
        for k in range(3):
            ax.plot(x, stage_probs[:, k], color=STAGE_COLOURS[k], label=f"P({STAGE_LABELS[k]})", lw=2)
    for k, s in enumerate(("takeoff", "flight", "landing")):
        if s in stages:
            a, b = stages[s]
            ax.axvspan(a, b, color=STAGE_COLOURS[k], alpha=0.08)
    for s in ("flight", "landing"):
        if s in stages:
            ax.axvline(stages[s][0], color="#333", ls="--", lw=1)
    for d in deductions:
        f = d.get("evidence_frame")
        if f is None:
            continue
        p = float(d.get("probability", 0))
        ax.plot([f], [1.08], marker="v", color="#c84b31", ms=6 + 8 * p)
        ax.annotate(f"{d.get('name', d.get('item'))} {p:.0%}", (f, 1.08), xytext=(3, 6), textcoords="offset points",
                    fontsize=8, rotation=20, color="#c84b31", parse_math=False)
    ax.set_ylim(0, 1.35)
    ax.set_xlabel("frame")
    ax.set_ylabel("probability")
    if title:
        ax.set_title(title, fontsize=10, parse_math=False)  # a file name like "$x$" is text, not mathtext
    ax.legend(loc="center left", fontsize=8, frameon=False, bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
