"""Run folders: what ``judgemind train`` writes and ``evaluate`` / ``predict`` read.

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
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from judgemind import __version__
from judgemind.errors import CheckpointError, JudgemindError
from judgemind.models.base import DataInfo
from judgemind.train import dist as D
from judgemind.train.checkpoint import (check_payload, git_revision, load_checkpoint, load_model_state,
                                        rng_state, save_checkpoint, set_rng_state)
from judgemind.train.config import TrainConfig, dump_yaml
from judgemind.utils.atomic import atomic_write_json, atomic_write_text

LOG = "log.jsonl"


@dataclass
class RunState:
    epoch: int = 0                 # next epoch to run (0-based)
    best_epoch: int = -1           # 0-based epoch of best.pt
    best_rho: float = -math.inf
    best_val: dict | None = None


def clean_json(x):
    """NaN/Inf -> None, numpy scalars -> Python, recursively (JSON has no NaN)."""
    if isinstance(x, dict):
        return {str(k): clean_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean_json(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def run_folder(cfg: TrainConfig) -> Path:
    if cfg.run.out:
        return Path(cfg.run.out)
    name = Path(cfg.data.dataset).name or "data"
    return Path("runs") / f"{cfg.model_name}-{name}-{cfg.data.features}-s{cfg.optim.seed}"


def prepare(cfg: TrainConfig):
    """The data of a run (features from a cache, or frame clips for end-to-end training)."""
    if cfg.run.end_to_end:
        from judgemind.train.e2e import prepare_e2e_data

        return prepare_e2e_data(cfg)
    from judgemind.train.data import load_split, prepare_data, split_records

    data = prepare_data(cfg.data)
    if cfg.run.log_test:
        data.test = load_split(data.cache, split_records(data.dataset, cfg.data.test_split, "test"), data.info,
                               cfg.data.test_split)
    return data


def _read_log(run_dir: Path) -> list[dict]:
    p = run_dir / LOG
    if not p.is_file():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut by a crash: it and anything after it are dropped on resume
    return out


def _append_log(run_dir: Path, line: dict) -> None:
    with open(run_dir / LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(clean_json(line)) + "\n")
        fh.flush()


def _run_info(cfg: TrainConfig, ctx, argv, info: DataInfo, resumed: list) -> dict:
    return {"judgemind_version": __version__, "git_revision": git_revision(), "model": cfg.model_name,
            "torch": torch.__version__, "processes": ctx.world, "device": str(ctx.device),
            "command": argv if argv is not None else sys.argv, "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "resumed": resumed, "data_info": info.to_dict()}


def check_folder(run_dir: Path, resume: bool) -> None:
    """A new run needs an empty or absent folder (checked before any data is loaded)."""
    if not resume and run_dir.is_dir() and any(run_dir.iterdir()):
        raise JudgemindError(f"run folder {run_dir} is not empty; pass --resume to continue that run or choose "
                             f"another --out")


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
        from judgemind.utils.lock import try_lock_dir

        p = self.run_dir
        missing = []
        while not p.exists():
            missing.append(p)
            p = p.parent
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.created = missing  # innermost first
        self._existed = {n for n in self.OWN if (self.run_dir / n).exists()}
        self._fd = try_lock_dir(self.run_dir)
        if self._fd is None:
            self.created = []
            raise JudgemindError(f"run folder {self.run_dir} is in use by another `judgemind train` process; wait "
                                 f"for it to finish or choose another --out")
        return self

    def clean_failed(self) -> None:
        if (self.run_dir / "last.pt").exists() or (self.run_dir / "best.pt").exists():
            return  # something to resume from: keep everything
        for name in self.OWN:
            if name not in self._existed:  # only what this process wrote
                (self.run_dir / name).unlink(missing_ok=True)
        for d in self.created:
            try:
                d.rmdir()
            except OSError:
                break

    def release(self) -> None:
        if self._fd is not None:
            import os

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
    from judgemind.train.loop import RESUME_MAY_DIFFER

    last = run_dir / "last.pt"
    ck = load_checkpoint(last, expect_model=cfg.model_name, expect_config=cfg.to_dict(), ignore=RESUME_MAY_DIFFER)
    if ck["data_info"] != info.to_dict():
        raise CheckpointError(f"{last}: the data changed since the run started (dimensions, splits, vocabulary or "
                              f"score statistics differ); resume on the same data or start a new run")
    check_payload(ck, str(last), resume=True)
    load_model_state(model, ck, last)
    try:
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        set_rng_state(ck["rng"])
    except (KeyError, ValueError, TypeError, IndexError, AttributeError, RuntimeError) as e:
        raise CheckpointError(f"{last}: the optimizer, scheduler or random-generator state cannot be restored "
                              f"({type(e).__name__}: {str(e)[:160]}); the file is damaged or from another version -- "
                              f"start a new run folder") from None
    done = ck["epoch"] + 1
    if ctx.is_main:
        kept = [line for line in _read_log(run_dir) if line.get("epoch", 0) <= done]
        atomic_write_text(run_dir / LOG, "".join(json.dumps(x) + "\n" for x in kept))
        prev = json.loads((run_dir / "run.json").read_text()) if (run_dir / "run.json").is_file() else {}
        resumed = prev.get("resumed", []) + [{"at_epoch": done, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}]
        atomic_write_json(run_dir / "run.json", {**_run_info(cfg, ctx, argv, info, resumed),
                                                 "started": prev.get("started")})
        print(f"resuming {run_dir} after epoch {done}", file=sys.stderr, flush=True)
    D.barrier(ctx)
    b = ck["best"]
    return RunState(done, b["epoch"], b["rho"] if b["rho"] is not None else -math.inf, ck.get("best_val"))


def end_epoch(run_dir, cfg, model, opt, sched, data, state: RunState, epoch: int, train_parts: dict, t0: float,
              ctx) -> None:
    """Validate, log, and write best.pt / last.pt (rank 0)."""
    from judgemind.train.loop import evaluate
    from judgemind.train.predict import headline

    val = headline(evaluate(model, data.val, data.info, cfg, ctx.device))
    rho = val["rho"] if math.isfinite(val["rho"]) else -math.inf
    is_best = state.best_epoch < 0 or rho > state.best_rho
    line = {"epoch": epoch + 1, "train": train_parts, "val": val, "lr": sched.get_last_lr()[0], "best": is_best}
    if getattr(data, "test", None) is not None:
        line["test"] = headline(evaluate(model, data.test, data.info, cfg, ctx.device))
    line["time_s"] = round(time.time() - t0, 3)
    _append_log(run_dir, line)
    if is_best:
        state.best_epoch, state.best_rho, state.best_val = epoch, rho, clean_json(val)
    cache = getattr(data, "cache", None)
    payload = {"model_name": cfg.model_name, "config": cfg.to_dict(), "data_info": data.info.to_dict(),
               "features_manifest": cache.manifest if cache is not None else None,
               "epoch": epoch, "model": model.state_dict(), "val": clean_json(val),
               "best": {"epoch": state.best_epoch, "rho": clean_json(state.best_rho)}, "best_val": state.best_val}
    if is_best:
        save_checkpoint(run_dir / "best.pt", payload)
    save_checkpoint(run_dir / "last.pt", {**payload, "optimizer": opt.state_dict(),
                                          "scheduler": sched.state_dict(), "rng": rng_state()})
    state.epoch = epoch + 1
    def f(x):
        return f"{x:.4f}" if x is not None and math.isfinite(x) else "n/a"

    print(f"epoch {epoch + 1}/{cfg.optim.epochs}  loss {f(train_parts.get('loss'))}  val rho {f(val['rho'])}  "
          f"(best {f(state.best_rho)} @ {state.best_epoch + 1})  {line['time_s']:.1f}s", file=sys.stderr, flush=True)


def finish(run_dir: Path, state: RunState, cfg: TrainConfig) -> None:
    summary = {"best_epoch": state.best_epoch + 1, "best_val": state.best_val, "epochs": state.epoch}
    if cfg.run.end_to_end:
        from judgemind.train.e2e import export_backbone

        summary["backbone_weights"] = str(export_backbone(run_dir))
    else:
        # 90 % intervals and the in-distribution reference of best.pt, from the validation split (see
        # judgemind.train.calibrate); `judgemind score` reads them
        from judgemind.train.calibrate import calibrate_run

        try:
            cal = calibrate_run(run_dir, "best", str(D.resolve_device(cfg.run.device)))
            summary["interval90_final_halfwidth_per_dd"] = cal["intervals"]["final_score"]["q"]
        except JudgemindError as e:  # a finished training is kept; `judgemind score` then says why no interval
            summary["calibration_error"] = str(e)
            print(f"note: no calibration for intervals: {e}", file=sys.stderr, flush=True)
    atomic_write_json(run_dir / "summary.json", clean_json(summary))


# -- evaluate / predict from a run folder ---------------------------------------------------------------------------

def load_run_model(run_dir: Path, checkpoint: str = "best", device: str = "cpu"):
    """``(model in eval mode, TrainConfig, DataInfo, checkpoint dict)`` of ``RUN/<checkpoint>.pt``."""
    if checkpoint not in ("best", "last"):
        raise JudgemindError(f"--checkpoint must be best or last, got {checkpoint!r}")
    path = Path(run_dir) / f"{checkpoint}.pt"
    if not Path(run_dir).is_dir():
        raise JudgemindError(f"run folder {run_dir} does not exist")
    from judgemind.train.loop import build_model

    ck = load_checkpoint(path)
    try:
        cfg = TrainConfig.from_dict(ck["config"], where=f"{path} config")
        info = DataInfo.from_dict(ck["data_info"])
    except CheckpointError:
        raise
    except JudgemindError as e:
        raise CheckpointError(f"{path}: the stored config or data description is not valid ({e})") from None
    try:
        model, _ = build_model(cfg, info)
    except JudgemindError as e:
        raise CheckpointError(f"{path}: the model cannot be built from the stored config ({e})") from None
    except (RuntimeError, ValueError, TypeError, IndexError, KeyError) as e:  # torch layers refusing stored sizes
        raise CheckpointError(f"{path}: the model cannot be built from the stored config and data description "
                              f"({type(e).__name__}: {str(e)[:160]}); the file is damaged or from another "
                              f"version") from None
    load_model_state(model, ck, path)
    model.to(device).eval()
    return model, cfg, info, ck


def _run_split(model, cfg, info, dataset_path: str, split: str, device):
    """(FeatureDataset of ``split``) of a dataset, with the run's features; attaches the train set if needed."""
    from judgemind.data import load_dataset
    from judgemind.train.data import load_split, open_features, split_records

    if cfg.run.end_to_end:
        from judgemind.train.e2e import load_e2e_split

        return load_e2e_split(model, cfg, info, dataset_path, split)
    dataset = load_dataset(Path(dataset_path))
    cache = open_features(dataset, cfg.data.features)
    ds = load_split(cache, split_records(dataset, split, "evaluated"), info, split)
    if getattr(model, "needs_train_set", False):
        train = load_split(cache, split_records(dataset, cfg.data.train_split, "train"), info, cfg.data.train_split)
        model.attach_train_set({k: v.to(device) for k, v in train.tensors.items()})
    return ds, dataset


