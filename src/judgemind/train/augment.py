"""Training-time augmentation offered to every model alike, applied by the training loop to the batch's tokens.

    --set optim.aug_noise=0.1      Gaussian noise on every token: std = 0.1 x the video's own per-dimension std
    --set optim.aug_shot=0.5       per video with probability 0.5, every camera shot gets its own per-dimension
                                   gain 1 +- aug_gain and bias +- aug_bias x the video's per-dimension std

Both act on ``global`` and ``foreground`` (B, T, D) of training batches only (never in evaluation) and are off by
default (0). The numbers come from ``batch["seed"]`` (:func:`judgemind.models.base.keyed_uniform`), so a sample's
augmentation depends on (run seed, epoch, record) only -- not on the batch it lands in or the number of processes.
The scales are the video's own (std over its valid steps, per dimension): no split statistics, so nothing depends
on the batch either, and a dimension that is constant in a video gets no noise.

The shot gain/bias imitates a camera switch like JudgeMind's internal ``cut_aug`` (which acts on its projected
tokens); this one is model-independent, so the bench can offer the same augmentation to USDL, MUSDL, CoRe, TSA,
the MLP and JudgeMind. Closed-form models (``codeprior``, ``posestats``) are fitted on the raw training split in
``attach_train_set`` and are not affected; exemplar models augment the query, not the exemplars.
"""

from __future__ import annotations

import math

import torch

from judgemind.errors import JudgemindError
from judgemind.models.base import keyed_uniform

SOURCES = ("global", "foreground")
_STREAM = 7001  # keyed-random streams 7001.. (models use small stream numbers)


def check_augment(optim) -> None:
    for key in ("aug_noise", "aug_shot", "aug_gain", "aug_bias"):
        v = float(getattr(optim, key))
        if not math.isfinite(v) or v < 0:
            raise JudgemindError(f"optim.{key} must be a finite number >= 0, got {v}")
    if optim.aug_shot > 1:
        raise JudgemindError(f"optim.aug_shot is a probability per video (0-1), got {optim.aug_shot}")


def augment_active(optim) -> bool:
    return optim.aug_noise > 0 or (optim.aug_shot > 0 and (optim.aug_gain > 0 or optim.aug_bias > 0))


def _video_std(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-video, per-dimension std over the valid steps: (B, T, D) -> (B, 1, D)."""
    w = mask.to(x.dtype).unsqueeze(-1)
    n = w.sum(1, keepdim=True).clamp_min(1.0)
    mean = (x * w).sum(1, keepdim=True) / n
    return (((x - mean) ** 2 * w).sum(1, keepdim=True) / n).sqrt()


def _normal(seed: torch.Tensor, n: int, stream: int) -> torch.Tensor:
    """(B,) seeds -> (B, n) standard normal numbers (Box-Muller on keyed uniforms)."""
    u = keyed_uniform(seed, 2 * n, stream)
    u1, u2 = u[:, :n].clamp_min(1e-12), u[:, n:]
    return torch.sqrt(-2 * torch.log(u1)) * torch.cos(2 * math.pi * u2)


def augment_batch(batch: dict, optim) -> dict:
    """The training batch with augmented ``global`` / ``foreground`` tokens (other keys untouched); needs
    ``batch["seed"]``."""
    if not augment_active(optim):
        return batch
    seed, mask = batch["seed"], batch["mask"].bool()
    out = dict(batch)
    for i, key in enumerate(SOURCES):
        if key not in batch:
            continue
        x = batch[key]
        B, T, D = x.shape
        if B == 0 or D == 0:
            continue
        std = _video_std(x, mask)
        y = x
        if optim.aug_noise > 0:
            y = y + optim.aug_noise * std * _normal(seed, T * D, _STREAM + 10 * i).reshape(B, T, D).to(x)
        if optim.aug_shot > 0 and (optim.aug_gain > 0 or optim.aug_bias > 0):
            shot = batch["shot"].clamp_min(0)
            S = int(shot.max()) + 1
            u = keyed_uniform(seed, 1 + 2 * S * D, _STREAM + 10 * i + 1).to(x)
            on = (u[:, :1] < optim.aug_shot).to(x.dtype)  # (B, 1)
            g = 1 + optim.aug_gain * (2 * u[:, 1 : 1 + S * D] - 1) * on
            b = optim.aug_bias * (2 * u[:, 1 + S * D :] - 1) * on
            idx = shot.unsqueeze(-1).expand(B, T, D)
            g = g.reshape(B, S, D).gather(1, idx)
            b = b.reshape(B, S, D).gather(1, idx) * std
            y = y * g + b
        out[key] = torch.where(mask.unsqueeze(-1), y, x)
    return out
