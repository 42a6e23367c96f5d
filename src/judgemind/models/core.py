"""CoRe baseline: group-aware contrastive regression with exemplars (Yu et al., ICCV 2021), on cached features.

A video is the mean over time of its [global, foreground] tokens. For a pair (query, exemplar) the regressor sees
``[query, exemplar, exemplar target / scale]`` and predicts the difference ``query - exemplar`` with a
**group-aware regression tree**: depth 5 -> 16 leaves, each leaf an interval of the difference; the intervals are
the quantiles of the training pairs' |difference| (8 per sign, symmetric around 0). Every internal node is a
binary classifier (the leaf probability is the product along the path) and every leaf has a regressor of the
relative position inside its interval. Loss: NLL of the true leaf + MSE of the in-leaf offset, for the pair in
both directions.

Exemplars (see ``_exemplars.ExemplarBank``): training -- a random other training video of the same action code
(``exemplar="dd"``: same DD, as CoRe on MTL-AQA; ``"random"``: any); test -- up to 10 voters of the same group,
prediction = mean over voters of (exemplar target + predicted difference). ``target="completeness"`` regresses
score / DD and multiplies the result by the query's DD (CoRe's MTL-AQA setting); ``"score"`` (default) regresses the
raw score (FineDiving protocol).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from judgemind.errors import JudgemindError
from judgemind.models._exemplars import (
    ExemplarBank,
    check_choice,
    check_grouping,
    exemplar_uniforms,
    scatter_mean,
    token_dim,
    video_tokens,
)
from judgemind.models.base import DataInfo, ModelOutput, build_config, masked_mean, register_model


@dataclass
class CoReConfig:
    hidden: int = 256
    depth: int = 5  # 2 ** (depth - 1) leaves (5 -> 16)
    voters: int = 10  # test-time exemplars per query
    exemplar: str = "action"  # "action" (same action code / dive number) | "dd" | "random"
    target: str = "score"  # "score" | "completeness" (score / DD, x DD at the end)
    voter_seed: int = 0  # fixes which training videos vote (deterministic predictions)
    offset_weight: float = 1.0  # weight of the in-leaf MSE against the leaf NLL
    use_global: bool = True
    use_foreground: bool = True


_STREAM = 7101  # keyed_uniform stream of the training-exemplar choice

# ---------------------------------------------------------------------------------------------------------------
# intervals


def symmetric_intervals(diffs: torch.Tensor, n_leaves: int) -> torch.Tensor:
    """Leaf edges (n_leaves + 1,) ascending and symmetric around 0 from training pair differences ``diffs``.

    The positive half is ``[0, q_1, ..., q_{n/2}]`` with ``q_k`` the ``k / (n/2)`` quantile of ``|diffs|`` (the last
    one is the largest |difference|), the negative half its mirror image; so leaf ``n/2`` is ``[0, q_1]`` and every
    leaf of one sign holds the same share of the training differences.
    """
    if n_leaves < 2 or n_leaves % 2:
        raise JudgemindError(f"the regression tree needs an even number of leaves >= 2, got {n_leaves}")
    a = diffs.abs().double().flatten()
    if a.numel() == 0:
        raise JudgemindError("cannot build CoRe intervals: no training pairs")
    half = n_leaves // 2
    q = torch.quantile(a, torch.linspace(0, 1, half + 1, dtype=torch.float64))
    q[0] = 0.0
    q = torch.cummax(q, 0).values
    if float(q[-1]) <= 0:
        q[-1] = 1.0  # all training scores equal: any positive width will do
    return torch.cat([-q.flip(0), q[1:]]).float()


def assign_leaf(diff: torch.Tensor, edges: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Leaf index and relative position inside the leaf in [0, 1] of each difference (any shape).

    Differences beyond the outermost edges go to the outermost leaves (offset clamped to 0 or 1); 0 belongs to the
    first positive leaf; a zero-width leaf gets offset 0.
    """
    n = edges.numel() - 1
    leaf = (torch.searchsorted(edges.contiguous(), diff.contiguous(), right=True) - 1).clamp(0, n - 1)
    lo, hi = edges[leaf], edges[leaf + 1]
    width = hi - lo
    offset = torch.where(width > 0, (diff - lo) / width.clamp_min(1e-12), torch.zeros_like(diff))
    return leaf, offset.clamp(0, 1)


