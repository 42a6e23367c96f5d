"""Running a bench: the data read once, every planned run trained through the one training loop, results stored
one file per run (resumable), in one process or a pool.

For every (model or ablation variant, seed) the features are trained on with ``judgemind.train.loop.fit_model``
(the loop ``judgemind train`` uses) and an epoch callback that evaluates the val and test splits
(``judgemind.runs.outputs.compute_metrics``, i.e. ``judgemind.evaluate``). The validation split is used in two
halves (``judgemind.runs.batch.split_val``): ``select`` picks the checkpoint epoch and the tuning point, ``calib``
only calibrates the 90 % conformal intervals reported on test -- residuals on data that chose nothing are
exchangeable with the test split's. The dataset and its feature cache are read **once** and shared by all runs.
Each run's result is written atomically to ``OUT/results/<label>/seed<k>.json`` as soon as it finishes and is
skipped on a re-run when its settings (the fingerprint) are unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing as mp
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch

from judgemind.bench.plan import (
    DEFAULT_BATCH,
    DEFAULT_EPOCHS,
    DEFAULT_TUNE_GRID,
    NOT_TUNED,
    BenchConfig,
    RunSpec,
    apply_tuning,
    budget_points,
    choose_settings,
    fixed_settings,
    load_chosen_settings,
    parse_bench_sets,
    parse_data_arg,
    parse_tune_grid,
    plan_runs,
    plan_tuning,
    resolve_models,
    result_path,
)
from judgemind.bench.summary import load_reference, summarize
from judgemind.data import load_dataset
from judgemind.errors import JudgemindError
from judgemind.features.cache import list_caches
from judgemind.models.base import build_config, check_model_overrides
from judgemind.runs import dist as D
from judgemind.runs.batch import (
    build_data_info,
    load_feature_split,
    open_features,
    record_hash,
    split_records,
    split_val,
)
from judgemind.runs.calibrate import ALPHA, deduction_rule, fit_split_deductions
from judgemind.runs.config import DataConfig, OptimConfig, RunConfig, TrainConfig
from judgemind.runs.folder import is_better
from judgemind.runs.intervals import fit_intervals, sensitivity_reference, split_coverage, split_signals
from judgemind.runs.outputs import collect_outputs, compute_metrics, headline
from judgemind.runs.prepare import prepare_run_data
from judgemind.train.loop import fit_model
from judgemind.utils import clean_json
from judgemind.utils.atomic import atomic_write_json
from judgemind.utils.progress import progress_bar


@dataclass
class BenchData:
    root: Path
    dataset: Any
    features: str
    info: Any
    train: Any
    val: Any
    test: Any
    protocol: str
    select: Any = None  # val's select half: checkpoint epoch and tuning choices (judgemind.runs.batch.split_val)
    calib: Any = None  # val's calib half: the conformal calibration only

    def __post_init__(self) -> None:
        if self.select is None:
            self.select, self.calib = split_val(self.val)


def default_features(root: Path, protocol: str) -> str:

    if protocol == "finediving":
        return "i3d"
    caches = list_caches(root)
    if len(caches) == 1:
        return caches[0]
    what = f"several feature caches ({', '.join(caches)})" if caches else "no feature caches"
    hint = "" if caches else f" after `judgemind extract {root} --extractor ...`"
    raise JudgemindError(f"bench: {root} has {what}; pass --features NAME{hint}")


def load_bench_data(data: str, features: str = "", limit: int = 0, train_size: int = 0) -> BenchData:
    """The dataset, its DataInfo and the train/val/test splits as tensors, read once with the trainer's own data
    functions (``judgemind.runs.prepare.prepare_run_data`` / ``judgemind.runs.batch``: same checks and targets as
    ``judgemind train``). ``limit`` keeps the first N videos of each split and reads only those; ``train_size``
    trains on N training videos (:func:`train_subset`) with the whole val and test splits."""

    protocol, root = parse_data_arg(data)
    dataset = load_dataset(root)
    if protocol == "finediving" and dataset.meta.scoring != "diving":
        raise JudgemindError(
            f"bench --data finediving:{root}: the dataset's scoring is {dataset.meta.scoring!r}, "
            f"not 'diving'; convert FineDiving with `judgemind data convert finediving ...`"
        )
    features = features or default_features(root, protocol)
    if (limit and limit > 0) or (train_size and train_size > 0):
        splits = _load_limited(dataset, features, limit, train_size)
    else:
        prepared = prepare_run_data(
            TrainConfig(data=DataConfig(dataset=str(root), features=features), run=RunConfig(log_test=True))
        )
        splits = (prepared.info, prepared.train, prepared.val, prepared.test)
    info, train, val, test = splits
    return BenchData(root, dataset, features, info, train, val, test, protocol)


def train_subset(records: Sequence, n: int) -> list:
    """``n`` training records for a data-efficiency curve: the records ordered by the hash of their id that orders
    val's halves too (:func:`judgemind.runs.batch.record_hash`), the first ``n`` (kept in the split's order) - the
    same for every model and seed, and nested (the 100 are among the 200).
    More than the split has -> :class:`JudgemindError`."""
    if n > len(records):
        raise JudgemindError(f"bench --train-size {n}: the training split has only {len(records)} videos")
    keep = set(sorted(range(len(records)), key=lambda i: (record_hash(records[i].id), i))[:n])
    return [r for i, r in enumerate(records) if i in keep]


def _load_limited(dataset, features: str, limit: int, train_size: int = 0):
    """(DataInfo, train, val, test) from the first ``limit`` records of each split (0: all), the training split cut
    to ``train_size`` videos (0: all; DataInfo from those)."""

    cache = open_features(dataset, features)
    recs = {role: split_records(dataset, role, role) for role in ("train", "val", "test")}
    if limit and limit > 0:
        recs = {role: r[:limit] for role, r in recs.items()}
    if train_size and train_size > 0:
        recs["train"] = train_subset(recs["train"], train_size)
    info = build_data_info(dataset.meta.scoring, cache.dims, recs["train"], list(dataset.records))
    train = load_feature_split(cache, recs["train"], info, "train")
    info = dataclasses.replace(info, steps=int(train.tensors["mask"].shape[1]))
    return (
        info,
        train,
        load_feature_split(cache, recs["val"], info, "val"),
        load_feature_split(cache, recs["test"], info, "test"),
    )


def flat_metrics(m: dict) -> dict[str, float]:
    """The bench's flat view of ``compute_metrics`` output: ``judgemind.runs.outputs.headline`` with every
    component's rho and AIoU@0.75, AIoU and mAP x100 (as papers print them); the calibrated listing's
    ``ded_precision``, ``ded_recall``, ``ded_ece``, ``ded_clean_items`` as fractions / counts."""

    h = headline(m, detail=True)
    return {k: float(100.0 * v if k.startswith("aiou") or k == "deduction_map" else v) for k, v in h.items()}


def calibrated_intervals(model, data: BenchData, sel_out: dict, cal_out: dict, test_out: dict, device) -> dict:
    """Empirical test coverage (%) and mean width of the 90 % split-conformal intervals ``judgemind train`` stores
    with a run (``judgemind.runs.intervals.fit_intervals``: the difficulty chosen on val's select half, ``q`` from
    its calib half, data that chose nothing): ``cover_score`` / ``width_score`` for the reported final score
    (width in points) and ``cover_<component>`` / ``width_<component>`` (marks) for Air, Form, Landing when the
    model predicts them; ``cover_const_*`` / ``width_const_*`` the same for the constant-width interval of the same
    calib half (what judgemind reported before its intervals adapted to each jump), ``adaptive_*`` 1 when the
    stored interval is adaptive, 0 when constant. Too few calibration videos for a 90 % guarantee: NaN."""

    bs = 64
    ref = sensitivity_reference(data.train)
    sig = {
        name: split_signals(model, ds, out, ref, device, bs)
        for name, ds, out in (
            ("select", data.select, sel_out),
            ("calib", data.calib, cal_out),
            ("test", data.test, test_out),
        )
    }
    iv = fit_intervals(sel_out, data.select, sig["select"], cal_out, data.calib, sig["calib"], data.info, ALPHA)
    out = {}
    for key, rep in split_coverage({"intervals": iv}, test_out, data.test, data.info, sig["test"]).items():
        t = "score" if key == "final_score" else key
        out.update(
            {
                f"cover_{t}": 100.0 * rep["coverage"],
                f"width_{t}": rep["width"],
                f"cover_const_{t}": 100.0 * rep["constant"]["coverage"],
                f"width_const_{t}": rep["constant"]["width"],
                f"adaptive_{t}": float(rep["kind"] == "adaptive"),
            }
        )
    return out


def _finite(x) -> float:
    return x if x is not None and math.isfinite(x) else -math.inf


def fingerprint(spec: RunSpec, data: BenchData, cfg: BenchConfig, optim: dict) -> dict:
    return {
        "dataset": str(Path(data.root).resolve()),
        "features": data.features,
        "protocol": data.protocol,
        "limit": int(cfg.limit),
        "train_size": int(cfg.train_size),
        "model": spec.model,
        "overrides": {k: str(v) for k, v in spec.overrides.items()},
        "seed": spec.seed,
        "optim": {k: str(v) for k, v in {**optim, **spec.optim}.items()},
        "val": "select/calib halves by record hash",  # results chosen on the whole val split are stale
    }


def train_config(spec: RunSpec, data: BenchData, cfg: BenchConfig, optim_sets: dict):

    optim = build_config(
        OptimConfig,
        {
            "epochs": cfg.epochs or DEFAULT_EPOCHS,
            "batch_size": cfg.batch_size or DEFAULT_BATCH,
            **optim_sets,
            **spec.optim,
            "seed": spec.seed,
        },
        where="optim",
    )
    return TrainConfig(
        data=DataConfig(dataset=str(data.root), features=data.features),
        model_name=spec.model,
        model=check_model_overrides(spec.model, spec.overrides),
        optim=optim,
        run=RunConfig(device=cfg.device),
    )


def run_one(spec: RunSpec, data: BenchData, cfg: BenchConfig, optim_sets: dict, bar=None) -> dict:
    """Train one (model, seed) on the shared data with the one training loop (``judgemind.train.loop.fit_model``);
    its epoch callback evaluates val and test and keeps the epoch with the best validation rho
    (``judgemind.runs.folder.is_better``, the rule ``judgemind train`` picks best.pt by)."""

    tcfg = train_config(spec, data, cfg, optim_sets)
    device = D.resolve_device(cfg.device)
    history: list[dict] = []
    best: dict = {"epoch": -1, "val_rho": -math.inf}
    run: dict = {"train_time": 0.0, "params": 0}
    bs = tcfg.run.eval_batch_size

    def on_epoch(e) -> None:
        if e.epoch == 0:
            run["params"] = sum(p.numel() for p in e.model.parameters() if p.requires_grad)
            # a closed-form model's fit (attaching the training split) counts as training time
            run["train_time"] = e.setup_s if getattr(e.model, "closed_form", False) else 0.0
        run["train_time"] += e.train_s
        if hasattr(e.model, "fit_on_select"):  # post-hoc numbers fitted on the select half (models/base.py)
            e.model.fit_on_select(data.select, bs)
        # "val" is the select half (it chooses the epoch here and the point in --tune); calib only calibrates
        # the deduction calibration of this epoch's model on the calib half, as judgemind train stores it for best.pt
        cal_out = collect_outputs(e.model, data.calib, bs, device)
        rule = deduction_rule({"deductions": fit_split_deductions(cal_out, data.calib, data.info)}, data.info.item_ids)
        sel_out = collect_outputs(e.model, data.select, bs, device)
        val = flat_metrics(compute_metrics(sel_out, data.select, data.info, rule))
        test_out = collect_outputs(e.model, data.test, bs, device)
        test = flat_metrics(compute_metrics(test_out, data.test, data.info, rule))
        history.append({"epoch": e.epoch + 1, "loss": e.train_parts.get("loss"), "val": val, "test": test})
        if is_better(val["rho"], best["val_rho"], best["epoch"]):
            # the intervals of the epoch that is kept (their signals take a few forward passes more)
            test = {**test, **calibrated_intervals(e.model, data, sel_out, cal_out, test_out, device)}
            best.update(
                epoch=e.epoch,
                val_rho=_finite(val["rho"]),
                val=val,
                test=test,
                pred=test_out["score"].astype(float).tolist(),
            )
        if bar is not None:
            bar.set_postfix_str(
                f"{spec.label} s{spec.seed} ep {e.epoch + 1}/{tcfg.optim.epochs} val rho {val['rho']:.3f}", refresh=True
            )

    model = fit_model(tcfg, data, D.DistContext(device=device), on_epoch)
    return {
        "label": spec.label,
        "model": spec.model,
        "seed": spec.seed,
        "ablation": spec.ablation,
        "config": tcfg.model,
        "optim": dataclasses.asdict(tcfg.optim),
        "params": int(run["params"]),
        "train_time_s": round(run["train_time"], 3),
        "epochs": tcfg.optim.epochs,
        "fit": model.fit_summary() if hasattr(model, "fit_summary") else None,
        "ours": {"epoch": best["epoch"] + 1, "val": best["val"], "test": best["test"]},
        "val_halves": {"select": len(data.select), "calib": len(data.calib)},
        "best_epoch_on_test": best_on_test(history),
        "test_predictions": {
            "ids": [r.id for r in data.test.records],
            "true": data.test.tensors["score"].double().tolist(),
            "pred": best["pred"],
        },
        "history": history,
    }


def best_on_test(history: list[dict]) -> dict:
    """The field's numbers: the best test rho and the lowest test R-l2 over epochs (each with its epoch)."""
    rho = max(history, key=lambda h: _finite(h["test"]["rho"]))
    rl2 = min(history, key=lambda h: h["test"]["rl2_x100"] if math.isfinite(h["test"]["rl2_x100"]) else math.inf)
    out = {
        "rho": rho["test"]["rho"],
        "rho_epoch": rho["epoch"],
        "rl2_x100": rl2["test"]["rl2_x100"],
        "rl2_epoch": rl2["epoch"],
    }
    for k in ("aiou@0.5", "aiou@0.75"):
        if k in rho["test"]:
            out[k] = rho["test"][k]
    return out


