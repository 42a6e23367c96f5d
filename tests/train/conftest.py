"""Fixtures for the training tests: a tiny FineSkiing toy dataset on disk (24 records, T=16 steps, D=8 features,
no videos) with its feature cache and a CLI runner (the knowledge-bank cache is tests/conftest.py's
``knowledge_cache``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Small and fast: every tiny run uses these (d_model 16, one thread per process).
FAST = ["--set", "model.d_model=16", "--set", "model.queries=2", "--threads", "1"]


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, knowledge_cache) -> Path:
    """A toy dataset: 24 records (16 train / 4 val / 4 test), feature cache ``toy`` (T=16, 8-d), and the
    knowledge-bank cache filled once (so subprocesses never start the text encoder)."""
    from judgemind.models.judgemind import knowledge_embeddings
    from judgemind.rules import load_catalogue
    from judgemind.train.toy import make_toy_dataset

    root = make_toy_dataset(tmp_path_factory.mktemp("data") / "tiny", n=24, steps=16, dim=8)
    cat = load_catalogue()
    knowledge_embeddings([i.description for i in cat.items], str(cat.version))
    return root


def _env() -> dict:
    e = dict(os.environ)
    e.update({"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"})
    return e


def _cli(*args, check: bool = True, **kw) -> subprocess.CompletedProcess:
    """Run ``judgemind ARGS`` in a fresh interpreter (as a user would)."""
    p = subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", *map(str, args)], capture_output=True, text=True, env=_env(), **kw
    )
    if check and p.returncode != 0:
        raise AssertionError(f"judgemind {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return p


def _popen(*args, prefix=("-m", "judgemind.cli.main"), extra_env=None, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *prefix, *map(str, args)],
        env={**_env(), **(extra_env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


@pytest.fixture()
def cli():
    """``cli("train", ...)`` runs the judgemind command in a subprocess; raises with its stderr on failure."""
    return _cli


@pytest.fixture()
def spawn():
    """``spawn(*args, prefix=(...), extra_env={...})`` -> a running Popen of ``python PREFIX ARGS``."""
    return _popen


@pytest.fixture()
def fast():
    return list(FAST)


@pytest.fixture(scope="session")
def train_args(tiny_dataset) -> list:
    """The tiny training command shared by the end-to-end and resume tests (3 epochs, global batch 4)."""
    return ["train", "--data", tiny_dataset, "--features", "toy", "--epochs", 3, "--batch-size", 4, *FAST]


@pytest.fixture(scope="session")
def ref_run(train_args, tmp_path_factory) -> Path:
    """``judgemind train`` run once through the command line (subprocess); the reference of several tests."""
    out = tmp_path_factory.mktemp("ref") / "run"
    p = _cli(*train_args, "--out", out)
    assert "best epoch" in p.stdout and "epoch 3/3" in p.stderr
    return out
