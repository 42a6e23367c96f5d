"""Report plots as PNG files (matplotlib, Agg backend; nothing is shown on screen). Writes are atomic.

scatter_pred_true("out/scatter_usdl.png", true, pred, title="USDL, seed 0")
grouped_bars("out/stages.png", ["air", "form", "landing"], {"judgemind": ([.9, .8, .7], [.01, .02, .01])})
"""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np

from judgemind.utils.atomic import atomic_path
from judgemind.utils.optional import load_pyplot

PALETTE = ("#17324d", "#e0902b", "#3aa65b", "#c0392b", "#8e44ad", "#3b7dd8", "#7f8c8d", "#d35400")


def _pyplot():
    plt = load_pyplot()

    return plt


def _save(fig, path: str | os.PathLike) -> None:
    plt = _pyplot()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")
    plt.close(fig)


def scatter_pred_true(
    path: str | os.PathLike,
    true: Sequence[float],
    pred: Sequence[float],
    title: str = "",
    note: str = "",
    groups: Sequence | None = None,
) -> None:
    """Predicted vs true score, one dot per video, with the identity line; ``note`` goes under the title (e.g.
    "rho 0.91, R-l2 0.35"); ``groups`` (one label per dot, e.g. seeds) colours the dots."""
    plt = _pyplot()
    t = np.asarray(true, dtype=float)
    p = np.asarray(pred, dtype=float)
    fig, ax = plt.subplots(figsize=(4.6, 4.4), dpi=110)
    if groups is None:
        ax.scatter(t, p, s=12, alpha=0.7, color=PALETTE[0], edgecolors="none")
    else:
        g = np.asarray(groups)
        for i, label in enumerate(dict.fromkeys(g.tolist())):
            m = g == label
            ax.scatter(
                t[m], p[m], s=12, alpha=0.6, color=PALETTE[i % len(PALETTE)], edgecolors="none", label=str(label)
            )
        ax.legend(fontsize=7, frameon=False, loc="upper left")
    lo = float(min(t.min(), p.min())) if t.size else 0.0
    hi = float(max(t.max(), p.max())) if t.size else 1.0
    pad = 0.03 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="#999", lw=1, ls="--")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("true score")
    ax.set_ylabel("predicted score")
    ax.set_title(title + (f"\n{note}" if note else ""), fontsize=10)
    ax.grid(alpha=0.25)
    _save(fig, path)


def grouped_bars(
    path: str | os.PathLike,
    groups: Sequence[str],
    series: Mapping[str, tuple[Sequence[float], Sequence[float] | None]],
    title: str = "",
    ylabel: str = "",
    ylim: tuple[float, float] | None = None,
) -> None:
    """Bars per group (e.g. Air / Form / Landing) for each series (e.g. model): ``{label: (means, stds)}``;
    stds become error bars (NaN or None: none). Missing means (NaN) leave a gap."""
    plt = _pyplot()
    n = max(len(series), 1)
    x = np.arange(len(groups))
    width = 0.8 / n
    fig, ax = plt.subplots(figsize=(max(4.5, 1.4 * len(groups) * max(1, n / 2)), 3.4), dpi=110)
    for i, (label, (means, stds)) in enumerate(series.items()):
        m = np.asarray(means, dtype=float)
        s = None if stds is None else np.nan_to_num(np.asarray(stds, dtype=float), nan=0.0)
        ax.bar(
            x - 0.4 + width * (i + 0.5),
            np.nan_to_num(m, nan=0.0),
            width,
            yerr=s,
            capsize=2,
            color=PALETTE[i % len(PALETTE)],
            label=label,
        )
    ax.set_xticks(x)
    ax.set_xticklabels(list(groups))
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(axis="y", alpha=0.25)
    if series:  # below the axes, so that it never hides a bar
        ax.legend(fontsize=7, frameon=False, ncol=min(n, 3), loc="upper center", bbox_to_anchor=(0.5, -0.12))
    _save(fig, path)
