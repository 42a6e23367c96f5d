"""Fixtures for the model tests: a tiny in-memory training split (toy features, T=16, D=8) and a session cache for
the knowledge-bank sentence embeddings (so MiniLM runs at most once per test session)."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def knowledge_cache(tmp_path_factory):
    """Point the judgemind cache at a per-session folder shared by all test folders (and subprocesses)."""
    import os

    path = tmp_path_factory.getbasetemp() / "judgemind-cache"
    path.mkdir(exist_ok=True)
    old = os.environ.get("JUDGEMIND_CACHE_DIR")
    os.environ["JUDGEMIND_CACHE_DIR"] = str(path)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    yield path
    if old is None:
        os.environ.pop("JUDGEMIND_CACHE_DIR", None)
    else:
        os.environ["JUDGEMIND_CACHE_DIR"] = old


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
