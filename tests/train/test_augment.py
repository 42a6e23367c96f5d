"""Model-independent training augmentation (``optim.aug_noise``, ``optim.aug_shot``): keyed per sample, off by
default, padded steps untouched, shot-wise gain/bias constant within a shot, applied by the training loop."""

from __future__ import annotations

import pytest
import torch

from judgemind.errors import JudgemindError
from judgemind.runs.config import OptimConfig
from judgemind.train.augment import augment_active, augment_batch, check_augment


def batch(n: int = 4, T: int = 10, D: int = 6, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    mask = torch.ones(n, T, dtype=torch.bool)
    mask[0, -3:] = False
    shot = (torch.arange(T)[None, :] >= 5).long().expand(n, T).clone()
    return {
        "global": torch.randn(n, T, D, generator=g) * 3 + 1,
        "foreground": torch.randn(n, T, D, generator=g),
        "mask": mask,
        "shot": shot,
        "score": torch.rand(n),
        "index": torch.arange(n),
        "seed": torch.arange(n) * 7 + 3,
    }


def test_off_by_default_is_the_identity():
    b = batch()
    assert not augment_active(OptimConfig())
    assert augment_batch(b, OptimConfig()) is b


def test_noise_is_keyed_per_sample_and_spares_padding():
    b = batch()
    opt = OptimConfig(aug_noise=0.5)
    a = augment_batch(b, opt)
    assert not torch.equal(a["global"], b["global"]) and torch.equal(a["score"], b["score"])
    assert torch.equal(a["global"][0, -3:], b["global"][0, -3:])  # padded steps untouched
    # the same sample (same seed) gets the same noise in another batch
    sub = {k: v[2:3] for k, v in b.items()}
    assert torch.equal(augment_batch(sub, opt)["global"][0], a["global"][2])
    # scale: std of the noise ~ 0.5 x the video's per-dimension std
    big = batch(n=64, T=40, D=8, seed=1)
    d = augment_batch(big, opt)["foreground"] - big["foreground"]
    ratio = (d[1:].std() / big["foreground"][1:].std()).item()
    assert 0.4 < ratio < 0.6


def test_shot_gain_is_one_factor_per_shot_and_dimension():
    b = batch()
    b["global"] = torch.ones_like(b["global"]) + torch.randn(b["global"].shape) * 0.1
    a = augment_batch(b, OptimConfig(aug_shot=1.0, aug_gain=0.5, aug_bias=0.0))
    ratio = a["global"] / b["global"]
    valid = b["mask"][1]
    for s in (0, 1):
        steps = (b["shot"][1] == s) & valid
        r = ratio[1, steps]  # (steps, D): the same row everywhere
        assert torch.allclose(r, r[:1].expand_as(r), atol=1e-5)
        assert ((r > 0.5 - 1e-6) & (r < 1.5 + 1e-6)).all()
    assert not torch.allclose(ratio[1, 0], ratio[1, 6])  # shots differ
    none = augment_batch(b, OptimConfig(aug_shot=1e-9, aug_gain=0.5))  # probability ~0: untouched
    assert torch.allclose(none["global"], b["global"])


@pytest.mark.parametrize("key,value", [("aug_noise", -0.1), ("aug_shot", 1.5), ("aug_gain", float("nan"))])
def test_bad_values_are_clear_errors(key, value):
    with pytest.raises(JudgemindError, match=f"optim.{key}"):
        check_augment(OptimConfig(**{key: value}))


def test_the_loop_augments_every_model(monkeypatch):
    """train_one_epoch hands the model the augmented batch (whatever the model)."""
    from judgemind.models import create_model
    from judgemind.runs import dist as D
    from judgemind.runs.config import TrainConfig
    from judgemind.train.loop import build_optimizer, build_scheduler, train_one_epoch
    from judgemind.train.toy import make_toy_tensors

    ds, info = make_toy_tensors(8, 8, 4, 4, seed=1, frames=32)
    seen = []
    for aug in (0.0, 1.0):
        cfg = TrainConfig(model_name="mlp", optim=OptimConfig(epochs=1, batch_size=8, aug_noise=aug))
        torch.manual_seed(0)
        model, _ = create_model("mlp", {}, info)
        real = model.forward
        monkeypatch.setattr(model, "forward", lambda b, real=real: (seen.append(b["global"].clone()), real(b))[1])
        opt = build_optimizer(cfg, model)
        ctx = D.DistContext(device=torch.device("cpu"))
        train_one_epoch(model, opt, build_scheduler(cfg, opt, len(ds)), ds, cfg, 0, ctx)
    assert len(seen) == 2 and not torch.equal(seen[0], seen[1])
