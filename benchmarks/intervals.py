"""Intervals before (constant width) and after (adapted to each jump) on a split, over several runs.

    python benchmarks/intervals.py RUN [RUN ...] [--split test] [--resplits 1000] [--json out.json]

For each run (a `judgemind train` folder; its calibration-best.json is made and stored first when missing, as
`judgemind evaluate` does -- copy a run you must not write into): the empirical coverage and mean width on
``--split`` of the run's 90 % intervals (``kind`` adaptive or constant, judgemind.runs.intervals) and of the
constant-width interval of the same calib half, for the final score (points) and each component (marks); then the
mean and range over the runs. ``--resplits N``: a diagnostic of the guarantee independent of one split -- val's
calib half and the split are pooled (exchangeable videos) and redrawn N times into a calibration set of the calib
half's size and the rest; the difficulty stays the one the run fitted on val's select half; mean coverage
(5-95 % of the draws) and mean width. Numbers on SynthAerials are synthetic.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

from judgemind.evaluate.conformal import conformal_quantile, coverage
from judgemind.infer.run import load_run, load_run_split
from judgemind.rules import COMPONENT_MAX
from judgemind.rules.compose import official_score_max
from judgemind.runs import intervals as I
from judgemind.runs.batch import split_val
from judgemind.runs.outputs import collect_outputs


def _split(run, ds, ref) -> tuple[dict, dict]:
    out = collect_outputs(run.model, ds, run.cfg.run.eval_batch_size, run.device)
    return out, I.split_signals(run.model, ds, out, ref, run.device, run.cfg.run.eval_batch_size)


def resplit(
    entry: dict, parts: list[tuple[dict, dict]], key: str, scoring: str, n_cal: int, draws: int, alpha: float
) -> dict:
    """Coverage and width of the adaptive and constant intervals over ``draws`` random calibration/test cuts of the
    pooled rows (``parts``: (targets, signals) of each split)."""
    p, y, s = (np.concatenate([t[key][i] for t, _ in parts]) for i in range(3))
    sig = {k: np.concatenate([g[k] for _, g in parts]) for k in parts[0][1]}
    adaptive = entry.get("kind") == "adaptive"
    sg = I.difficulty(entry["difficulty"], I.signal_matrix(sig, entry["difficulty"]["signals"])) if adaptive else 1.0
    sg = np.broadcast_to(sg, p.shape)
    hi = official_score_max(scoring, s) if key == "final_score" else np.full(len(p), COMPONENT_MAX[key])
    rng = np.random.default_rng(0)
    got: dict[str, list] = {"adaptive": [], "constant": []}
    for _ in range(draws):
        o = rng.permutation(len(p))
        c, t = o[:n_cal], o[n_cal:]
        for name, g in (("adaptive", sg), ("constant", np.ones(len(p)))):
            q = conformal_quantile(np.abs(y[c] - p[c]) / s[c] / g[c], alpha)
            r = coverage(p[t], y[t], q * g[t] * s[t], lo=0.0, hi=None if hi is None else hi[t])
            got[name].append((r["coverage"], r["width"]))
    out = {}
    for name, rows in got.items():
        a = np.array(rows)
        out[name] = {
            "coverage": float(a[:, 0].mean()),
            "coverage_5_95": [float(np.quantile(a[:, 0], 0.05)), float(np.quantile(a[:, 0], 0.95))],
            "width": float(a[:, 1].mean()),
        }
    return out


def measure(path: str, split: str, draws: int) -> dict:
    run = load_run(path)
    cal, note = run.calibration
    if cal is None:
        raise SystemExit(f"{path}: no calibration ({note})")
    ref = (cal.get("interval_signals") or {}).get("sensitivity")
    ds, _ = load_run_split(run, run.cfg.data.dataset, split)
    out, sig = _split(run, ds, ref)
    doc = {"run": path, "split": split, "model": run.cfg.model_name, "keys": {}}
    rep = I.split_coverage(cal, out, ds, run.info, sig)
    parts = None
    if draws:
        val, _ = load_run_split(run, run.cfg.data.dataset, run.cfg.data.val_split)
        calib = split_val(val)[1]
        cout, csig = _split(run, calib, ref)
        parts = [(I.split_targets(cout, calib, run.info), csig), (I.split_targets(out, ds, run.info), sig)]
    for key, r in rep.items():
        e = cal["intervals"][key]
        doc["keys"][key] = {
            "kind": r["kind"],
            "groups": (e.get("difficulty") or {}).get("groups"),
            "power": (e.get("difficulty") or {}).get("power"),
            "adaptive": {"coverage": r["coverage"], "width": r["width"]},
            "constant": {"coverage": r["constant"]["coverage"], "width": r["constant"]["width"]},
        }
        if parts is not None:
            doc["keys"][key]["resplit"] = resplit(e, parts, key, run.info.scoring, cal["n"], draws, cal["alpha"])
    return doc


def _mr(xs, scale=1.0, nd=1) -> str:
    xs = [scale * x for x in xs if x is not None and math.isfinite(x)]
    if not xs:
        return "–"
    return f"{np.mean(xs):.{nd}f} [{min(xs):.{nd}f}, {max(xs):.{nd}f}]"


def table(docs: list[dict], resplits: bool) -> str:
    rows = [
        "| value | kind (runs) | cover. constant (%) | cover. adaptive (%) | width constant | width adaptive | "
        "narrower (%) |",
        "|---|---|---|---|---|---|---|",
    ]
    keys = [k for k in I.KEYS if all(k in d["keys"] for d in docs)]
    for k in keys:
        e = [d["keys"][k] for d in docs]
        kinds = "/".join(x["kind"][0] for x in e)
        for tag, get in [("", lambda x: x)] + ([(" (re-drawn)", lambda x: x["resplit"])] if resplits else []):
            g = [get(x) for x in e]
            rows.append(
                f"| {k}{tag} | {kinds} | {_mr([x['constant']['coverage'] for x in g], 100)} | "
                f"{_mr([x['adaptive']['coverage'] for x in g], 100)} | "
                f"{_mr([x['constant']['width'] for x in g], nd=2)} | "
                f"{_mr([x['adaptive']['width'] for x in g], nd=2)} | "
                f"{_mr([100 * (1 - x['adaptive']['width'] / x['constant']['width']) for x in g])} |"
            )
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", metavar="RUN")
    ap.add_argument("--split", default="test")
    ap.add_argument("--resplits", type=int, default=0, metavar="N")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    docs = [measure(r, a.split, a.resplits) for r in a.runs]
    for d in docs:
        print(
            f"{d['run']} ({d['model']}): "
            + ", ".join(f"{k} {v['kind']} {v['groups'] or ''} power {v['power']}" for k, v in d["keys"].items())
        )
    print(table(docs, bool(a.resplits)))
    if a.json:
        Path(a.json).write_text(json.dumps(docs, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
