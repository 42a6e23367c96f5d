"""How a SynthAerials dataset's scores are distributed, and how much the jump code alone explains them.

    python -m judgemind.synth.stats DATASET [--plot docs/synth_scores.png]

``code_dd_baseline`` fits two regressors that see only the action code and the DD on the train split (the mean
final score per code; least squares on one-hot code + DD) and reports Spearman's rho on the test split: if it
were high, a model could score well without looking at the video. Metrics come from ``judgemind.evaluate``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from judgemind.data import load_dataset
from judgemind.data.stats import box_heights, code_prior_predictions
from judgemind.evaluate import spearman
from judgemind.rules import score_aerials
from judgemind.rules.names import COMPONENT_MAX, COMPONENTS, STAGES
from judgemind.synth.spec import CONTACT_ITEMS
from judgemind.utils.atomic import atomic_path
from judgemind.utils.optional import load_pyplot


def _load(root):

    return load_dataset(root, check_videos=False)


def code_dd_baseline(ds) -> dict:
    """Spearman rho on the test split of (a) the train mean score per code (codes unseen in train get the train
    mean) and (b) linear regression on one-hot code + DD."""

    train, test = ds.split("train"), ds.split("test")
    y_tr = np.array([float(r.final_score) for r in train])
    y_te = np.array([float(r.final_score) for r in test])
    pred_mean = code_prior_predictions(train, test)
    codes = sorted({r.action_code for r in ds.records})

    def features(rs):
        return np.array([[1.0, float(r.dd)] + [float(r.action_code == c) for c in codes] for r in rs])

    w, *_ = np.linalg.lstsq(features(train), y_tr, rcond=None)
    pred_lin = features(test) @ w
    return {
        "n_train": len(train),
        "n_test": len(test),
        "rho_code_mean": spearman(pred_mean, y_te),
        "rho_code_dd_linear": spearman(pred_lin, y_te),
        "rho_dd": spearman([float(r.dd) for r in test], y_te),
    }


def summary(ds) -> dict:
    """Distribution of J / 30 and of the final score, component means and correlations."""

    recs = list(ds.records)
    J = np.array([float(score_aerials([(j.air, j.form, j.landing) for j in r.judges], r.dd).J) for r in recs])
    final = np.array([float(r.final_score) for r in recs])
    comp = {c: np.array([float(r.component_means()[c]) for r in recs]) for c in COMPONENTS}
    true_total = np.array([float(r.extra["true"]["total"]) for r in recs])
    frac = J / 30.0
    corr = np.corrcoef(np.stack([comp["air"], comp["form"], comp["landing"], final]))
    n_faults = np.array([len(r.deductions) for r in recs])
    contact = np.array([any(d.item in CONTACT_ITEMS for d in r.deductions) for r in recs])
    return {
        "n": len(recs),
        "J_over_30_percentiles": dict(
            zip(("p5", "p25", "p50", "p75", "p95"), np.percentile(frac, [5, 25, 50, 75, 95]).round(3).tolist())
        ),
        "share_60_80": round(float(np.mean((frac >= 0.6) & (frac <= 0.8))), 3),
        "share_below_50": round(float(np.mean(frac < 0.5)), 3),
        "share_contact_landing": round(float(contact.mean()), 3),
        "final_percentiles": dict(
            zip(("p5", "p25", "p50", "p75", "p95"), np.percentile(final, [5, 25, 50, 75, 95]).round(2).tolist())
        ),
        "component_mean": {c: round(float(v.mean()), 3) for c, v in comp.items()},
        "component_std": {c: round(float(v.std()), 3) for c, v in comp.items()},
        "corr_air_form": round(float(corr[0, 1]), 3),
        "corr_air_landing": round(float(corr[0, 2]), 3),
        "corr_form_landing": round(float(corr[1, 2]), 3),
        "corr_with_final": {c: round(float(corr[i, 3]), 3) for i, c in enumerate(COMPONENTS)},
        "corr_true_total_vs_judged_J": round(float(np.corrcoef(true_total, J)[0, 1]), 3),
        "faults_per_jump": round(float(n_faults.mean()), 3),
        "clean_jumps": round(float(np.mean(n_faults == 0)), 3),
    }


def box_height_table(root) -> str:
    """The athlete's box height as a share of the frame height per stage (what `judgemind synth` prints)."""

    bh = box_heights(_load(root))
    if not bh:
        return "box heights: no boxes"
    lines = ["athlete box height / frame height (percentiles 10/25/50/75/90):"]
    for st in STAGES:
        if st in bh:
            lines.append(f"  {st:<8} " + "  ".join(f"{v:.2f}" for v in bh[st].values()))
    if "flight_follow_share_ge_35pct" in bh:
        lines.append(
            f"  flight frames of follow shots with a box >= 35 % of the frame: "
            f"{100 * bh['flight_follow_share_ge_35pct']:.0f} %; flight frames in wide shots: "
            f"{100 * bh['flight_frames_in_wide_shots']:.0f} %"
        )
    return "\n".join(lines)


def plot(ds, png: str | os.PathLike) -> Path:
    """Histogram of J / 30, final score against DD, component histograms; written atomically."""
    plt = load_pyplot()

    recs = list(ds.records)
    J = np.array([float(score_aerials([(j.air, j.form, j.landing) for j in r.judges], r.dd).J) for r in recs])
    final = np.array([float(r.final_score) for r in recs])
    dd = np.array([float(r.dd) for r in recs])
    comp = {c: np.array([float(r.component_means()[c]) for r in recs]) for c in COMPONENTS}
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.6))
    ax[0].hist(100 * J / 30.0, bins=np.arange(0, 101, 5), color="#4477aa", edgecolor="white")
    ax[0].axvspan(60, 80, color="#cccccc", alpha=0.4, zorder=0)
    ax[0].set(xlabel="J as % of the maximum 30.0", ylabel="jumps", title=f"judges' total J (n={len(recs)})")
    ax[1].scatter(dd + np.random.default_rng(0).uniform(-0.03, 0.03, len(dd)), final, s=6, alpha=0.5)
    ax[1].set(xlabel="DD", ylabel="final score (J x DD, truncated)", title="final score vs DD")
    for c, col in zip(comp, ("#228833", "#ee6677", "#ccbb44")):
        hi = COMPONENT_MAX[c]
        ax[2].hist(comp[c] / hi, bins=np.linspace(0, 1, 21), histtype="step", lw=2, color=col, label=c)
    ax[2].set(xlabel="panel mean / component maximum", ylabel="jumps", title="components")
    ax[2].legend()
    fig.suptitle("SynthAerials - SYNTHETIC data (procedural generator, not real jumps)", fontsize=10)
    fig.tight_layout()
    png = Path(png)
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    return png


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m judgemind.synth.stats", description=__doc__.split("\n\n")[0])
    p.add_argument("dataset")
    p.add_argument("--plot", help="write a score histogram PNG here")
    args = p.parse_args(argv)
    ds = _load(args.dataset)
    out = {"summary": summary(ds), "code_dd_baseline": code_dd_baseline(ds)}
    json.dump(out, sys.stdout, indent=2)
    print()
    if args.plot:
        plot(ds, args.plot)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
