"""Building a run's model from its config and data description, and loading a finished run's weights: what
training (``judgemind.train.loop``) and inference (``judgemind.infer.run``) share."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from judgemind.errors import CheckpointError, JudgemindError
from judgemind.models.base import DataInfo, create_model
from judgemind.runs.checkpoint import load_checkpoint, load_model_state
from judgemind.runs.config import TrainConfig
from judgemind.runs.e2e import build_e2e_model

__all__ = ["build_model", "load_run_model"]


def build_model(cfg: TrainConfig, info: DataInfo) -> tuple[torch.nn.Module, dict]:
    """The model of ``cfg`` (with its video backbone when ``run.end_to_end``), initialised from ``optim.seed``;
    returns it and its resolved config dict."""
    torch.manual_seed(cfg.optim.seed)
    if cfg.run.end_to_end:
        model, mcfg = build_e2e_model(cfg, info)
    else:
        model, mcfg = create_model(cfg.model_name, cfg.model, info)
    resolved = dataclasses.asdict(mcfg) if dataclasses.is_dataclass(mcfg) else dict(mcfg or {})
    return model, resolved


def load_run_model(run_dir, checkpoint: str = "best", device: str = "cpu"):
    """``(model in eval mode, TrainConfig, DataInfo, checkpoint dict)`` of ``RUN/<checkpoint>.pt``: the model is
    built from the stored config and data description, then given the stored weights (``judgemind.infer.load_run``
    adds the feature manifest, the training split of exemplar models and the calibration)."""
    if checkpoint not in ("best", "last"):
        raise JudgemindError(f"--checkpoint must be best or last, got {checkpoint!r}")
    path = Path(run_dir) / f"{checkpoint}.pt"
    if not Path(run_dir).is_dir():
        raise JudgemindError(f"run folder {run_dir} does not exist")
    ck = load_checkpoint(path)
    try:
        cfg = TrainConfig.from_dict(ck["config"], where=f"{path} config")
        info = DataInfo.from_dict(ck["data_info"])
    except CheckpointError:
        raise
    except JudgemindError as e:
        raise CheckpointError(f"{path}: the stored config or data description is not valid ({e})") from None
    stored = ck["config"].get("model") if isinstance(ck.get("config"), dict) else None
    if cfg.model_name == "judgemind" and isinstance(stored, dict) and "stats_prior" not in stored:
        cfg.model = {**(cfg.model or {}), "stats_prior": False}  # trained before the statistics prior existed
    try:
        model, _ = build_model(cfg, info)
    except JudgemindError as e:
        raise CheckpointError(f"{path}: the model cannot be built from the stored config ({e})") from None
    except (RuntimeError, ValueError, TypeError, IndexError, KeyError) as e:  # torch layers refusing stored sizes
        raise CheckpointError(
            f"{path}: the model cannot be built from the stored config and data description "
            f"({type(e).__name__}: {str(e)[:160]}); the file is damaged or from another "
            f"version"
        ) from None
    load_model_state(model, ck, path)
    model.to(device).eval()
    return model, cfg, info, ck
