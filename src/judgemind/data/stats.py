"""A data set's floor and ceilings: what any accuracy figure measured on it should be read against.

    judgemind data stats DATASET [--out FILE] [--json]

- **code prior** (the floor): the training split's mean final score per action code (the training mean for codes
  unseen in training) -> Spearman rho and R-l2 x 100 on the test split. A model that does not beat it has not
  looked at the video.
- **fault oracle** (a ceiling): the annotated deduction items and their points (one feature per catalogue item,
  the sum of its points) -> least squares on the training split for the panel's J; predicted score = J x DD ->
  rho and R-l2 on test. Per component the same fit of the panel's mean mark from that component's items.
- **judge agreement**: how well one judge's total (x DD) ranks the test jumps like the panel's official score
  (the mean over the judges of rho), and the mean of the judges' totals x DD.
- item rates (share of jumps with each catalogue item), component spread (s.d. as % of the range), and, when the
  records carry boxes and the frame size is known, the athlete box height as a share of the frame per stage.
- **shortcuts**: what clip and stage durations, the action code, the athlete box and a fixed-offset segmentation
  predict without looking at the motion, with the targets of a benchmark without shortcuts
  (:mod:`judgemind.data.shortcuts`).

Everything is computed from the annotations (no videos, no features).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from judgemind.data.shortcuts import format_audit, shortcut_audit
from judgemind.data.validate import rules_score
from judgemind.errors import JudgemindError
from judgemind.evaluate import relative_l2_x100, spearman
from judgemind.rules import load_catalogue
from judgemind.rules.names import COMPONENT_MAX, COMPONENTS, STAGES
from judgemind.utils import not_a_file_reason


def panel_j(rec, scoring: str = "aerials5") -> float:
    """The panel's J as the rules engine counts it (aerials: the judges' total that counts, 0-30; diving: the
    counted marks' sum, the score before x DD)."""
    res = rules_score(rec, scoring)
    return float(res.J) if hasattr(res, "J") else float(res.raw / res.dd)


def _metrics(pred, true) -> dict:

    return {"rho": round(float(spearman(pred, true)), 4), "rl2x100": round(float(relative_l2_x100(pred, true)), 4)}


def code_prior_predictions(train, test) -> np.ndarray:
    """The training split's mean final score per action code for each test record (the training mean for codes
    unseen in training)."""
    y_tr = np.array([float(r.final_score) for r in train])
    per: dict[str, list[float]] = {}
    for r, y in zip(train, y_tr):
        per.setdefault(r.action_code, []).append(y)
    means = {c: float(np.mean(v)) for c, v in per.items()}
    return np.array([means.get(r.action_code, float(y_tr.mean())) for r in test])


def code_prior(train, test) -> dict:
    return _metrics(code_prior_predictions(train, test), [float(r.final_score) for r in test])


def _item_features(recs, items) -> np.ndarray:
    idx = {k: i for i, k in enumerate(items)}
    x = np.zeros((len(recs), len(items) + 1))
    x[:, -1] = 1.0
    for n, r in enumerate(recs):
        for d in r.deductions:
            if d.item in idx:
                x[n, idx[d.item]] += float(d.points)
    return x


def _fit(x, y, ridge: float = 1e-3) -> np.ndarray:
    a = x.T @ x + ridge * np.eye(x.shape[1])
    return np.linalg.solve(a, x.T @ y)


def fault_oracle(train, test, catalogue, scoring: str = "aerials5") -> dict:
    items = list(catalogue.ids)
    x_tr, x_te = _item_features(train, items), _item_features(test, items)
    w = _fit(x_tr, np.array([panel_j(r, scoring) for r in train]))
    pred = (x_te @ w) * np.array([float(r.dd) for r in test])
    out = _metrics(pred, [float(r.final_score) for r in test])
    per = {}
    for c in COMPONENTS:
        its = [i for i in items if catalogue.get(i).component == c]
        xc_tr, xc_te = _item_features(train, its), _item_features(test, its)
        yc = np.array([float(r.component_means().get(c, 0)) for r in train])
        wc = _fit(xc_tr, yc)
        per[c] = _metrics(xc_te @ wc, [float(r.component_means().get(c, 0)) for r in test])
    out["per_component"] = per
    return out