def _write_jsonl(path: Path, lines: list[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(clean_json(x), ensure_ascii=False) + "\n" for x in lines))


def evaluate_run(run_dir, split: str = "test", checkpoint: str = "best", out_dir=None,
                 device: str = "cpu") -> dict:
    """Metrics and predictions of a run's checkpoint on one split of its dataset; writes
    ``OUT/metrics.json`` and ``OUT/predictions.jsonl`` (OUT defaults to ``RUN/eval/<split>-<checkpoint>``)."""
    from judgemind.train.predict import collect_outputs, compute_metrics, prediction_records

    run_dir = Path(run_dir)
    model, cfg, info, ck = load_run_model(run_dir, checkpoint, device)
    ds, dataset = _run_split(model, cfg, info, cfg.data.dataset, split, torch.device(device))
    outputs = collect_outputs(model, ds, cfg.run.eval_batch_size, torch.device(device))
    doc = {"run": str(run_dir), "model": cfg.model_name, "checkpoint": checkpoint, "epoch": ck["epoch"] + 1,
           "dataset": cfg.data.dataset, "features": cfg.data.features, "split": split, "n": len(ds),
           "synthetic": bool(dataset.meta.synthetic), "metrics": compute_metrics(outputs, ds, info),
           "note": "score.rho is the model's continuous score (used for checkpoint selection on val); final.* is the "
                   "reported score composed by the rules engine (consensus judge, J x DD truncated)"}
    tests = [(x["test"]["rho"], x["epoch"]) for x in _read_log(run_dir) if x.get("test")]
    if tests:
        rho, ep = max(tests, key=lambda t: -math.inf if t[0] is None else t[0])
        doc["best_epoch_on_test"] = {"rho": rho, "epoch": ep, "note": "the field's protocol (epoch chosen on the "
                                     "test split); not a held-out estimate, reported for comparison only"}
    if not cfg.run.end_to_end:
        doc["intervals"] = _interval_metrics(run_dir, checkpoint, outputs, ds, info)
    out = Path(out_dir) if out_dir else run_dir / "eval" / f"{split}-{checkpoint}"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "metrics.json", clean_json(doc))
    _write_jsonl(out / "predictions.jsonl", prediction_records(outputs, ds, info, split))
    doc["out"] = str(out)
    return doc