def _load_result(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None  # unreadable (should not happen with atomic writes): run again


def default_out(data: BenchData) -> Path:
    return Path("bench") / f"{Path(data.root).resolve().name}-{data.features}"


def run_bench(cfg: BenchConfig) -> tuple[dict, list[dict]]:
    """Run (or resume) the whole bench; returns ``(summary document, run results)``: ``doc`` is what bench.json
    holds (``doc["out"]`` the output folder), rendered by ``judgemind.report.bench.write_bench_outputs(out, doc,
    results)``. Each run's result is already stored under ``OUT/results`` (the unit of resumption)."""
    protocol, _ = parse_data_arg(cfg.data)
    specs = plan_runs(cfg, protocol)  # config errors before any data is read
    names, _ = resolve_models(cfg.models)
    optim_sets, _ = parse_bench_sets(cfg.sets, names)
    grid_text = DEFAULT_TUNE_GRID if cfg.tune_grid is None else cfg.tune_grid
    grid = parse_tune_grid(grid_text) if cfg.tune else {}
    tune_plan = plan_tuning(specs, grid, cfg.tune_budget) if cfg.tune else []
    _set_threads(cfg.threads)
    if cfg.tune and cfg.settings_from:
        raise JudgemindError("bench: --tune and --settings-from exclude each other (tune here, or reuse a choice)")
    chosen_from = load_chosen_settings(cfg.settings_from, specs) if cfg.settings_from else None
    data = load_bench_data(cfg.data, cfg.features, cfg.limit, cfg.train_size)
    reference = load_reference(data, cfg.limit)  # a malformed stats.json fails before any training
    out = Path(cfg.out) if cfg.out else default_out(data)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    tuning, tune_results = None, []
    if cfg.tune:
        if tune_plan:
            tune_results = _execute([s for s, _ in tune_plan], data, cfg, optim_sets, out, "bench tuning (seed 0)")
            chosen = choose_settings(tune_plan, tune_results, grid)
        else:  # one grid point: fixed settings, marked not tuned
            chosen = fixed_settings(specs, grid)
        specs = apply_tuning(specs, chosen)
        tuning = tuning_record(grid, grid_text, cfg.tune_budget, chosen, specs)
    elif chosen_from is not None:
        specs = apply_tuning(specs, chosen_from[0])
        tuning = chosen_from[1]
    results = _execute(specs, data, cfg, optim_sets, out, "bench runs", tune_results if cfg.tune else ())
    doc = summarize(results, specs, data, cfg, time.time() - t_start, tuning, reference)
    doc["out"] = str(out)
    return doc, results


def tuning_record(grid: dict, grid_text: str, budget: int, chosen: dict, specs: list[RunSpec]) -> dict:
    """bench.json ``tuning``: the grid, the budget and the points every model tried, per tuned model its
    candidates, choice, edges and epoch ceiling (:func:`judgemind.bench.plan.choose_settings`), and why the
    others were not tuned."""
    points = budget_points(grid, budget)
    return {
        "grid": grid,
        "grid_text": grid_text,
        "budget": budget,
        "points": points,
        "tuned": len(points) > 1,
        "split": "val:select",
        "seed": 0,
        "criterion": "best rho on val's select half at the run's checkpoint epoch (ties: lower R-l2)",
        "models": chosen,
        "ablations": "take the full JudgeMind's choice",
        "not_tuned": {
            m: NOT_TUNED[m] for m in dict.fromkeys(s.model for s in specs if s.ablation is None) if m in NOT_TUNED
        },
    }


def _execute(
    specs: list[RunSpec],
    data: BenchData,
    cfg: BenchConfig,
    optim_sets: dict,
    out: Path,
    desc: str,
    pool: Sequence[dict] = (),
) -> list[dict]:
    """Train every spec whose stored result is missing or stale (fingerprint), reuse the others; results in
    ``specs`` order. A result in ``pool`` (the tuning runs) with a spec's fingerprint is that run already done
    (the chosen point on seed 0): it is copied, not trained again."""
    done: dict[int, dict] = {}
    todo: list[tuple[int, RunSpec, dict]] = []
    by_fp = {json.dumps(r.get("fingerprint"), sort_keys=True): r for r in pool}
    for i, spec in enumerate(specs):
        fp = fingerprint(
            spec,
            data,
            cfg,
            {"epochs": cfg.epochs or DEFAULT_EPOCHS, "batch_size": cfg.batch_size or DEFAULT_BATCH, **optim_sets},
        )
        path = result_path(out, spec)
        old = _load_result(path) if path.is_file() else None
        same = by_fp.get(json.dumps(fp, sort_keys=True))
        if old is not None and old.get("fingerprint") == fp:
            done[i] = old
        elif same is not None and same["label"] == spec.label and same["seed"] == spec.seed:
            atomic_write_json(path, same)
            done[i] = same
        else:
            todo.append((i, spec, fp))
    bar = _progress(len(specs), cfg.progress, desc)
    if bar is not None and done:
        bar.update(len(done))
    jobs = min(resolve_jobs(cfg), len(todo)) if todo else 1
    if jobs <= 1:
        for i, spec, fp in todo:
            done[i] = _run_and_store(spec, fp, data, cfg, optim_sets, out, bar)
            if bar is not None:
                bar.update(1)
    else:
        done.update(_run_parallel(todo, cfg, optim_sets, out, jobs, bar))
    if bar is not None:
        bar.close()
    return [done[i] for i in range(len(specs))]


def resolve_jobs(cfg: BenchConfig) -> int:

    if cfg.jobs > 0:
        return cfg.jobs
    if cfg.device not in ("cpu",):
        return 1
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def _set_threads(threads: int) -> None:
    if threads > 0:
        torch.set_num_threads(threads)


def _run_and_store(
    spec: RunSpec, fp: dict, data: BenchData, cfg: BenchConfig, optim_sets: dict, out: Path, bar=None
) -> dict:
    """Train one run and write its result file atomically (the unit of resumption)."""
    res = clean_json(run_one(spec, data, cfg, optim_sets, bar))
    res["fingerprint"] = fp
    atomic_write_json(result_path(out, spec), res)
    return res


# Worker processes (``--jobs``): each reads the data once, then trains the runs it is handed.
_WORKER: dict = {}


def _worker_init(cfg: BenchConfig) -> None:
    _set_threads(cfg.threads)
    _WORKER["data"] = load_bench_data(cfg.data, cfg.features, cfg.limit, cfg.train_size)
    _WORKER["cfg"] = cfg


def _worker_run(spec: RunSpec, fp: dict, optim_sets: dict, out: str) -> str:
    _run_and_store(spec, fp, _WORKER["data"], _WORKER["cfg"], optim_sets, Path(out))
    return str(result_path(Path(out), spec))


def _run_parallel(todo, cfg: BenchConfig, optim_sets: dict, out: Path, jobs: int, bar) -> dict[int, dict]:
    """Run ``todo`` in ``jobs`` spawned processes; results are read back from their files."""

    results: dict[int, dict] = {}
    worker_cfg = dataclasses.replace(cfg, progress=False)
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=mp.get_context("spawn"), initializer=_worker_init, initargs=(worker_cfg,)
    ) as pool:
        futures = {pool.submit(_worker_run, spec, fp, optim_sets, str(out)): (i, spec) for i, spec, fp in todo}
        try:
            for fut in as_completed(futures):
                i, spec = futures[fut]
                results[i] = json.loads(Path(fut.result()).read_text(encoding="utf-8"))
                if bar is not None:
                    bar.set_postfix_str(f"finished {spec.label} s{spec.seed}", refresh=False)
                    bar.update(1)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return results


def _progress(total: int, on: bool, desc: str = "bench runs"):
    if not on:
        return None

    return progress_bar(total=total, desc=desc, unit="run")
