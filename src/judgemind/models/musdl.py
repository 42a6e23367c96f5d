"""MUSDL baseline: multi-path score distribution learning, one head per judge (Tang et al., CVPR 2020).

Each judge has its own MLP ``D -> 256 -> 128 -> K`` over the mean-pooled [global, foreground] tokens and learns a
Gaussian-smoothed distribution (KL loss) of that judge's mark. The target width is the original's: std 5 bins of
0.5 on a 0-10 mark (``nzl-thu/MUSDL``: 21 bins, ``std=5``), i.e. 2.5 points, a quarter of the mark's range; a head
with another range or bin width keeps that quarter (aerials 0-10 in 0.1 steps: 25 bins = 2.5 points; Air 0-2:
0.5 points). ``std`` > 0 sets it in bins instead. At inference each head's mark is read
(argmax bin as in the paper, or the expectation) and the panel's rule composes the score:

* ``diving`` (FineDiving / MTL-AQA): 7 heads, marks 0-10 in 0.5 steps (21 bins); sort, keep the middle 3, sum,
  x DD. 5- and 3-judge samples train only the heads they have (the loss ignores NaN judges); composition always
  uses the middle 3 of all heads (synchro's 0.6 x sum of 5 is 3 x the mean, which this approximates).
* ``aerials5``: 5 heads, ``mode="total"``: each judge's total 0-10 in 0.1 steps (101 bins; ``step=0.5`` gives 21);
  ``mode="component"``: three heads per judge, Air 0-2.0, Form 0-5.0, Landing 0-3.0 in 0.1 steps (needs the batch
  key ``judge_marks`` (B, J, 3)); drop the highest and lowest total, sum the other 3 (J), x DD.
* ``aerials7`` (old split format): 5 Air+Form heads 0-7.0 and 2 Landing heads 0-3.0; middle 3 of the 5 plus the
  landing average x 3, x DD (judges in the batch ordered Air+Form judges first).

The composition mirrors ``judgemind.rules`` (``score_aerials``, ``score_aerials_legacy``, ``score_diving``) on
float tensors; truncation/rounding to 0.01 is left to the rules engine when an official value is written.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from judgemind.errors import JudgemindError
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
from judgemind.rules.names import COMPONENT_MAX, COMPONENTS, DIVING_MAX
from judgemind.rules.scoring import DIVING_STEP, LEGACY_AIR_FORM_RANGE, MARK_STEP


@dataclass
class MUSDLConfig:
    mode: str = "total"  # "total" (one head per judge) | "component" (aerials: Air/Form/Landing per judge)
    judges: int = 0  # 0 -> 7 for diving, 5 for aerials5, 7 for aerials7
    step: float = 0.0  # bin width of a mark; 0 -> 0.5 for diving, 0.1 for aerials
    std: float = 0.0  # Gaussian target std in bins; 0 -> the original's width: target_width x the
    #                                mark's range (0-10 in 0.5 steps: 5 bins = 2.5 points, the paper's std=5)
    target_width: float = 0.25  # the std as a share of each head's mark range (used when std = 0)
    hidden1: int = 256
    hidden2: int = 128
    predict: str = "argmax"  # "argmax" (paper) | "expectation"
    use_global: bool = True
    use_foreground: bool = True


def compose_panel(marks: torch.Tensor, dd: torch.Tensor, scoring: str) -> torch.Tensor:
    """Final score (B,) from per-judge marks (B, J) and DD (B,) by the panel rule of ``scoring``.

    ``diving``: middle 3 of J sorted marks (J = 7 drops 2 high and 2 low) x DD; ``aerials5``: drop the highest and
    the lowest, sum 3, x DD; ``aerials7``: middle 3 of the first 5 (Air+Form) + mean of the last 2 (Landing) x 3,
    x DD. No truncation (the rules engine truncates aerials and rounds diving to 0.01).
    """
    if scoring == "aerials7":
        if marks.shape[1] != 7:
            raise JudgemindError(f"aerials7 composition needs 7 judges (5 Air+Form, 2 Landing), got {marks.shape[1]}")
        af = marks[:, :5].sort(1).values[:, 1:4].sum(1)
        return (af + marks[:, 5:].mean(1) * 3) * dd
    J = marks.shape[1]
    if J < 3:
        raise JudgemindError(f"{scoring} composition needs at least 3 judges, got {J}")
    drop = (J - 3) // 2
    return marks.sort(1).values[:, drop : drop + 3].sum(1) * dd


class MUSDL(nn.Module):
    def __init__(self, cfg: MUSDLConfig, info: DataInfo):
        super().__init__()
        check_choice(cfg.mode, ("total", "component"), "musdl.mode")
        check_choice(cfg.predict, ("argmax", "expectation"), "musdl.predict")
        self.cfg = cfg
        self.scoring = info.scoring
        if cfg.mode == "component" and info.scoring != "aerials5":
            raise JudgemindError(
                f"musdl.mode=component needs aerials5 scoring (Air/Form/Landing per judge), the data "
                f"is {info.scoring!r}; use mode=total"
            )
        diving = info.scoring == "diving"
        self.n_judges = int(cfg.judges or (7 if info.scoring in ("diving", "aerials7") else 5))
        self.step = float(cfg.step or (DIVING_STEP if diving else MARK_STEP))
        # (judge, component-or-None, max mark) of every head, in output order.
        if cfg.mode == "component":
            ranges = [COMPONENT_MAX[c] for _ in range(self.n_judges) for c in COMPONENTS]
        elif info.scoring == "aerials7":
            ranges = [float(LEGACY_AIR_FORM_RANGE[1])] * (self.n_judges - 2) + [COMPONENT_MAX["landing"]] * 2
        else:
            ranges = [DIVING_MAX] * self.n_judges
        self.max_marks = ranges
        self.bins = [int(round(m / self.step)) + 1 for m in ranges]
        if cfg.std < 0 or cfg.target_width <= 0:
            raise JudgemindError(f"musdl: std must be >= 0 and target_width > 0, got {cfg.std}, {cfg.target_width}")
        # Gaussian target std of each head, in its bins.
        self.stds = [float(cfg.std) if cfg.std > 0 else cfg.target_width * m / self.step for m in ranges]
        d = token_dim(info, cfg.use_global, cfg.use_foreground)
        self.heads = nn.ModuleList(mlp([d, cfg.hidden1, cfg.hidden2, k]) for k in self.bins)

    def forward(self, batch: dict) -> ModelOutput:
        x = masked_mean(video_tokens(batch, self.cfg.use_global, self.cfg.use_foreground), batch.get("mask"))
        logits = [h(x) for h in self.heads]  # H x (B, K_h)
        marks = torch.stack([distribution_value(lg, self.cfg.predict) * self.step for lg in logits], 1)  # (B, H)
        components = None
        if self.cfg.mode == "component":
            per = marks.view(marks.shape[0], self.n_judges, 3)  # (B, J, 3)
            components = per.mean(1)
            judges = per.sum(-1)
        else:
            judges = marks
        score = compose_panel(judges, batch["dd"].to(judges.dtype), self.scoring)
        return ModelOutput(score=score, judges=judges, components=components, extra={"logits": logits})

    def _targets(self, batch: dict) -> torch.Tensor:
        """Per-head target marks (B, H), NaN where the judge or mark is missing."""
        if self.cfg.mode == "component":
            if "judge_marks" not in batch:
                raise JudgemindError(
                    "musdl.mode=component needs per-judge Air/Form/Landing marks (batch key "
                    "'judge_marks' (B, J, 3)); this batch has none: use mode=total"
                )
            t = batch["judge_marks"]
            t = t[:, : self.n_judges].reshape(t.shape[0], -1)
        else:
            t = batch["judges"][:, : self.n_judges]
        H = len(self.heads)
        if t.shape[1] < H:
            pad = torch.full((t.shape[0], H - t.shape[1]), float("nan"), dtype=t.dtype, device=t.device)
            t = torch.cat([t, pad], 1)
        return t

    def loss(self, out: ModelOutput, batch: dict):
        t = self._targets(batch)
        # Per sample: sum over the judges it has of the KL; a missing judge adds 0 (the batch mean keeps B).
        per_sample = torch.zeros_like(out.score)
        for h, lg in enumerate(out.extra["logits"]):
            ok = torch.isfinite(t[:, h])
            pos = torch.where(ok, t[:, h], torch.zeros_like(t[:, h])) / self.step
            kl = kl_to_target(lg, gaussian_targets(pos.clamp(0, self.bins[h] - 1), self.bins[h], self.stds[h]))
            per_sample = per_sample + torch.where(ok, kl, torch.zeros_like(kl))
        total = per_sample.mean()
        return total, {"kl": float(total.detach())}


@register_model(
    "musdl", "MUSDL: one score-distribution head per judge, panel rule (drop high/low) x DD", config=MUSDLConfig
)
def _build(overrides: dict, info: DataInfo):
    cfg = build_config(MUSDLConfig, overrides, "musdl")
    return MUSDL(cfg, info), cfg