def leaf_value(leaf: torch.Tensor, offset: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
    """Difference encoded by (leaf, offset): ``lo + offset * (hi - lo)``."""
    lo, hi = edges[leaf], edges[leaf + 1]
    return lo + offset * (hi - lo)


# ---------------------------------------------------------------------------------------------------------------
# the tree


class RegressionTree(nn.Module):
    """Binary tree of classifiers with per-leaf offset regressors.

    ``forward(x (P, in_dim)) -> (leaf_logp (P, L), offset (P, L))``; leaf ``k`` is the k-th interval from the left.
    Each node transforms its parent's hidden vector with its own linear layer (grouped, one weight per node).
    """

    def __init__(self, in_dim: int, hidden: int, depth: int):
        super().__init__()
        if depth < 2:
            raise JudgemindError(f"core.depth must be >= 2 (2 ** (depth - 1) leaves), got {depth}")
        self.depth = depth
        self.n_leaves = 2 ** (depth - 1)
        self.stem = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU())
        bound = 1.0 / math.sqrt(hidden)
        self.node_w = nn.ParameterList()
        self.node_b = nn.ParameterList()
        self.clf_w = nn.ParameterList()
        self.clf_b = nn.ParameterList()
        for level in range(depth - 1):
            n = 2**level
            self.clf_w.append(nn.Parameter(torch.empty(n, hidden).uniform_(-bound, bound)))
            self.clf_b.append(nn.Parameter(torch.zeros(n)))
            self.node_w.append(nn.Parameter(torch.empty(2 * n, hidden, hidden).uniform_(-bound, bound)))
            self.node_b.append(nn.Parameter(torch.zeros(2 * n, hidden)))
        self.reg_w = nn.Parameter(torch.empty(self.n_leaves, hidden).uniform_(-bound, bound))
        self.reg_b = nn.Parameter(torch.zeros(self.n_leaves))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.stem(x).unsqueeze(1)  # (P, 1, H)
        logp = x.new_zeros(x.shape[0], 1)
        for level in range(self.depth - 1):
            z = torch.einsum("pnh,nh->pn", h, self.clf_w[level]) + self.clf_b[level]  # P(right) logits
            logp = torch.stack([logp + F.logsigmoid(-z), logp + F.logsigmoid(z)], -1).flatten(1)
            h = h.repeat_interleave(2, 1)
            h = F.relu(torch.einsum("pnh,nhk->pnk", h, self.node_w[level]) + self.node_b[level])
        offset = torch.sigmoid(torch.einsum("pnh,nh->pn", h, self.reg_w) + self.reg_b)
        return logp, offset


# ---------------------------------------------------------------------------------------------------------------
# the model


