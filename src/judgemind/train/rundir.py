"""Run folders: what ``judgemind train`` writes (``judgemind.infer.run`` reads them back).

RUN/config.yaml      the resolved config (every key; re-run with --config RUN/config.yaml)
RUN/run.json         judgemind version, git revision, model, torch version, processes, command line, times
RUN/log.jsonl        one JSON line per epoch: train losses, val headline metrics, lr, seconds, best flag
RUN/best.pt          weights of the epoch with the best validation rho (never chosen on test)
RUN/last.pt          weights + optimizer + scheduler + RNG states after the last finished epoch (--resume)
RUN/summary.json     best epoch and its validation metrics, when training finished
RUN/eval/<split>-<checkpoint>/{metrics.json, predictions.jsonl}     from `judgemind evaluate`
RUN/predict/<dataset>-<split>-<checkpoint>.jsonl                    from `judgemind predict`
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from judgemind.errors import CheckpointError, JudgemindError
from judgemind.models.base import DataInfo
from judgemind.runs import dist as D
from judgemind.runs.checkpoint import (
    check_payload,
    git_revision,
    load_checkpoint,
    load_model_state,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from judgemind.runs.config import TrainConfig, dump_yaml
from judgemind.runs.e2e import export_backbone
from judgemind.runs.folder import LOG, is_better, read_log
from judgemind.utils import clean_json
from judgemind.utils.atomic import atomic_write_json, atomic_write_text, make_dirs, remove_made_dirs
from judgemind.utils.lock import try_lock_dir
from judgemind.version import __version__

# Keys that may change between a run and its --resume (they do not change the numbers).
RESUME_MAY_DIFFER = ("run.out", "run.device", "run.threads", "run.eval_batch_size")


@dataclass
class RunState:
    epoch: int = 0  # next epoch to run (0-based)
    best_epoch: int = -1  # 0-based epoch of best.pt
    best_rho: float = -math.inf
    best_val: dict | None = None


def run_folder(cfg: TrainConfig) -> Path:
    if cfg.run.out:
        return Path(cfg.run.out)
    name = Path(cfg.data.dataset).name or "data"
    return Path("runs") / f"{cfg.model_name}-{name}-{cfg.data.features}-s{cfg.optim.seed}"


def _append_log(run_dir: Path, line: dict) -> None:
    with open(run_dir / LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(clean_json(line), allow_nan=False) + "\n")
        fh.flush()


def _run_info(cfg: TrainConfig, ctx, argv, info: DataInfo, resumed: list) -> dict:
    return {
        "judgemind_version": __version__,
        "git_revision": git_revision(),
        "model": cfg.model_name,
        "torch": torch.__version__,
        "processes": ctx.world,
        "device": str(ctx.device),
        "command": argv if argv is not None else sys.argv,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "resumed": resumed,
        "data_info": info.to_dict(),
    }


def check_folder(run_dir: Path, resume: bool) -> None:
    """A new run needs an empty or absent folder (checked before any data is loaded)."""
    if not resume and run_dir.is_dir() and any(run_dir.iterdir()):
        raise JudgemindError(
            f"run folder {run_dir} is not empty; pass --resume to continue that run or choose another --out"
        )


class RunGuard:
    """The run folder of one training process: locked while training (a second ``judgemind train`` into the same
    folder is refused), and cleaned when a run fails before its first checkpoint (only the files the run wrote,
    and the folder if the run created it), so a failed run leaves no folder that needs --resume to reuse."""

    OWN = ("config.yaml", "run.json", LOG)

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.created: list[Path] = []
        self._existed: set[str] = set()
        self._fd: int | None = None

    def acquire(self) -> "RunGuard":

        self.created = make_dirs(self.run_dir)  # innermost first
        self._existed = {n for n in self.OWN if (self.run_dir / n).exists()}
        self._fd = try_lock_dir(self.run_dir)
        if self._fd is None:
            self.created = []
            raise JudgemindError(
                f"run folder {self.run_dir} is in use by another `judgemind train` process; wait "
                f"for it to finish or choose another --out"
            )
        return self

    def clean_failed(self) -> None:
        if (self.run_dir / "last.pt").exists() or (self.run_dir / "best.pt").exists():
            return  # something to resume from: keep everything
        for name in self.OWN:
            if name not in self._existed:  # only what this process wrote
                (self.run_dir / name).unlink(missing_ok=True)
        remove_made_dirs(self.created)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def start(run_dir: Path, cfg: TrainConfig, model, opt, sched, info: DataInfo, resume: bool, ctx, argv) -> RunState:
    """Create the run folder, or restore everything from ``last.pt`` when resuming."""
    last = run_dir / "last.pt"
    if resume and last.is_file():
        return _resume(run_dir, cfg, model, opt, sched, info, ctx, argv)
    check_folder(run_dir, resume)
    D.barrier(ctx)
    if ctx.is_main:
        if resume:
            print(f"note: {last} does not exist; starting the run from the beginning", file=sys.stderr)
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / "config.yaml", dump_yaml(cfg))
        atomic_write_json(run_dir / "run.json", _run_info(cfg, ctx, argv, info, []))
        atomic_write_text(run_dir / LOG, "")
    D.barrier(ctx)
    return RunState()


def _resume(run_dir, cfg, model, opt, sched, info, ctx, argv) -> RunState:
    last = run_dir / "last.pt"
    ck = load_checkpoint(last, expect_model=cfg.model_name, expect_config=cfg.to_dict(), ignore=RESUME_MAY_DIFFER)
    if ck["data_info"] != info.to_dict():
        raise CheckpointError(
            f"{last}: the data changed since the run started (dimensions, splits, vocabulary or "
            f"score statistics differ); resume on the same data or start a new run"
        )
    check_payload(ck, str(last), resume=True)
    load_model_state(model, ck, last)
    try:
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        set_rng_state(ck["rng"])
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, RuntimeError) as e:
        raise CheckpointError(
            f"{last}: the optimizer, scheduler or random-generator state cannot be restored "
            f"({type(e).__name__}: {str(e)[:160]}); the file is damaged or from another version -- "
            f"start a new run folder"
        ) from None
    done = ck["epoch"] + 1
    if ctx.is_main:
        kept = [line for line in read_log(run_dir) if line.get("epoch", 0) <= done]
        atomic_write_text(run_dir / LOG, "".join(json.dumps(clean_json(x), allow_nan=False) + "\n" for x in kept))
        prev = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").is_file() else {}
        resumed = prev.get("resumed", []) + [{"at_epoch": done, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}]
        atomic_write_json(
            run_dir / "run.json", {**_run_info(cfg, ctx, argv, info, resumed), "started": prev.get("started")}
        )
        print(f"resuming {run_dir} after epoch {done}", file=sys.stderr, flush=True)
    D.barrier(ctx)
    b = ck["best"]
    return RunState(done, b["epoch"], b["rho"] if b["rho"] is not None else -math.inf, ck.get("best_val"))


def end_epoch(
    run_dir,
    cfg,
    model,
    opt,
    sched,
    data,
    state: RunState,
    epoch: int,
    train_parts: dict,
    t0: float,
    val: dict,
    test: dict | None = None,
) -> None:
    """Log the epoch and write best.pt / last.pt (rank 0). ``val`` / ``test``: the headline metrics of the epoch
    (``judgemind.runs.outputs.headline``), computed by the loop."""
    rho = val["rho"] if math.isfinite(val["rho"]) else -math.inf
    is_best = is_better(val["rho"], state.best_rho, state.best_epoch)
    line = {"epoch": epoch + 1, "train": train_parts, "val": val, "lr": sched.get_last_lr()[0], "best": is_best}
    if test is not None:
        line["test"] = test
    line["time_s"] = round(time.time() - t0, 3)
    _append_log(run_dir, line)
    if is_best:
        state.best_epoch, state.best_rho, state.best_val = epoch, rho, clean_json(val)
    cache = getattr(data, "cache", None)
    payload = {
        "model_name": cfg.model_name,
        "config": cfg.to_dict(),
        "data_info": data.info.to_dict(),
        "features_manifest": cache.manifest if cache is not None else None,
        "epoch": epoch,
        "model": model.state_dict(),
        "val": clean_json(val),
        "best": {"epoch": state.best_epoch, "rho": clean_json(state.best_rho)},
        "best_val": state.best_val,
    }
    if is_best:
        save_checkpoint(run_dir / "best.pt", payload)
    save_checkpoint(
        run_dir / "last.pt",
        {**payload, "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "rng": rng_state()},
    )
    state.epoch = epoch + 1

    def f(x):
        return f"{x:.4f}" if x is not None and math.isfinite(x) else "n/a"

    print(
        f"epoch {epoch + 1}/{cfg.optim.epochs}  loss {f(train_parts.get('loss'))}  val rho {f(val['rho'])}  "
        f"(best {f(state.best_rho)} @ {state.best_epoch + 1})  {line['time_s']:.1f}s",
        file=sys.stderr,
        flush=True,
    )


def finish(run_dir: Path, state: RunState, cfg: TrainConfig, extra: dict | None = None) -> None:
    """Write summary.json (best epoch and its validation metrics, plus ``extra``: the calibration's entries); an
    end-to-end run also exports its backbone."""
    summary = {"best_epoch": state.best_epoch + 1, "best_val": state.best_val, "epochs": state.epoch}
    if cfg.run.end_to_end:
        summary["backbone_weights"] = str(export_backbone(run_dir))
    summary.update(extra or {})
    atomic_write_json(run_dir / "summary.json", clean_json(summary))
