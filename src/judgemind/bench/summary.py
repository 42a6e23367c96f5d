"""Summarising a bench: mean +- std over seeds per row, the data set's floor and ceiling (``stats.json``), and the
findings (does JudgeMind beat every baseline, does every ablation cost)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Sequence

from judgemind.bench.plan import CLOSED_FORM, DEFAULT_BATCH, DEFAULT_EPOCHS, METRICS, WIDTH_KEYS, BenchConfig, RunSpec
from judgemind.errors import JudgemindError
from judgemind.evaluate import summarize_seeds
from judgemind.rules.names import COMPONENTS


def _nan(x):
    return float("nan") if x is None else x


def _summ(dicts: list[dict], keys: Sequence[str]) -> dict[str, tuple[float, float]]:
    """mean ± std over seeds (``judgemind.evaluate.summarize_seeds``) of ``keys`` (missing -> NaN)."""

    rows = [{k: float(_nan(d.get(k))) for k in keys} for d in dicts]
    return {k: (float(m), float(s)) for k, (m, s) in summarize_seeds(rows).items()}


def load_reference(data, limit: int) -> dict:
    """The data set's floor and ceiling from ``DATASET/stats.json`` (``judgemind data stats DATASET``):
    ``{"code_prior": {rho, rl2x100}, "fault_oracle": {rho, rl2x100, per_component}}``, or ``{"note": why not}``
    when there is none or it does not describe these splits. A malformed file -> :class:`JudgemindError`."""
    path = Path(data.root) / "stats.json"
    if not path.is_file():
        return {
            "note": f"no {path.name} in the data set (run `judgemind data stats {data.root}` for the fault oracle row)"
        }
    try:
        st = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise JudgemindError(
            f"{path}: not readable as JSON ({exc}); re-create it with `judgemind data stats {data.root}`"
        ) from None

    def number(v) -> bool:
        # null: a figure that is not defined (a constant split has no rank correlation; `data stats` writes strict
        # JSON), read back as NaN
        return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))

    def metrics(d, where):
        if not (isinstance(d, dict) and "rho" in d and "rl2x100" in d and number(d["rho"]) and number(d["rl2x100"])):
            raise JudgemindError(
                f"{path}: {where} needs numbers rho and rl2x100; re-create the file with "
                f"`judgemind data stats {data.root}`"
            )
        nan = float("nan")
        return {
            "rho": nan if d["rho"] is None else float(d["rho"]),
            "rl2_x100": nan if d["rl2x100"] is None else float(d["rl2x100"]),
        }

    if not isinstance(st, dict):
        raise JudgemindError(f"{path}: expected a JSON object written by `judgemind data stats`")
    ref = {
        "code_prior": metrics(st.get("code_prior"), "code_prior"),
        "fault_oracle": metrics(st.get("fault_oracle"), "fault_oracle"),
        "source": str(path),
    }
    per = st["fault_oracle"].get("per_component") or {}
    if isinstance(per, dict):
        ref["fault_oracle"]["per_component"] = {
            c: metrics(v, f"fault_oracle.per_component.{c}")["rho"] for c, v in per.items() if c in COMPONENTS
        }
    if limit:
        return {"note": f"{path.name} describes the whole splits; not shown with --limit"}
    n = {"train": st.get("n_train"), "test": st.get("n_test")}
    if n != {"train": len(data.train), "test": len(data.test)}:
        return {
            "note": f"{path} counts {n['train']} train / {n['test']} test videos, the bench has "
            f"{len(data.train)} / {len(data.test)}: stale? re-run `judgemind data stats {data.root}`"
        }
    return ref


def summarize(
    results: list[dict],
    specs: list[RunSpec],
    data,
    cfg: BenchConfig,
    elapsed: float,
    tuning: dict | None = None,
    reference: dict | None = None,
) -> dict:
    labels = list(dict.fromkeys(s.label for s in specs))
    by_label = {lab: [r for r in results if r["label"] == lab] for lab in labels}
    rows = {}
    for lab in labels:
        runs = by_label[lab]
        keys_ours = [k for k in METRICS if any(k in r["ours"]["test"] for r in runs)]
        ours = [
            {**r["ours"]["test"], "train_time_s": r["train_time_s"], "params": r["params"], "epoch": r["ours"]["epoch"]}
            for r in runs
        ]
        field_keys = [
            k for k in ("rho", "rl2_x100", "aiou@0.5", "aiou@0.75") if any(k in r["best_epoch_on_test"] for r in runs)
        ]
        rows[lab] = {
            "model": runs[0]["model"],
            "ablation": runs[0]["ablation"],
            "seeds": [r["seed"] for r in runs],
            "ours": _summ(ours, keys_ours + ["train_time_s", "params", "epoch"]),
            "val": _summ([r["ours"]["val"] for r in runs], ["rho", "rl2_x100"]),
            "best_epoch_on_test": _summ([r["best_epoch_on_test"] for r in runs], field_keys),
            "tuned": _row_tuned(runs[0], tuning),
            "val_halves": runs[0].get("val_halves"),
            "settings": {
                "lr": runs[0]["optim"]["lr"],
                "epochs": runs[0]["optim"]["epochs"],
                "weight_decay": runs[0]["optim"].get("weight_decay"),
                "aug_noise": runs[0]["optim"].get("aug_noise"),
                "aug_shot": runs[0]["optim"].get("aug_shot"),
                **{
                    k: runs[0]["config"][k]
                    for k in WIDTH_KEYS.get(runs[0]["model"], ())
                    if k in (runs[0].get("config") or {})
                },
            },
        }
        fits = [r.get("fit") for r in runs if r.get("fit")]
        if fits:
            rows[lab]["fit"] = fits
    ds = data.dataset
    return {
        "dataset": {
            "root": str(data.root),
            "name": ds.meta.name,
            "synthetic": bool(ds.meta.synthetic),
            "scoring": ds.meta.scoring,
            "features": data.features,
            "protocol": data.protocol,
            "n": {"train": len(data.train), "val": len(data.val), "test": len(data.test)},
            "val_halves": {
                "select": len(data.select),
                "calib": len(data.calib),
                "rule": "val rows ordered by the SHA-256 of the record id; the first half selects (checkpoint "
                "epoch, tuning point), the second calibrates the conformal intervals only",
            },
        },
        "settings": {
            "epochs": cfg.epochs or DEFAULT_EPOCHS,
            "batch_size": cfg.batch_size or DEFAULT_BATCH,
            "seeds": [int(s) for s in cfg.seeds],
            "limit": cfg.limit,
            "train_size": cfg.train_size,
            "settings_from": cfg.settings_from or None,
            "device": cfg.device,
            "sets": list(cfg.sets),
            "tuned": bool(tuning and tuning.get("tuned")),
            "optim": next(
                (r["optim"] for r in results if r["model"] not in CLOSED_FORM), results[0]["optim"] if results else {}
            ),
        },
        "protocols": {
            "ours": "checkpoint = epoch with the best rho on val's select half; test metrics of that epoch (test "
            "unseen by the choice)",
            "intervals": "cover_<t> / width_<t>: test coverage (%) and mean width of 90 % split-conformal "
            "intervals of the final score (t = score, per unit of DD) and of each component, adapted to each jump "
            "(a difficulty from the model's outputs fitted on val's select half, adaptive_<t> = 1) or of constant "
            "width (adaptive_<t> = 0), calibrated on val's calib half (which chose nothing); cover_const_<t> / "
            "width_const_<t>: the constant-width interval of the same calib half",
            "deductions": "ded_precision / ded_recall / ded_ece / ded_clean_items: the judge sheet's listing on test "
            "(each item Platt-scaled and thresholded on val's calib half at the checkpoint epoch, exclusive groups "
            "one member): precision and recall of the listed items, expected calibration error (10 bins, all "
            "items) and the mean number of a stage's items listed where the panel took nothing in that stage",
            "best_epoch_on_test": "the field's protocol: best test rho and lowest test R-l2 over epochs (possibly "
            "different epochs); not a held-out estimate, for comparison with published tables",
        },
        "rows": rows,
        "reference": reference or {},
        "tuning": tuning,
        "findings": findings(rows, reference or {}),
        "elapsed_s": round(elapsed, 1),
    }


def _row_tuned(run: dict, tuning: dict | None) -> bool:
    """Whether a row's settings were chosen on val: its model (JudgeMind for an ablation) was tuned on a grid of
    more than one point. ``--set`` settings alone, a one-point grid and the closed-form models: False."""
    lab = "judgemind" if run.get("ablation") else run["label"]
    return bool(tuning and tuning.get("models", {}).get(lab, {}).get("tuned"))


def floor_rho(rows: dict, reference: dict) -> tuple[float | None, str]:
    """The code prior's test rho (the bench's own ``codeprior`` row, else stats.json's) and where it comes from."""
    if "codeprior" in rows:
        return rows["codeprior"]["ours"]["rho"][0], "codeprior row"
    if "code_prior" in reference:
        return reference["code_prior"]["rho"], "stats.json"
    return None, ""


