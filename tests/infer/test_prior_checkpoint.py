"""JudgeMind's statistics prior and checkpoints: a trained run carries the prior's fit, so loading it to score reads
no training data; a checkpoint made before the prior existed still loads, and scores without it."""

from __future__ import annotations

import shutil

import pytest
import torch

from judgemind.cli.main import main
from judgemind.runs.checkpoint import load_checkpoint, save_checkpoint


@pytest.fixture(scope="module")
def jm_run(tmp_path_factory):
    from judgemind.train.toy import make_toy_dataset

    root = tmp_path_factory.mktemp("prior")
    data = make_toy_dataset(root / "data", n=40, steps=8, dim=8)
    run = root / "run"
    args = ["train", "--data", str(data), "--features", "toy", "--model", "judgemind", "--epochs", "2"]
    assert main([*args, "--threads", "1", "--set", "model.d_model=16", "--out", str(run)]) == 0
    return data, run


def _no_training_data(monkeypatch):
    import judgemind.infer.run as R

    def refuse(*a, **k):
        raise AssertionError("the training split was read to load a trained JudgeMind")

    monkeypatch.setattr(R, "attach_train_set", refuse)


def test_a_trained_run_carries_the_prior_and_loads_without_its_training_data(jm_run, monkeypatch):
    from judgemind.infer import load_run

    _, run = jm_run
    _no_training_data(monkeypatch)
    loaded = load_run(run)
    model = loaded.model
    assert model.cfg.stats_prior and bool(model.prior.fitted) and not model.needs_train_set
    assert torch.isfinite(model.prior_share).all()  # fitted on val's select half by the trainer


def test_a_checkpoint_from_before_the_prior_loads_and_scores_without_it(jm_run, tmp_path, monkeypatch):
    from judgemind.infer import load_run

    _, run = jm_run
    old = tmp_path / "old"
    shutil.copytree(run, old)
    for name in ("best.pt", "last.pt"):
        ck = load_checkpoint(old / name)
        for key in ("stats_prior", "prior_mix"):
            ck["config"]["model"].pop(key)
        ck["model"] = {k: v for k, v in ck["model"].items() if not k.startswith("prior")}
        save_checkpoint(old / name, {k: v for k, v in ck.items() if k not in ("format", "judgemind_version")})
    _no_training_data(monkeypatch)
    model = load_run(old).model
    assert model.prior is None and model.cfg.stats_prior is False and not model.needs_train_set