class CoRe(nn.Module):
    needs_train_set = True

    def __init__(self, cfg: CoReConfig, info: DataInfo):
        super().__init__()
        check_grouping(cfg.exemplar, "core")
        check_choice(cfg.target, ("score", "completeness"), "core.target")
        self.cfg = cfg
        self.dim = token_dim(info, cfg.use_global, cfg.use_foreground)
        self.tree = RegressionTree(2 * self.dim + 1, cfg.hidden, cfg.depth)
        n = self.tree.n_leaves
        # Filled by attach_train_set; buffers so that a checkpoint carries them.
        self.register_buffer("edges", torch.linspace(-1, 1, n + 1))
        self.register_buffer("target_scale", torch.ones(()))
        self.bank: ExemplarBank | None = None
        self._gen = torch.Generator().manual_seed(0)  # only for training calls without batch["seed"]
        self._pooled: torch.Tensor | None = None

    # -- training set ----------------------------------------------------------------------------------------------
    def _target(self, score: torch.Tensor, dd: torch.Tensor) -> torch.Tensor:
        return score / dd.clamp_min(1e-6) if self.cfg.target == "completeness" else score

    def attach_train_set(self, tensors: dict) -> None:
        """Keep the training split (stacked batch tensors, first dim N) as the exemplar pool and fit the
        tree's intervals to its pairwise differences."""
        if (
            self.bank is not None
            and self.bank.n == tensors["score"].shape[0]
            and torch.equal(self.bank.tensors["score"], tensors["score"])
        ):
            return  # same training set attached again (e.g. before each evaluation)
        self.bank = ExemplarBank(tensors, self.cfg.exemplar, self.cfg.voters, self.cfg.voter_seed)
        t = self._target(tensors["score"].float().cpu(), tensors.get("dd", torch.ones(self.bank.n)).float().cpu())
        self._train_target = t
        self.edges.copy_(symmetric_intervals(self.bank.pair_differences(t), self.tree.n_leaves))
        self.target_scale.fill_(float(t.abs().max().clamp_min(1e-6)))
        self._pooled = None

    def _bank_pooled(self, index: torch.Tensor, device) -> torch.Tensor:
        if self._pooled is None or self._pooled.device != torch.device(device):
            T = self.bank.tensors
            with torch.no_grad():
                self._pooled = masked_mean(
                    video_tokens(
                        {k: T[k].to(device) for k in ("global", "foreground") if k in T},
                        self.cfg.use_global,
                        self.cfg.use_foreground,
                    ),
                    T["mask"].to(device) if "mask" in T else None,
                )
        return self._pooled[index.to(device)]

    # -- forward ---------------------------------------------------------------------------------------------------
    def forward(self, batch: dict) -> ModelOutput:
        if self.bank is None:
            raise JudgemindError(
                "core needs its training set: call model.attach_train_set(train_tensors) first "
                "(the trainer does this for models with needs_train_set)"
            )
        q = masked_mean(video_tokens(batch, self.cfg.use_global, self.cfg.use_foreground), batch.get("mask"))
        device = q.device
        B = q.shape[0]
        if self.training:
            ex = self.bank.train_pairs(batch, exemplar_uniforms(batch, _STREAM, self._gen))
            pq = torch.arange(B)
        else:
            pq, ex = self.bank.voter_pairs(batch)
        pq_d = pq.to(device)
        e = self._bank_pooled(ex, device).to(q.dtype)
        te = self._train_target.to(device)[ex.to(device)].to(q.dtype)  # (P,)
        scale = self.target_scale
        logp, offset = self.tree(torch.cat([q[pq_d], e, (te / scale).unsqueeze(1)], 1))
        leaf = logp.argmax(1)
        delta = leaf_value(leaf, offset.gather(1, leaf[:, None]).squeeze(1), self.edges)
        pred_target = scatter_mean(te + delta, pq_d, B)
        dd = batch["dd"].to(q.dtype) if "dd" in batch else torch.ones_like(pred_target)
        score = pred_target * dd if self.cfg.target == "completeness" else pred_target
        extra = {"logp": logp, "offset": offset, "pair_query": pq_d, "pair_target": te, "voters": ex}
        if self.training:  # the reverse direction (exemplar as query) for the symmetric loss
            tq = self._target(batch["score"].to(q.dtype), dd)
            logp_r, offset_r = self.tree(torch.cat([e, q[pq_d], (tq[pq_d] / scale).unsqueeze(1)], 1))
            extra.update(logp_rev=logp_r, offset_rev=offset_r)
        return ModelOutput(score=score, extra=extra)

    def _tree_loss(self, logp, offset, diff):
        """Per-pair NLL of the true leaf and squared error of its in-leaf offset: (P,), (P,)."""
        leaf, off = assign_leaf(diff, self.edges)
        nll = -logp.gather(1, leaf[:, None]).squeeze(1)
        se = (offset.gather(1, leaf[:, None]).squeeze(1) - off) ** 2
        return nll, se

    def loss(self, out: ModelOutput, batch: dict):
        x = out.extra
        B = batch["score"].shape[0]
        dd = batch["dd"].to(x["pair_target"].dtype) if "dd" in batch else torch.ones_like(batch["score"])
        tq = self._target(batch["score"].to(x["pair_target"].dtype), dd)[x["pair_query"]]
        diff = tq - x["pair_target"]
        nll, se = self._tree_loss(x["logp"], x["offset"], diff)
        if "logp_rev" in x:
            nll_r, se_r = self._tree_loss(x["logp_rev"], x["offset_rev"], -diff)
            nll, se = nll + nll_r, se + se_r
        # pairs -> per query (mean over its voters) -> batch mean
        nll = scatter_mean(nll, x["pair_query"], B).mean()
        mse = scatter_mean(se, x["pair_query"], B).mean()
        total = nll + self.cfg.offset_weight * mse
        return total, {"nll": float(nll.detach()), "offset_mse": float(mse.detach())}


@register_model(
    "core", "CoRe: contrastive regression to same-action exemplars, group-aware regression tree", config=CoReConfig
)
def _build(overrides: dict, info: DataInfo):
    cfg = build_config(CoReConfig, overrides, "core")
    return CoRe(cfg, info), cfg
