"""Stage windows shared by the models: the exact ordered decoding of per-step stage logits
(take-off < flight < landing) and the (B, 3, T) windows of a pair of bounds."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from judgemind.errors import JudgemindError


def decode_stages(logits: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """Best ordered segmentation take-off < flight < landing by exact dynamic programming.

    ``logits``: (B, T, 3) per-step stage logits; ``lengths``: (B,) valid steps L (default T, need L >= 3).
    Returns ``bounds`` (B, 2) long: (b1, b2) with 1 <= b1 < b2 <= L-1 maximising
    ``sum_{t<b1} lp[t,0] + sum_{b1<=t<b2} lp[t,1] + sum_{b2<=t<L} lp[t,2]`` (lp = log-softmax), i.e. take-off is
    [0, b1), flight [b1, b2), landing [b2, L). Every boundary pair is reachable. O(T) per video: with prefix sums
    C_k, the objective is (C0 - C1)[b1] + (C1 - C2)[b2] + C2[L]; a running maximum of the first term over b1 < b2
    makes the search over b2 a single pass.
    """
    B, T, _ = logits.shape
    if lengths is None:
        lengths = torch.full((B,), T, dtype=torch.long, device=logits.device)
    if int(lengths.min()) < 3:
        raise JudgemindError(f"decode_stages: a video needs at least 3 time steps, got {int(lengths.min())}")
    lp = F.log_softmax(logits.detach().double(), dim=-1)
    steps = torch.arange(T, device=lp.device)
    lp = lp * (steps[None, :] < lengths[:, None]).unsqueeze(-1)
    C = F.pad(lp.cumsum(1), (0, 0, 1, 0))  # (B, T+1, 3): C[:, t] = sum over steps < t
    pos = torch.arange(T + 1, device=lp.device)[None, :]
    L = lengths[:, None]
    neg = torch.tensor(float("-inf"), dtype=lp.dtype, device=lp.device)
    first = torch.where((pos >= 1) & (pos <= L - 2), C[..., 0] - C[..., 1], neg)
    best_first, arg_first = torch.cummax(first, dim=1)  # best b1 <= position
    second = C[..., 1] - C[..., 2]
    total = torch.full_like(second, float("-inf"))
    total[:, 1:] = second[:, 1:] + best_first[:, :-1]  # b2 = position, b1 <= b2 - 1
    total = torch.where((pos >= 2) & (pos <= L - 1), total, neg)
    b2 = total.argmax(1)
    b1 = arg_first.gather(1, (b2 - 1)[:, None])[:, 0]
    return torch.stack([b1, b2], dim=1)


def bounds_to_windows(bounds: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, 2) bounds + (B, T) valid mask -> (B, 3, T) bool stage windows."""
    t = torch.arange(mask.shape[1], device=mask.device)[None, :]
    b1, b2 = bounds[:, :1], bounds[:, 1:]
    return torch.stack([t < b1, (t >= b1) & (t < b2), t >= b2], dim=1) & mask[:, None, :]
