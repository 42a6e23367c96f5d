"""The training loop: ``build_*``, ``train_one_epoch``, ``evaluate``, ``fit``.

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

import dataclasses
import math
import os
import sys
import time
from pathlib import Path

import torch

from judgemind.errors import JudgemindError
from judgemind.models.base import DataInfo, create_model
from judgemind.train import dist as D
from judgemind.train.config import TrainConfig
from judgemind.train.data import FeatureDataset
from judgemind.train.predict import collect_outputs, compute_metrics

# Keys that may change between a run and its --resume (they do not change the numbers).
RESUME_MAY_DIFFER = ("run.out", "run.device", "run.threads", "run.eval_batch_size")


# -- builders ------------------------------------------------------------------------------------------------------

def build_model(cfg: TrainConfig, info: DataInfo) -> tuple[torch.nn.Module, dict]:
    """The model of ``cfg`` (with its video backbone when ``run.end_to_end``), initialised from ``optim.seed``;
    returns it and its resolved config dict."""
    torch.manual_seed(cfg.optim.seed)
    if cfg.run.end_to_end:
        from judgemind.train.e2e import build_e2e_model

        model, mcfg = build_e2e_model(cfg, info)
    else:
        model, mcfg = create_model(cfg.model_name, cfg.model, info)
    resolved = dataclasses.asdict(mcfg) if dataclasses.is_dataclass(mcfg) else dict(mcfg or {})
    return model, resolved


def build_optimizer(cfg: TrainConfig, model: torch.nn.Module) -> torch.optim.Optimizer:
    """AdamW; weight decay on matrices only (not on biases, norms, embeddings of size 1-D)."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    other = [p for p in params if p.ndim < 2]
    groups = [g for g in ({"params": decay, "weight_decay": cfg.optim.weight_decay},
                          {"params": other, "weight_decay": 0.0}) if g["params"]]
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
        gb = perm[start:start + batch_size]
        yield gb[ctx.rank::ctx.world], len(gb)


def sample_seeds(seed: int, epoch: int, index: torch.Tensor) -> torch.Tensor:
    """Per-sample augmentation seeds, unique per (seed, epoch, record index)."""
    return (seed * 1_000_003 + epoch) * 1_000_033 + index.to(torch.long)


def to_device(batch: dict, device: torch.device) -> dict:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def train_one_epoch(model, opt, sched, ds: FeatureDataset, cfg: TrainConfig, epoch: int,
                    ctx: D.DistContext) -> dict[str, float]:
    """One pass over the training split; returns the epoch's mean loss and loss parts (over all processes)."""
    model.train()
    if hasattr(model, "set_epoch"):
        model.set_epoch(epoch, cfg.optim.epochs)
    from judgemind.train.augment import augment_batch, check_augment

    check_augment(cfg.optim)
    delay = float(os.environ.get("JUDGEMIND_DEBUG_STEP_DELAY", "0") or 0)
    sums: dict[str, float] = {}
    for idx, n_global in epoch_batches(len(ds), cfg.optim.batch_size, cfg.optim.seed, epoch, ctx):
        opt.zero_grad(set_to_none=True)
        if len(idx):
            batch = to_device(ds.batch(idx), ctx.device)
            batch["seed"] = sample_seeds(cfg.optim.seed, epoch, batch["index"])
            batch = augment_batch(batch, cfg.optim)   # optim.aug_*: the same for every model; off by default
            out = model(batch)
            loss, parts = model.loss(out, batch)
            if not torch.isfinite(loss):
                raise JudgemindError(f"training loss became {float(loss)} at epoch {epoch + 1}; lower optim.lr or "
                                     f"check the features (parts: {parts})")
            (loss * (len(idx) / n_global)).backward()   # shares of the global batch add up to its mean loss
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
    """All metrics of ``model`` on one split (``judgemind.train.predict.compute_metrics``)."""
    outputs = collect_outputs(model, ds, cfg.run.eval_batch_size, device)
    return compute_metrics(outputs, ds, info)


# -- fit -----------------------------------------------------------------------------------------------------------

def _say(ctx: D.DistContext, msg: str) -> None:
    if ctx.is_main:
        print(msg, file=sys.stderr, flush=True)


def fit(cfg: TrainConfig, resume: bool = False, argv: list[str] | None = None) -> Path:
    """Train ``cfg`` into its run folder (see ``judgemind.train.runs``); returns the folder. Under torchrun every
    process calls this; rank 0 evaluates and writes."""
    from judgemind.train import runs

    ctx = D.init_distributed(cfg.run.device)
    guard = None
    try:
        if cfg.run.threads > 0:
            torch.set_num_threads(cfg.run.threads)
        if cfg.optim.batch_size < ctx.world:
            raise JudgemindError(f"optim.batch_size ({cfg.optim.batch_size}) is smaller than the number of "
                                 f"processes ({ctx.world}); the global batch is split over them")
        run_dir = runs.run_folder(cfg)
        runs.check_folder(run_dir, resume)
        if ctx.is_main:
            guard = runs.RunGuard(run_dir).acquire()  # refuses a folder another process is training into
        data = runs.prepare(cfg)
        model, cfg.model = build_model(cfg, data.info)
        model.to(ctx.device)
        if getattr(model, "needs_train_set", False):
            model.attach_train_set(to_device(data.train.tensors, ctx.device))
        opt = build_optimizer(cfg, model)
        sched = build_scheduler(cfg, opt, len(data.train))
        state = runs.start(run_dir, cfg, model, opt, sched, data.info, resume, ctx, argv)
        if state.epoch == 0:
            D.broadcast_parameters(model, ctx)
        _say(ctx, f"training {cfg.model_name} on {len(data.train)} videos ({ctx.world} process(es), "
                  f"{ctx.device}) -> {run_dir}")
        for epoch in range(state.epoch, cfg.optim.epochs):
            t0 = time.time()
            train_parts = train_one_epoch(model, opt, sched, data.train, cfg, epoch, ctx)
            if ctx.is_main:
                runs.end_epoch(run_dir, cfg, model, opt, sched, data, state, epoch, train_parts, t0, ctx)
            D.barrier(ctx)
        if ctx.is_main:
            runs.finish(run_dir, state, cfg)
        return run_dir
    except BaseException:
        if guard is not None:
            guard.clean_failed()  # a run that failed before its first checkpoint leaves nothing behind
        raise
    finally:
        if guard is not None:
            guard.release()
        D.shutdown(ctx)
