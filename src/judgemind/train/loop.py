"""The training loop: ``build_*``, ``train_one_epoch``, ``evaluate``, ``fit_model``, ``fit``.

:func:`fit_model` is the one loop every trainer uses: ``judgemind train`` (:func:`fit`, which adds the run folder,
checkpoints, DDP and the calibration) and ``judgemind bench`` (``judgemind.bench.run``, which evaluates after every
epoch and keeps no run folder) differ only in the epoch callback they pass.

The loop knows nothing about a model's internals: it calls ``model(batch)`` and ``model.loss(out, batch)`` (and the
optional hooks ``set_epoch`` / ``attach_train_set``, see ``judgemind.models.base``).

Reproducibility: the model is initialised from ``optim.seed``; each epoch's order is a permutation drawn from a
generator seeded by (seed, epoch); per-sample augmentation is keyed by (seed, epoch, record) through
``batch["seed"]``. ``last.pt`` holds the weights, optimizer, scheduler and every RNG state after each epoch, so
``--resume`` after a crash (even ``kill -9``) gives the same final weights and metrics as an uninterrupted run.

Debugging aid: ``JUDGEMIND_DEBUG_STEP_DELAY=SECONDS`` sleeps after every optimizer step (the tests use it to kill a
run in the middle of an epoch).
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from judgemind.errors import JudgemindError
from judgemind.models.base import DataInfo
from judgemind.runs import dist as D
from judgemind.runs.batch import FeatureDataset, split_val
from judgemind.runs.calibrate import build_calibration, write_calibration
from judgemind.runs.config import TrainConfig
from judgemind.runs.model import build_model, load_run_model
from judgemind.runs.outputs import collect_outputs, compute_metrics, headline
from judgemind.runs.prepare import prepare_run_data
from judgemind.train import rundir
from judgemind.train.augment import augment_batch, check_augment

# -- builders ------------------------------------------------------------------------------------------------------


def build_optimizer(cfg: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    """AdamW; weight decay on matrices only (not on biases, norms, embeddings of size 1-D)."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    other = [p for p in params if p.ndim < 2]
    groups = [
        g
        for g in ({"params": decay, "weight_decay": cfg.optim.weight_decay}, {"params": other, "weight_decay": 0.0})
        if g["params"]
    ]
    if not groups:  # a model without trainable parameters still gets a (no-op) optimizer
        groups = [{"params": [torch.nn.Parameter(torch.zeros(1))], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.optim.lr)


def steps_per_epoch(n: int, batch_size: int) -> int:
    return max(1, math.ceil(n / batch_size))


def build_scheduler(cfg: TrainConfig, opt: torch.optim.Optimizer, n_train: int):
    """Per-step linear warm-up for ``warmup_epochs``, then cosine decay to 0 at the last step (or constant)."""
    if cfg.optim.schedule not in ("cosine", "constant"):
        raise JudgemindError(f"optim.schedule must be cosine or constant, got {cfg.optim.schedule!r}")
    per = steps_per_epoch(n_train, cfg.optim.batch_size)
    total, warm = per * cfg.optim.epochs, int(round(cfg.optim.warmup_epochs * per))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        if cfg.optim.schedule == "constant":
            return 1.0
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


# -- one epoch -----------------------------------------------------------------------------------------------------


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int, ctx: D.DistContext):
    """Yield ``(rows of this process, size of the global batch)``: one permutation per (seed, epoch) shared by all
    processes, cut into global batches, each dealt out round-robin (``batch[rank::world]``)."""
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    perm = torch.randperm(n, generator=g)
    for start in range(0, n, batch_size):
        gb = perm[start : start + batch_size]
        yield gb[ctx.rank :: ctx.world], len(gb)


def sample_seeds(seed: int, epoch: int, index: torch.Tensor) -> torch.Tensor:
    """Per-sample augmentation seeds, unique per (seed, epoch, record index)."""
    return (seed * 1_000_003 + epoch) * 1_000_033 + index.to(torch.long)