def judge_agreement(test) -> dict:

    final = np.array([float(r.final_score) for r in test])
    n_j = min(len(r.judges) for r in test)
    dd = np.array([float(r.dd) for r in test])
    single = [float(spearman(np.array([float(r.judges[j].total) for r in test]) * dd, final)) for j in range(n_j)]
    mean = np.array([np.mean([float(j.total) for j in r.judges]) for r in test]) * dd
    return {
        "single_judge_rho_mean": round(float(np.mean(single)), 4),
        "single_judge_rho_min": round(float(np.min(single)), 4),
        "mean_of_judges_rho": round(float(spearman(mean, final)), 4),
    }


def item_rates(recs, catalogue) -> dict:
    n = len(recs)
    return {i: round(sum(any(d.item == i for d in r.deductions) for r in recs) / n, 4) for i in catalogue.ids}


def component_spread(recs) -> dict:
    out = {}
    for c in COMPONENTS:
        v = np.array([float(r.component_means().get(c, 0)) for r in recs])
        out[c] = {
            "mean": round(float(v.mean()), 3),
            "std": round(float(v.std()), 3),
            "std_pct_of_range": round(100 * float(v.std()) / COMPONENT_MAX[c], 1),
        }
    return out


def frame_height(ds) -> float | None:
    """The frame height in pixels, when the data set declares it (skeleton layout, or the generator's size)."""
    if ds.meta.skeleton is not None and ds.meta.skeleton.frame_size is not None:
        return float(ds.meta.skeleton.frame_size[1])
    gen = ds.meta.extra.get("generator") if isinstance(ds.meta.extra, dict) else None
    if isinstance(gen, dict) and isinstance(gen.get("size"), (int, float)):
        return float(gen["size"])
    return None


def box_heights(ds) -> dict | None:
    """Athlete box height as a share of the frame height, per stage: percentiles, and the share of follow-shot
    flight frames (camera shots other than ``wide``, when the records say which) with a box >= 35 % of the frame."""
    h = frame_height(ds)
    if h is None or not any(r.boxes for r in ds.records):
        return None
    per: dict[str, list[float]] = {s: [] for s in STAGES}
    follow_flight: list[float] = []
    for r in ds.records:
        if not r.boxes:
            continue
        wide = set()
        cam = r.extra.get("camera") if isinstance(r.extra, dict) else None
        for shot in (cam or {}).get("shots", []) if isinstance(cam, dict) else []:
            if isinstance(shot, dict) and shot.get("kind") == "wide":
                a, b = shot.get("frames", [0, 0])
                wide.update(range(int(a), int(b)))
        for k, (x0, y0, x1, y1) in r.boxes.items():
            s = STAGES[r.stage_of_frame(k)]
            frac = (y1 - y0) / h
            per[s].append(frac)
            if s == "flight" and k not in wide:
                follow_flight.append(frac)
    out: dict[str, Any] = {}
    for s, v in per.items():
        if v:
            p = np.percentile(v, [10, 25, 50, 75, 90])
            out[s] = dict(zip(("p10", "p25", "p50", "p75", "p90"), [round(float(x), 3) for x in p]))
    if follow_flight:
        ff = np.array(follow_flight)
        n_flight = len(per["flight"])
        out["flight_follow_share_ge_35pct"] = round(float(np.mean(ff >= 0.35)), 3)
        out["flight_frames_in_wide_shots"] = round(1.0 - len(ff) / max(n_flight, 1), 3)
    return out