def _interval_metrics(run_dir, checkpoint, outputs, ds, info) -> dict:
    """Empirical coverage and mean width on this split of the run's 90 % conformal intervals (calibrated on val,
    computed and stored now if the run has none yet)."""
    from judgemind.evaluate.conformal import coverage
    from judgemind.train.calibrate import COMPONENT_TOP, COMPONENTS, load_calibration
    from judgemind.train.predict import official_scores

    cal, note = load_calibration(run_dir, checkpoint)
    if cal is None:
        return {"note": note}
    iv = cal["intervals"]
    true = ds.tensors["score"].numpy().astype(np.float64)
    dd = np.array([float(r.dd) for r in ds.records])
    out = {"calibrated_on": f"{cal['split']} ({cal['n']} videos)", "level": 1 - cal["alpha"],
           "final_score": coverage(official_scores(outputs, ds.records, info), true, _q(iv["final_score"]) * dd,
                                   lo=0.0, hi=30.0 * dd if info.scoring.startswith("aerials") else None)}
    if "components" in outputs:
        truth = ds.tensors["components"].numpy()
        for k, c in enumerate(COMPONENTS):
            if c in iv:
                out[c] = coverage(outputs["components"][:, k], truth[:, k], _q(iv[c]), 0.0, COMPONENT_TOP[c])
    return out


def _q(entry: dict) -> float:
    q = entry.get("q")
    return math.inf if q is None else float(q)


def predict_run(run_dir, dataset_path: str, split: str = "all", checkpoint: str = "best", out=None,
                device: str = "cpu") -> Path:
    """Predictions (JSONL, one line per record) of a run's checkpoint on any dataset with the run's features."""
    from judgemind.train.predict import collect_outputs, prediction_records

    run_dir = Path(run_dir)
    model, cfg, info, _ = load_run_model(run_dir, checkpoint, device)
    ds, dataset = _run_split(model, cfg, info, dataset_path, split, torch.device(device))
    outputs = collect_outputs(model, ds, cfg.run.eval_batch_size, torch.device(device))
    path = Path(out) if out else run_dir / "predict" / f"{Path(dataset_path).name}-{split}-{checkpoint}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_jsonl(path, prediction_records(outputs, ds, info, split))
    return path
