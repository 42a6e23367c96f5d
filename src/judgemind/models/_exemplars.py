"""Shared pieces of the baselines: masked pooling, score-distribution targets, and the exemplar bank that the
contrastive-regression baselines (CoRe, TSA) draw their exemplars and test-time voters from.

Exemplar rules (FineDiving/TSA "w/ DN", CoRe "usingDD"):

* training: the exemplar of a query is a random *other* training sample of the same group (same action code
  by default; same DD with ``by="dd"``; any with ``by="random"``). A query whose group has no other member falls
  back to the same DD, then to any other training sample.
* test: up to ``voters`` training samples of the query's group, the same list for every query of the group (the
  group's members taken in the order of one permutation of the training set drawn with ``voter_seed``), so a
  prediction never depends on the batch it is in or on global random state. Unseen actions (``action == -1``)
  fall back to the same DD, then to the first ``voters`` of the permutation.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from judgemind.errors import JudgemindError
from judgemind.models.base import keyed_uniform

GROUPINGS = ("action", "dd", "random")


def video_tokens(batch: dict, use_global: bool = True, use_foreground: bool = True) -> torch.Tensor:
    """Per-step tokens (B, T, Dg + Df) of the sources that are switched on (at least one must be)."""
    parts = [batch[k] for k, on in (("global", use_global), ("foreground", use_foreground)) if on]
    if not parts:
        raise JudgemindError("a baseline needs at least one feature source: set use_global or use_foreground true")
    return torch.cat(parts, -1) if len(parts) > 1 else parts[0]


def token_dim(info, use_global: bool = True, use_foreground: bool = True) -> int:
    return (info.dim_global if use_global else 0) + (info.dim_foreground if use_foreground else 0)


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear-ReLU stack ``sizes[0] -> ... -> sizes[-1]`` (no activation after the last layer)."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def exemplar_uniforms(batch: dict, stream: int, fallback: torch.Generator) -> torch.Tensor:
    """(B,) uniforms for training-time exemplar choice: keyed on ``batch["seed"]`` (the trainer's per-sample
    seeds) when present, else drawn from ``fallback`` (direct calls outside the trainer)."""

    if batch.get("seed") is not None:
        return keyed_uniform(batch["seed"].cpu(), 1, stream)[:, 0]
    return torch.rand(batch["score"].shape[0], generator=fallback)


def gaussian_targets(values: torch.Tensor, bins: int, std: float) -> torch.Tensor:
    """Normalised Gaussian over ``bins`` integer bins centred at ``values`` (any shape, in bin units) ->
    ``values.shape + (bins,)``; the USDL soft label."""
    grid = torch.arange(bins, device=values.device, dtype=torch.float32)
    logits = -0.5 * ((grid - values.float().unsqueeze(-1)) / std) ** 2
    return torch.softmax(logits, -1)


def distribution_value(logits: torch.Tensor, predict: str) -> torch.Tensor:
    """Bin position (..., ) read from ``logits`` (..., K): ``argmax`` (the papers' choice) or ``expectation``.

    The argmax value carries the expectation's gradient (straight-through) so that ``score`` stays
    differentiable as the ModelOutput contract asks, while its value is the argmax bin.
    """
    probs = torch.softmax(logits, -1)
    grid = torch.arange(logits.shape[-1], device=logits.device, dtype=probs.dtype)
    expectation = (probs * grid).sum(-1)
    if predict == "expectation":
        return expectation
    if predict != "argmax":
        raise JudgemindError(f"predict must be 'argmax' or 'expectation', got {predict!r}")
    return logits.argmax(-1).to(probs.dtype) + expectation - expectation.detach()


def kl_to_target(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """KL(target || softmax(logits)) per row (..., K) -> (...)."""
    logp = F.log_softmax(logits, -1)
    return (target * (target.clamp_min(1e-12).log() - logp)).sum(-1)


def check_choice(value: str, choices: tuple[str, ...], where: str) -> None:
    """Raise a JudgemindError naming the config key ``where`` when ``value`` is not one of ``choices``."""
    if value not in choices:
        raise JudgemindError(f"{where} must be one of {', '.join(choices)}, got {value!r}")


def check_grouping(by: str, where: str) -> None:
    if by not in GROUPINGS:
        raise JudgemindError(f"{where}.exemplar must be one of {', '.join(GROUPINGS)}, got {by!r}")


class ExemplarBank:
    """The whole training split (tensors stacked as in a batch, first dim N) and its exemplar groups."""

    def __init__(self, tensors: dict, by: str = "action", voters: int = 10, voter_seed: int = 0):
        check_grouping(by, "model")
        if "score" not in tensors or tensors["score"].ndim != 1 or tensors["score"].numel() < 2:
            raise JudgemindError("attach_train_set: the training split must hold at least 2 videos with a 'score'")
        self.tensors = {k: v for k, v in tensors.items() if isinstance(v, torch.Tensor)}
        self.n = int(tensors["score"].shape[0])
        self.by = by
        self.voters = int(voters)
        self._cache: dict = {}
        n = self.n
        action = tensors.get("action", torch.full((n,), -1, dtype=torch.long)).long().cpu()
        dd = tensors.get("dd", torch.ones(n)).float().cpu()
        self._action = action
        self._dd_key = torch.round(dd * 1000).long()
        # One permutation of the training set fixes the order in which voters are taken from every group.
        g = torch.Generator().manual_seed(int(voter_seed))
        perm = torch.randperm(n, generator=g)
        self._rank = torch.empty(n, dtype=torch.long)
        self._rank[perm] = torch.arange(n)
        self._perm = perm
        self._by_action = self._groups(action)
        self._by_dd = self._groups(self._dd_key)

    def _groups(self, keys: torch.Tensor) -> dict[int, torch.Tensor]:
        out: dict[int, list[int]] = {}
        for i in self._perm.tolist():  # members in permutation order
            out.setdefault(int(keys[i]), []).append(i)
        return {k: torch.tensor(v, dtype=torch.long) for k, v in out.items()}

    # -- group lookup ------------------------------------------------------------------------------------------
    def group_of(self, action: int, dd: float) -> torch.Tensor:
        """Training indices (voter order) that are valid exemplars for a video with this action code and DD."""
        if self.by == "action" and action >= 0 and action in self._by_action:
            return self._by_action[action]
        if self.by in ("action", "dd"):
            key = int(round(float(dd) * 1000))
            if key in self._by_dd:
                return self._by_dd[key]
        return self._perm

    def train_pairs(self, batch: dict, u: torch.Tensor) -> torch.Tensor:
        """(B,) training index of a random *other* same-group exemplar for each training query of ``batch``
        (``batch["index"]`` = the query's position in the training split); ``u`` (B,) uniforms in [0, 1) pick
        the exemplar (the models draw them with ``keyed_uniform(batch["seed"])``, so the choice does not depend
        on the batch or process a sample lands in)."""
        B = batch["score"].shape[0]
        idx = batch.get("index")
        action = batch.get("action")
        dd = batch.get("dd")
        out = torch.empty(B, dtype=torch.long)
        for b in range(B):
            self_i = int(idx[b]) if idx is not None else -1
            a = int(action[b]) if action is not None else -1
            d = float(dd[b]) if dd is not None else 1.0
            cand = self.group_of(a, d)
            cand = cand[cand != self_i]
            if cand.numel() == 0 and self.by == "action":
                key = int(round(d * 1000))
                cand = self._by_dd.get(key, self._perm)
                cand = cand[cand != self_i]
            if cand.numel() == 0:
                cand = self._perm[self._perm != self_i]
            out[b] = cand[min(int(float(u[b]) * cand.numel()), cand.numel() - 1)]
        return out

    def voter_pairs(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Test-time pairs: ``(query_pos (P,), train_index (P,))`` with up to ``voters`` voters per query."""
        B = batch["score"].shape[0]
        action = batch.get("action")
        dd = batch.get("dd")
        qs, es = [], []
        for b in range(B):
            a = int(action[b]) if action is not None else -1
            d = float(dd[b]) if dd is not None else 1.0
            v = self.group_of(a, d)[: self.voters]
            qs.append(torch.full((v.numel(),), b, dtype=torch.long))
            es.append(v)
        return torch.cat(qs), torch.cat(es)

    # -- tensors -------------------------------------------------------------------------------------------------
    def get(self, key: str, index: torch.Tensor, device) -> torch.Tensor:
        """Rows ``index`` of training tensor ``key``, on ``device`` (the bank keeps one copy per device)."""
        ck = (key, str(device))
        if ck not in self._cache:
            if key not in self.tensors:
                raise JudgemindError(f"attach_train_set: the training tensors lack {key!r}")
            self._cache[ck] = self.tensors[key].to(device)
        return self._cache[ck][index.to(device)]

    def take(self, keys, index: torch.Tensor, device) -> dict:
        return {k: self.get(k, index, device) for k in keys if k in self.tensors}

    def pair_differences(self, values: torch.Tensor, max_pairs: int = 2_000_000) -> torch.Tensor:
        """Differences ``values[i] - values[j]`` over the pairs that exemplar sampling can produce (i != j in
        the same group), both signs; ``values`` (N,). Capped at ``max_pairs`` by a fixed-stride subsample."""
        groups = {"action": self._by_action, "dd": self._by_dd}.get(self.by, {0: self._perm})
        diffs = []
        for members in groups.values():
            if members.numel() < 2:
                continue
            v = values[members].double()
            d = v[:, None] - v[None, :]
            off = ~torch.eye(members.numel(), dtype=torch.bool)
            diffs.append(d[off])
        if not diffs:  # every group is a singleton: fall back to all pairs
            v = values.double()
            d = v[:, None] - v[None, :]
            diffs.append(d[~torch.eye(v.numel(), dtype=torch.bool)])
        out = torch.cat(diffs)
        if out.numel() > max_pairs:
            out = out[:: math.ceil(out.numel() / max_pairs)]
        return out


def scatter_mean(values: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """Mean of ``values`` (P,) per target ``index`` (P,) -> (size,)."""
    total = torch.zeros(size, dtype=values.dtype, device=values.device).index_add(0, index, values)
    count = torch.zeros(size, dtype=values.dtype, device=values.device).index_add(0, index, torch.ones_like(values))
    return total / count.clamp_min(1.0)