def to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def train_one_epoch(
    model, opt, sched, ds: FeatureDataset, cfg: TrainConfig, epoch: int, ctx: D.DistContext
) -> dict[str, float]:
    """One pass over the training split; returns the epoch's mean loss and loss parts (over all processes)."""
    model.train()
    if hasattr(model, "set_epoch"):
        model.set_epoch(epoch, cfg.optim.epochs)

    check_augment(cfg.optim)
    delay = float(os.environ.get("JUDGEMIND_DEBUG_STEP_DELAY", "0") or 0)
    sums: dict[str, float] = {}
    for idx, n_global in epoch_batches(len(ds), cfg.optim.batch_size, cfg.optim.seed, epoch, ctx):
        opt.zero_grad(set_to_none=True)
        if len(idx):
            batch = to_device(ds.batch(idx), ctx.device)
            batch["seed"] = sample_seeds(cfg.optim.seed, epoch, batch["index"])
            batch = augment_batch(batch, cfg.optim)  # optim.aug_*: the same for every model; off by default
            out = model(batch)
            loss, parts = model.loss(out, batch)
            if not torch.isfinite(loss):
                raise JudgemindError(
                    f"training loss became {float(loss)} at epoch {epoch + 1}; lower optim.lr or "
                    f"check the features (parts: {parts})"
                )
            (loss * (len(idx) / n_global)).backward()  # shares of the global batch add up to its mean loss
            for k, v in {"loss": float(loss.detach()), **parts}.items():
                sums[k] = sums.get(k, 0.0) + v * len(idx)
        D.sum_gradients(model, ctx)
        if cfg.optim.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
        opt.step()
        sched.step()
        if delay:
            time.sleep(delay)
    return {k: v / len(ds) for k, v in sorted(D.sum_dict(sums, ctx).items())}


def evaluate(model, ds: FeatureDataset, info: DataInfo, cfg: TrainConfig, device: torch.device) -> dict:
    """All metrics of ``model`` on one split (``judgemind.runs.outputs.compute_metrics``)."""
    outputs = collect_outputs(model, ds, cfg.run.eval_batch_size, device)
    return compute_metrics(outputs, ds, info)


# -- fit -----------------------------------------------------------------------------------------------------------


@dataclass
class EpochEnd:
    """What the epoch callback of :func:`fit_model` gets after each epoch. ``epoch`` is 0-based; ``t0`` the
    ``time.time()`` at the epoch's start; ``train_s`` the seconds of ``train_one_epoch``; ``setup_s`` the seconds
    ``attach_train_set`` took (a closed-form model's fit)."""

    epoch: int
    model: torch.nn.Module
    opt: torch.optim.Optimizer
    sched: object
    train_parts: dict
    t0: float
    train_s: float
    setup_s: float


def fit_model(
    cfg: TrainConfig,
    data,
    ctx: D.DistContext,
    on_epoch: Callable[[EpochEnd], None],
    *,
    begin: Callable[[torch.nn.Module, torch.optim.Optimizer, object], int] | None = None,
) -> torch.nn.Module:
    """Train the model of ``cfg`` on ``data`` (``.info``, ``.train``: a PreparedData or the bench's shared data):
    build it (seeded by ``optim.seed``; ``cfg.model`` becomes the resolved model config), hand it the training
    split when it needs one, AdamW + schedule, then for every epoch ``train_one_epoch`` and ``on_epoch(EpochEnd)``.
    ``begin(model, opt, sched) -> first epoch`` runs once before the first epoch (``judgemind train`` restores a
    resumed run there). Returns the model after the last epoch."""
    model, cfg.model = build_model(cfg, data.info)
    model.to(ctx.device)
    setup = time.perf_counter()
    if getattr(model, "needs_train_set", False):
        model.attach_train_set(to_device(data.train.tensors, ctx.device))
    setup = time.perf_counter() - setup
    opt = build_optimizer(cfg, model)
    sched = build_scheduler(cfg, opt, len(data.train))
    first = begin(model, opt, sched) if begin is not None else 0
    for epoch in range(first, cfg.optim.epochs):
        t0, p0 = time.time(), time.perf_counter()
        parts = train_one_epoch(model, opt, sched, data.train, cfg, epoch, ctx)
        on_epoch(EpochEnd(epoch, model, opt, sched, parts, t0, time.perf_counter() - p0, setup))
    return model


def _say(ctx: D.DistContext, msg: str) -> None:
    if ctx.is_main:
        print(msg, file=sys.stderr, flush=True)