def findings(rows: dict, reference: dict | None = None) -> dict:
    """Which models do not beat the code prior's rho; does JudgeMind beat every baseline (rho up, R-l2 down, ours
    protocol), and does every ablation cost?"""
    out: dict = {}
    floor, source = floor_rho(rows, reference or {})
    if floor is not None and math.isfinite(floor):
        out["code_prior_rho"] = floor
        out["code_prior_source"] = source
        out["not_above_code_prior"] = [
            lab for lab, r in rows.items() if lab != "codeprior" and not (r["ours"]["rho"][0] > floor)
        ]
    if "judgemind" not in rows:
        return out
    jm = rows["judgemind"]["ours"]
    base = {lab: r["ours"] for lab, r in rows.items() if r["ablation"] is None and lab != "judgemind"}
    if base:
        # A baseline "wins" a metric when it is at least as good; an undefined (NaN) baseline value never wins,
        # an undefined JudgeMind value always loses.
        def wins_rho(b):
            return math.isfinite(b["rho"][0]) and not (jm["rho"][0] > b["rho"][0])

        def wins_rl2(b):
            return math.isfinite(b["rl2_x100"][0]) and not (jm["rl2_x100"][0] < b["rl2_x100"][0])

        out["judgemind_best_rho"] = not any(wins_rho(b) for b in base.values())
        out["judgemind_best_rl2"] = not any(wins_rl2(b) for b in base.values())
        out["baselines_winning"] = sorted(lab for lab, b in base.items() if wins_rho(b) or wins_rl2(b))
    abl = {r["ablation"]: r["ours"] for r in rows.values() if r["ablation"]}
    if abl:
        out["ablations"] = {}
        for k, a in abl.items():
            d_rho, d_rl2 = a["rho"][0] - jm["rho"][0], a["rl2_x100"][0] - jm["rl2_x100"][0]
            worse = [name for name, bad in (("rho", d_rho < 0), ("rl2", d_rl2 > 0)) if bad]
            out["ablations"][k] = {
                "delta_rho": d_rho,
                "delta_rl2_x100": d_rl2,
                "costs": bool(worse),
                "verdict": {2: "costs (rho and R-l2)", 0: "no cost"}.get(
                    len(worse), f"mixed (costs {worse[0] if worse else ''} only)"
                ),
            }
        out["every_ablation_costs"] = all(v["costs"] for v in out["ablations"].values())
        out["every_ablation_costs_both"] = all(v["verdict"].startswith("costs") for v in out["ablations"].values())
    return out
