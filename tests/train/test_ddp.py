"""Data parallel training equals one process with the same global batch.

* in-process: the gradient of a global batch dealt out over 2 "processes" (rows ``batch[r::2]``, losses scaled by
  their share, gradients summed -- what ``judgemind.train.dist`` does) equals the gradient of the whole batch, with
  training-time augmentation on;
* ``torchrun --nproc_per_node 2`` (gloo, CPU) vs one process: the same metrics; the same weights up to float
  summation order (AdamW's first steps move every coordinate by about one learning rate whatever the size of its
  gradient, so the sign of a near-zero gradient -- float noise -- can differ by a step or two).
"""

from __future__ import annotations

import json

import torch

from judgemind.models import create_model
from judgemind.train.checkpoint import load_checkpoint
from judgemind.train.loop import sample_seeds


def test_split_batch_gradients_sum_to_the_whole_batch_gradient(tiny_dataset):
    from judgemind.train.config import resolve_config
    from judgemind.train.data import prepare_data

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


def test_torchrun_two_processes_equal_one_process(ref_run, train_args, tmp_path, spawn):
    # ref_run: the same command in one process (conftest); here 2 processes, 2 videos each per global batch of 4
    two = spawn("--standalone", "--nproc_per_node", "2", "-m", "judgemind.cli.main", *train_args, "--out",
                tmp_path / "two", prefix=("-m", "torch.distributed.run"))
    _, err = two.communicate(timeout=300)
    assert two.returncode == 0, err[-3000:]
    a, b = load_checkpoint(ref_run / "last.pt"), load_checkpoint(tmp_path / "two" / "last.pt")
    assert json.loads((tmp_path / "two" / "run.json").read_text())["processes"] == 2
    lr = a["config"]["optim"]["lr"]
    diff2 = norm2 = 0.0
    for k, wa in a["model"].items():
        wa, wb = wa.float(), b["model"][k].float()
        assert (wa - wb).abs().max() <= 2 * lr, k          # no coordinate drifts more than two AdamW steps
        diff2, norm2 = diff2 + float((wa - wb).norm()) ** 2, norm2 + float(wa.norm()) ** 2
    assert diff2 ** 0.5 <= 2e-3 * norm2 ** 0.5             # the weights as a whole agree to 0.2 %
    la = [json.loads(x) for x in (ref_run / "log.jsonl").read_text().splitlines()]
    lb = [json.loads(x) for x in (tmp_path / "two" / "log.jsonl").read_text().splitlines()]
    assert len(la) == len(lb) == 3
    for x, y in zip(la, lb):
        for key, v in x["val"].items():
            assert abs(v - y["val"][key]) <= 1e-3 * max(1.0, abs(v)), (key, x["val"], y["val"])
        assert abs(x["train"]["loss"] - y["train"]["loss"]) <= 1e-3 * x["train"]["loss"]
