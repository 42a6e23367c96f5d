"""USDL baseline: uncertainty-aware score distribution learning (Tang et al., CVPR 2020), on cached features.

The video is the mean over its (unpadded) time steps of the [global, foreground] tokens; an MLP
``D -> 256 -> 128 -> K`` gives a distribution over K = 101 bins of the normalised score
``bin = score / score_max * (K - 1)``. Training target: a Gaussian (std 5 bins) centred on the true score;
loss: KL divergence. The width is the original's (``nzl-thu/MUSDL``: 101 bins over the score normalised to
0-100, ``std=5``): 5 % of the normalising maximum, here the training split's highest score
(``DataInfo.score_max``). Prediction: the argmax bin (the paper's choice) or the expectation, de-normalised.
The original fine-tunes I3D end to end; here the backbone is the frozen feature cache, as for every model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from judgemind.models._exemplars import (
    check_choice,
    distribution_value,
    gaussian_targets,
    kl_to_target,
    mlp,
    token_dim,
    video_tokens,
)
from judgemind.models.base import DataInfo, ModelOutput, build_config, masked_mean, register_model


@dataclass
class USDLConfig:
    bins: int = 101  # K bins over [0, score_max]
    std: float = 5.0  # Gaussian target std, in bins
    hidden1: int = 256
    hidden2: int = 128
    predict: str = "argmax"  # "argmax" (paper) | "expectation"
    score_max: float = 0.0  # normalising maximum; 0 -> DataInfo.score_max
    use_global: bool = True
    use_foreground: bool = True


class USDL(nn.Module):
    def __init__(self, cfg: USDLConfig, info: DataInfo):
        super().__init__()
        check_choice(cfg.predict, ("argmax", "expectation"), "usdl.predict")
        self.cfg = cfg
        self.score_max = float(cfg.score_max or info.score_max)
        d = token_dim(info, cfg.use_global, cfg.use_foreground)
        self.head = mlp([d, cfg.hidden1, cfg.hidden2, cfg.bins])

    def _to_bins(self, score: torch.Tensor) -> torch.Tensor:
        return (score / self.score_max * (self.cfg.bins - 1)).clamp(0, self.cfg.bins - 1)

    def forward(self, batch: dict) -> ModelOutput:
        x = masked_mean(video_tokens(batch, self.cfg.use_global, self.cfg.use_foreground), batch.get("mask"))
        logits = self.head(x)  # (B, K)
        pos = distribution_value(logits, self.cfg.predict)  # (B,) in bins
        score = pos * self.score_max / (self.cfg.bins - 1)
        return ModelOutput(score=score, extra={"logits": logits})

    def loss(self, out: ModelOutput, batch: dict):
        target = gaussian_targets(self._to_bins(batch["score"]), self.cfg.bins, self.cfg.std)
        kl = kl_to_target(out.extra["logits"], target).mean()
        return kl, {"kl": float(kl.detach())}


@register_model(
    "usdl", "USDL: score distribution (101 bins, Gaussian soft label, KL) from mean-pooled features", config=USDLConfig
)
def _build(overrides: dict, info: DataInfo):
    cfg = build_config(USDLConfig, overrides, "usdl")
    return USDL(cfg, info), cfg