def fit(cfg: TrainConfig, resume: bool = False, argv: list[str] | None = None) -> Path:
    """``judgemind train``: :func:`fit_model` into the run folder of ``cfg`` (see ``judgemind.train.rundir``): after
    every epoch validate, log and checkpoint; at the end calibrate ``best.pt``. Returns the folder. Under torchrun
    every process calls this; rank 0 evaluates and writes."""
    ctx = D.init_distributed(cfg.run.device)
    guard = None
    try:
        if cfg.run.threads > 0:
            torch.set_num_threads(cfg.run.threads)
        if cfg.optim.batch_size < ctx.world:
            raise JudgemindError(
                f"optim.batch_size ({cfg.optim.batch_size}) is smaller than the number of "
                f"processes ({ctx.world}); the global batch is split over them"
            )
        run_dir = rundir.run_folder(cfg)
        rundir.check_folder(run_dir, resume)
        if ctx.is_main:
            guard = rundir.RunGuard(run_dir).acquire()  # refuses a folder another process is training into
        data = prepare_run_data(cfg)
        # best.pt is chosen on val's select half; the calib half is left for the conformal intervals
        # (judgemind.runs.calibrate), so their residuals come from data that chose nothing
        select, _ = split_val(data.val)
        state = rundir.RunState()

        def begin(model, opt, sched) -> int:
            nonlocal state
            state = rundir.start(run_dir, cfg, model, opt, sched, data.info, resume, ctx, argv)
            if state.epoch == 0:
                D.broadcast_parameters(model, ctx)
            _say(
                ctx,
                f"training {cfg.model_name} on {len(data.train)} videos ({ctx.world} process(es), "
                f"{ctx.device}) -> {run_dir}",
            )
            return state.epoch

        def on_epoch(e: EpochEnd) -> None:
            if ctx.is_main:
                if hasattr(e.model, "fit_on_select"):
                    e.model.fit_on_select(select, cfg.run.eval_batch_size)
                val = headline(evaluate(e.model, select, data.info, cfg, ctx.device))
                test = None
                if getattr(data, "test", None) is not None:
                    test = headline(evaluate(e.model, data.test, data.info, cfg, ctx.device))
                rundir.end_epoch(
                    run_dir, cfg, e.model, e.opt, e.sched, data, state, e.epoch, e.train_parts, e.t0, val, test
                )
            D.barrier(ctx)

        fit_model(cfg, data, ctx, on_epoch, begin=begin)
        if ctx.is_main:
            rundir.finish(run_dir, state, cfg, _calibrate_best(run_dir, cfg))
        # every rank leaves together: a rank that tore its process group down while rank 0 was still writing the
        # summary aborted now and then in gloo ("terminate called without an active exception", exit -6)
        D.barrier(ctx)
        return run_dir
    except BaseException:
        if guard is not None:
            guard.clean_failed()  # a run that failed before its first checkpoint leaves nothing behind
        raise
    finally:
        if guard is not None:
            guard.release()
        D.shutdown(ctx)


def _calibrate_best(run_dir: Path, cfg: TrainConfig) -> dict:
    """90 % intervals, the in-distribution reference and the deduction calibration of best.pt, from val's calib
    half (see judgemind.runs.calibrate; `judgemind score` reads them), as summary.json entries. End-to-end runs
    have none."""
    if cfg.run.end_to_end:
        return {}

    device = str(D.resolve_device(cfg.run.device))
    try:
        model, rcfg, info, ck = load_run_model(run_dir, "best", device)
        cal = write_calibration(run_dir, "best", build_calibration(model, rcfg, info, rcfg.data.dataset, device), ck)
        d = cal.get("deductions")
        return {
            "interval90_final_kind": cal["intervals"]["final_score"]["kind"],
            "interval90_final_halfwidth_per_dd_constant": cal["intervals"]["final_score"]["constant_q"],
            "deductions_calibrated": d is not None,
            **({f"calib_ded_{k}": d["calib_metrics"][k] for k in ("precision", "recall", "ece")} if d else {}),
        }
    except JudgemindError as e:  # a finished training is kept; `judgemind score` then says why no interval
        print(f"note: no calibration for intervals: {e}", file=sys.stderr, flush=True)
        return {"calibration_error": str(e)}
