"""Baseline ``codeprior``: the training split's mean final score of the jump's action code (the training mean for
codes unseen in training). The floor every table shows: a model that does not beat it has not looked at the video.

It is fitted in closed form when the trainer hands it the training split (``attach_train_set``); it learns nothing
by gradient descent. It holds one trainable scalar only so that the generic training loop has something to step:
the scalar enters the score as ``s - s.detach()`` (value 0, gradient 1), so the predictions are exactly the
per-code means whatever the optimizer does to it. Same as ``judgemind data stats`` (``code_prior``) on the same
splits.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from judgemind.errors import JudgemindError
from judgemind.models.base import DataInfo, ModelOutput, build_config, register_model, score_loss


@dataclass
class CodePriorConfig:
    """No settings."""


class CodePrior(nn.Module):
    needs_train_set = True
    closed_form = True  # fitted in attach_train_set; the bench does not tune its optimizer settings

    def __init__(self, info: DataInfo):
        super().__init__()
        self.info = info
        n = max(int(info.n_actions), 0)
        self.register_buffer("means", torch.full((n,), float(info.score_mean), dtype=torch.float64))
        self.register_buffer("counts", torch.zeros(n, dtype=torch.long))
        self.register_buffer("fallback", torch.tensor(float(info.score_mean), dtype=torch.float64))
        self.register_buffer("fitted", torch.tensor(False))
        self.anchor = nn.Parameter(torch.zeros(()))  # carries a gradient only (see the module docstring)

    @torch.no_grad()
    def attach_train_set(self, tensors: dict) -> None:
        """Per-code means of ``tensors["score"]`` (N,) grouped by ``tensors["action"]`` (N,) (-1 = no code)."""
        score = tensors["score"].detach().to(torch.float64).cpu()
        action = tensors["action"].detach().to(torch.long).cpu()
        ok = torch.isfinite(score)
        if not bool(ok.any()):
            raise JudgemindError("codeprior: the training split has no finite final score")
        n = self.means.numel()
        keep = ok & (action >= 0) & (action < n)
        sums = torch.zeros(n, dtype=torch.float64).index_add_(0, action[keep], score[keep])
        counts = torch.zeros(n, dtype=torch.long).index_add_(0, action[keep], torch.ones_like(action[keep]))
        fallback = score[ok].mean()
        means = torch.where(counts > 0, sums / counts.clamp_min(1), fallback)
        self.means.copy_(means.to(self.means.device))
        self.counts.copy_(counts.to(self.counts.device))
        self.fallback.copy_(fallback)
        self.fitted.fill_(True)

    def predict(self, action: torch.Tensor) -> torch.Tensor:
        """(B,) long action indices -> (B,) float64 per-code training means (the training mean if unseen)."""
        if not bool(self.fitted):
            raise JudgemindError(
                "codeprior: call attach_train_set(training tensors) before predicting (the "
                "trainer does it for models with needs_train_set)"
            )
        n = self.means.numel()
        known = (action >= 0) & (action < n)
        if n == 0:
            return self.fallback.expand(action.shape[0]).clone()
        got = self.means[action.clamp(0, max(n - 1, 0))]
        return torch.where(known, got, self.fallback)

    def forward(self, batch: dict) -> ModelOutput:
        pred = self.predict(batch["action"]).to(batch["score"].dtype)
        return ModelOutput(score=pred + (self.anchor - self.anchor.detach()))

    def loss(self, out: ModelOutput, batch: dict):
        loss = score_loss(out.score, batch, self.info).mean()
        return loss, {"score": float(loss.detach())}

    def fit_summary(self) -> dict:
        """What the closed-form fit chose (recorded by the bench)."""
        return {
            "codes_seen": int((self.counts > 0).sum()),
            "codes": int(self.counts.numel()),
            "training_mean": float(self.fallback),
        }


@register_model(
    "codeprior",
    "floor: the training mean final score of the action code (training mean if unseen)",
    config=CodePriorConfig,
)
def build_codeprior(overrides: dict, info: DataInfo):
    cfg = build_config(CodePriorConfig, overrides, "codeprior")
    return CodePrior(info), cfg
