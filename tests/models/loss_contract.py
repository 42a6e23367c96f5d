"""The per-sample loss contract every model keeps (models/base.py): the trainer's DDP equivalence needs
loss(batch) = the share-weighted sum of the losses of the batch's parts."""

from __future__ import annotations

import torch


def assert_loss_is_mean_of_parts(model, batch: dict, label: str = "") -> None:
    """``model`` in eval mode: the loss of ``batch`` (6 samples) equals its parts' (2 + 4) share-weighted sum."""
    n = len(batch["score"])
    with torch.no_grad():
        whole, _ = model.loss(model(batch), batch)
        parts = []
        for idx in (torch.arange(0, 2), torch.arange(2, n)):
            part = {k: v[idx] for k, v in batch.items()}
            parts.append(model.loss(model(part), part)[0] * len(idx) / n)
    assert torch.allclose(whole, sum(parts), rtol=1e-5, atol=1e-6), label
