"""Data parallel training equals one process with the same global batch.

* in-process: the gradient of a global batch dealt out over 2 "processes" (rows ``batch[r::2]``, losses scaled by
  their share, gradients summed -- what ``judgemind.runs.dist`` does) equals the gradient of the whole batch, with
  training-time augmentation on;
* ``torchrun --nproc_per_node 2`` (gloo, CPU) vs one process: the same metrics and weights up to float summation
  order. (Over many steps AdamW, which moves every coordinate by about one learning rate whatever the size of its
  gradient, turns the sign noise of near-zero gradients into differences of a few learning-rate steps; the test
  therefore compares after two optimizer steps.)
"""

from __future__ import annotations

import json

import torch

from judgemind.models import create_model
from judgemind.runs.checkpoint import load_checkpoint
from judgemind.train.loop import sample_seeds


def test_split_batch_gradients_sum_to_the_whole_batch_gradient(tiny_dataset):
    from judgemind.runs.batch import prepare_data
    from judgemind.runs.config import resolve_config

    data = prepare_data(resolve_config(None, [f"data.dataset={tiny_dataset}", "data.features=toy"]).data)
    batch = data.train.batch(torch.arange(6))
    batch["seed"] = sample_seeds(0, 3, batch["index"])
    for name in ("judgemind", "mlp"):
        torch.manual_seed(0)
        model, _ = create_model(name, {}, data.info)
        model.train()

        def grads(parts):
            model.zero_grad()
            for rows in parts:
                sub = {k: v[rows] for k, v in batch.items()}
                loss, _ = model.loss(model(sub), sub)
                (loss * len(rows) / 6).backward()
            return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

        whole = grads([torch.arange(6)])
        split = grads([torch.arange(0, 6, 2), torch.arange(1, 6, 2)])
        assert whole.keys() == split.keys()
        for n in whole:
            assert torch.allclose(whole[n], split[n], rtol=1e-4, atol=1e-6), (name, n)


def test_torchrun_two_processes_equal_one_process(tiny_dataset, tmp_path, spawn, fast):
    # global batch 16 = the whole training split: 8 videos per process, one optimizer step per epoch, so AdamW has
    # no time to amplify float noise and the comparison can be strict
    args = ["train", "--data", tiny_dataset, "--features", "toy", "--epochs", 2, "--batch-size", 16, *fast]
    one = spawn(*args, "--out", tmp_path / "one")
    two = spawn(
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "judgemind.cli.main",
        *args,
        "--out",
        tmp_path / "two",
        prefix=("-m", "torch.distributed.run"),
    )
    for p in (one, two):
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
    a, b = load_checkpoint(tmp_path / "one" / "last.pt"), load_checkpoint(tmp_path / "two" / "last.pt")
    assert json.loads((tmp_path / "two" / "run.json").read_text())["processes"] == 2
    for k, wa in a["model"].items():
        assert torch.allclose(wa.float(), b["model"][k].float(), rtol=1e-4, atol=1e-4), k
    la = [json.loads(x) for x in (tmp_path / "one" / "log.jsonl").read_text().splitlines()]
    lb = [json.loads(x) for x in (tmp_path / "two" / "log.jsonl").read_text().splitlines()]
    assert len(la) == len(lb) == 2
    for x, y in zip(la, lb):
        for key, v in x["val"].items():
            assert abs(v - y["val"][key]) <= 1e-5 * max(1.0, abs(v)), (key, x["val"], y["val"])
        assert abs(x["train"]["loss"] - y["train"]["loss"]) <= 1e-5 * x["train"]["loss"]
