"""Baseline ``mlp``: time-averaged global and foreground tokens + action-code features + DD -> MLP -> score.

The score is predicted in units of the training score distribution (``score_mean + score_std x output``), so the
same settings work for aerials (scores ~0-150) and diving. No stages, components or deductions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from judgemind.models.base import (
    DataInfo,
    ModelOutput,
    build_config,
    keyed_dropout,
    masked_mean,
    register_model,
    score_loss,
)


@dataclass
class MLPConfig:
    hidden: int = 256
    layers: int = 2  # hidden layers
    dropout: float = 0.1  # keyed dropout on the hidden layers (training only)


class MLPModel(nn.Module):
    def __init__(self, cfg: MLPConfig, info: DataInfo):
        super().__init__()
        self.cfg, self.info = cfg, info
        d_in = info.dim_global + info.dim_foreground + info.code_dim + 1
        self.norm = nn.LayerNorm(d_in)
        dims = [d_in] + [cfg.hidden] * cfg.layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(dims[-1], 1)

    def forward(self, batch: dict) -> ModelOutput:
        mask = batch["mask"]
        seed = batch.get("seed") if self.training else None
        dd = (batch["dd"] / max(self.info.dd_mean, 1e-6)).unsqueeze(-1)
        x = torch.cat(
            [masked_mean(batch["global"], mask), masked_mean(batch["foreground"], mask), batch["code"], dd], dim=-1
        )
        h = self.norm(x)
        for i, layer in enumerate(self.hidden):
            h = keyed_dropout(torch.relu(layer(h)), seed, self.cfg.dropout, stream=100 + i)
        z = self.out(h)[:, 0]
        return ModelOutput(score=self.info.score_mean + self.info.score_std * z)

    def loss(self, out: ModelOutput, batch: dict):
        loss = score_loss(out.score, batch, self.info).mean()
        return loss, {"score": float(loss.detach())}


@register_model("mlp", "baseline: mean-pooled tokens + action code + DD -> MLP -> score", config=MLPConfig)
def build_mlp(overrides: dict, info: DataInfo):
    cfg = build_config(MLPConfig, overrides)
    return MLPModel(cfg, info), cfg
