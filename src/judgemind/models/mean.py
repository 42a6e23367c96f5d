"""Baseline ``mean``: predicts one number for every video, learned by least squares, i.e. the training-set mean
score (initialised there, so it is right from the first step). The floor every model must beat (rho is
undefined for a constant prediction: reported as null)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from judgemind.models.base import DataInfo, ModelOutput, build_config, register_model, score_loss


@dataclass
class MeanConfig:
    """No settings."""


class MeanModel(nn.Module):
    def __init__(self, info: DataInfo):
        super().__init__()
        self.info = info
        self.bias = nn.Parameter(torch.tensor(float(info.score_mean)))

    def forward(self, batch: dict) -> ModelOutput:
        return ModelOutput(score=self.bias.expand(batch["score"].shape[0]))

    def loss(self, out: ModelOutput, batch: dict):
        loss = score_loss(out.score, batch, self.info).mean()
        return loss, {"score": float(loss.detach())}


@register_model("mean", "baseline: the training-set mean score for every video", config=MeanConfig)
def build_mean(overrides: dict, info: DataInfo):
    cfg = build_config(MeanConfig, overrides)
    return MeanModel(info), cfg