def dataset_stats(ds) -> dict:
    """Floor, ceilings, item rates, component spread and box heights of a data set with train and test splits."""

    missing = [s for s in ("train", "test") if not ds.split(s)]
    if missing:
        raise JudgemindError(
            f"{ds.root}: the data set has no {' or '.join(missing)} split; the floor and ceilings "
            f"are fitted on train and measured on test"
        )
    catalogue = load_catalogue()
    train, test = ds.split("train"), ds.split("test")
    recs = list(ds.records)
    cp = code_prior(train, test)
    fo = fault_oracle(train, test, catalogue, ds.meta.scoring)
    return {
        "dataset": str(ds.root),
        "n": len(recs),
        "n_train": len(train),
        "n_test": len(test),
        "synthetic": bool(ds.meta.synthetic),
        "code_prior": cp,
        "fault_oracle": fo,
        "judge_agreement": judge_agreement(test),
        "component_spread": component_spread(recs),
        "item_rates": item_rates(recs, catalogue),
        "box_height": box_heights(ds),
        "shortcuts": shortcut_audit(train, test, catalogue, ds.meta.fps, frame_height(ds), cp["rho"], fo["rho"]),
    }


def is_stats_file(path) -> bool:
    """``path`` holds a document of :func:`dataset_stats` (a JSON object with its keys; files over 10 MB are
    not)."""

    try:
        if os.path.getsize(path) > 10 << 20:
            return False
        with open(path, "rb") as fh:
            doc = json.loads(fh.read().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and {"code_prior", "fault_oracle", "judge_agreement"} <= set(doc)


def check_stats_out(out, root) -> None:
    """``data stats --out OUT`` may write a new file anywhere, or replace a stats document; inside the data set
    ``root`` it never replaces anything else (``annotations.jsonl``, ``dataset.json``, a video, a skeleton): a
    :class:`JudgemindError` before anything is computed."""

    out = Path(out)
    why = not_a_file_reason(out)
    if why == "does not exist" or (why is None and is_stats_file(out)):
        return
    if why is not None:
        raise JudgemindError(f"--out {out} {why}; give the JSON file to write")
    real, base = os.path.realpath(out), os.path.realpath(root)
    if os.path.commonpath([real, base]) == base:
        raise JudgemindError(
            f"--out {out} is a file of the data set {root} (not a stats document); refusing to "
            f"replace it -- give another file (default {Path(root) / 'stats.json'})"
        )


def _n(v, spec: str = ".3f") -> str:
    """A figure of the summary; n/a where it is not defined (a constant split has no rank correlation)."""
    return "n/a" if v is None else format(v, spec)


def format_stats(s: dict) -> str:
    lines = [
        f"{s['dataset']}: {s['n']} records ({s['n_train']} train, {s['n_test']} test)"
        + (" - SYNTHETIC data" if s["synthetic"] else "")
    ]
    cp, fo, ja = s["code_prior"], s["fault_oracle"], s["judge_agreement"]
    lines.append(
        f"  floor    code prior (train mean per code)      test rho {_n(cp['rho'])}  R-l2x100 "
        f"{_n(cp['rl2x100'], '.2f')}"
    )
    lines.append(
        f"  ceiling  fault oracle (true items + points)    test rho {_n(fo['rho'])}  R-l2x100 "
        f"{_n(fo['rl2x100'], '.2f')}"
    )
    lines.append(
        "           per component: " + ", ".join(f"{c} rho {_n(v['rho'])}" for c, v in fo["per_component"].items())
    )
    lines.append(
        f"  judges   one judge vs the panel: rho {_n(ja['single_judge_rho_mean'])} (lowest "
        f"{_n(ja['single_judge_rho_min'])}); mean of the judges: rho {_n(ja['mean_of_judges_rho'])}"
    )
    lines.append(
        "  spread   "
        + ", ".join(
            f"{c} s.d. {v['std']:.2f} ({v['std_pct_of_range']:.0f} % of the range)"
            for c, v in s["component_spread"].items()
        )
    )
    rates = sorted(s["item_rates"].items(), key=lambda kv: kv[1])
    lines.append("  items    share of jumps: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in rates))
    bh = s.get("box_height")
    if bh:
        lines.append(
            "  box      athlete height / frame height, median per stage: "
            + ", ".join(f"{st} {bh[st]['p50']:.2f}" for st in STAGES if st in bh)
            + (
                f"; follow-shot flight frames >= 35 %: {100 * bh['flight_follow_share_ge_35pct']:.0f} %"
                if "flight_follow_share_ge_35pct" in bh
                else ""
            )
        )
    if s.get("shortcuts"):
        lines += format_audit(s["shortcuts"])
    return "\n".join(lines)
