"""Fixtures for the model tests: a tiny in-memory training split (toy features, T=16, D=8); the knowledge-bank
cache folder is the session fixture ``knowledge_cache`` of tests/conftest.py."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session")
def tiny_split():
    """(FeatureDataset of 12 toy videos, DataInfo): T=16 steps, 8-d global and foreground tokens, 23 items."""
    from judgemind.train.toy import make_toy_tensors

    torch.manual_seed(0)
    return make_toy_tensors(12, 16, 8, 8, seed=1, frames=64)


@pytest.fixture()
def tiny_batch(tiny_split):
    from judgemind.train.loop import sample_seeds

    ds, _ = tiny_split
    batch = ds.batch(torch.arange(6))
    batch["seed"] = sample_seeds(0, 0, batch["index"])
    return batch
