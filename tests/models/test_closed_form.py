"""The closed-form baselines: ``codeprior`` (the floor) and ``posestats`` (per-stage token statistics -> ridge)."""

from __future__ import annotations

import pytest
import torch
from loss_contract import assert_loss_is_mean_of_parts

from judgemind.errors import JudgemindError
from judgemind.models import DataInfo, create_model
from judgemind.models.posestats import ridge_cv, ridge_fit, stage_statistics
from judgemind.models.stages import bounds_to_windows

T, DG, DF = 12, 3, 4


def make_split(n: int, seed: int = 0, signal: float = 1.0) -> dict:
    """Toy videos whose stages show in the tokens (dimension 0 = stage level) and whose score is linear in the
    flight mean of foreground dimension 1 (plus a per-code offset); components follow the stage means."""
    g = torch.Generator().manual_seed(seed)
    b1 = torch.randint(3, 5, (n,), generator=g)
    b2 = b1 + torch.randint(3, 5, (n,), generator=g)
    t = torch.arange(T)[None, :]
    stage = (t >= b1[:, None]).long() + (t >= b2[:, None]).long()
    mask = torch.ones(n, T, dtype=torch.bool)
    mask[: n // 4, -1] = False  # some padded videos
    stage = torch.where(mask, stage, torch.full_like(stage, -100))
    fg = torch.randn(n, T, DF, generator=g) * 0.3
    gl = torch.randn(n, T, DG, generator=g) * 0.3
    fg[..., 0] += stage.clamp_min(0).float() * 2.0
    gl[..., 0] += stage.clamp_min(0).float() * 2.0
    quality = torch.randn(n, 3, generator=g)
    for s in range(3):
        fg[..., 1] += (stage == s).float() * quality[:, s : s + 1]
    fg, gl = fg * mask[..., None], gl * mask[..., None]
    action = torch.arange(n) % 3
    score = 60 + signal * 10 * quality[:, 1] + 3 * quality[:, 0] + 5 * action.float()
    comps = torch.stack([1 + 0.3 * quality[:, 0], 3 + 0.5 * quality[:, 1], 2 + 0.3 * quality[:, 2]], 1)
    code = torch.nn.functional.one_hot(action, 4).float()
    return {
        "global": gl,
        "foreground": fg,
        "mask": mask,
        "stage": stage,
        "bounds": torch.stack([b1, b2], 1),
        "shot": torch.zeros(n, T, dtype=torch.long),
        "code": code,
        "action": action,
        "dd": torch.full((n,), 3.5),
        "score": score,
        "components": comps,
        "judges": torch.rand(n, 5) * 10,
        "index": torch.arange(n),
    }


def info(n_actions: int = 3, scoring: str = "aerials5") -> DataInfo:
    return DataInfo(
        dim_global=DG,
        dim_foreground=DF,
        steps=T,
        n_items=0,
        n_judges=5,
        code_dim=4,
        n_actions=n_actions,
        scoring=scoring,
        score_max=100.0,
        score_mean=65.0,
        score_std=10.0,
        dd_mean=3.5,
    )


def fitted(name: str, train: dict, **cfg):
    model, _ = create_model(name, cfg, info())
    model.attach_train_set(train)
    return model


# -- codeprior -------------------------------------------------------------------------------------------------


def test_codeprior_predicts_the_per_code_training_mean():
    train = make_split(30, seed=1)
    model = fitted("codeprior", train)
    test = make_split(9, seed=2)
    test["action"] = torch.tensor([0, 1, 2, -1, 0, 1, 2, -1, 5])  # -1 / 5: codes not in the vocabulary
    out = model.eval()(test)
    expect = [float(train["score"][train["action"] == a].double().mean()) for a in (0, 1, 2)]
    mean = float(train["score"].double().mean())
    want = torch.tensor([expect[0], expect[1], expect[2], mean, expect[0], expect[1], expect[2], mean, mean])
    assert torch.allclose(out.score.double(), want.double(), atol=1e-4)
    assert model.fit_summary()["codes_seen"] == 3


def test_codeprior_training_never_moves_its_predictions():
    train = make_split(30, seed=1)
    model = fitted("codeprior", train).train()
    before = model(train).score.detach().clone()
    opt = torch.optim.AdamW(model.parameters(), lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        loss, _ = model.loss(model(train), train)
        loss.backward()
        assert model.anchor.grad is not None and model.anchor.grad.abs() > 0  # the loop has something to step
        opt.step()
    assert float(model.anchor.detach()) != 0.0
    assert torch.equal(model(train).score.detach(), before)
    # the fit travels with the weights (a checkpoint reproduces the predictions)
    other, _ = create_model("codeprior", {}, info())
    other.load_state_dict(model.state_dict())
    assert torch.equal(other(train).score.detach(), before)


def test_codeprior_needs_the_training_split():
    model, _ = create_model("codeprior", {}, info())
    with pytest.raises(JudgemindError, match="attach_train_set"):
        model(make_split(2))


# -- posestats -------------------------------------------------------------------------------------------------


def test_stage_statistics_by_hand():
    x = torch.tensor([[[1.0], [3.0], [5.0], [7.0], [0.0]]])  # (1, 5, 1)
    mask = torch.tensor([[True, True, True, True, False]])
    win = bounds_to_windows(torch.tensor([[2, 4]]), mask)  # [0,2) [2,4) [4,4): landing empty
    assert win.tolist() == [
        [[True, True, False, False, False], [False, False, True, True, False], [False, False, False, False, False]]
    ]
    st = stage_statistics(x, win).reshape(3, 4)  # stage x (mean, std, min, max)
    assert st[0].tolist() == [2.0, 1.0, 1.0, 3.0]
    assert st[1].tolist() == [6.0, 1.0, 5.0, 7.0]
    assert st[2].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_ridge_cv_prefers_small_lambda_for_signal_and_large_for_noise():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(80, 5, generator=g, dtype=torch.float64)
    y = torch.stack(
        [
            x @ torch.tensor([1.0, -2.0, 0.5, 0.0, 1.0], dtype=torch.float64),
            torch.randn(80, generator=g, dtype=torch.float64),
        ],
        1,
    )
    lambdas = torch.logspace(-3, 4, 8, dtype=torch.float64)
    best, err = ridge_cv(x, y, lambdas, 5, torch.Generator().manual_seed(0))
    assert err.shape == (2, 8)
    assert int(best[0]) == 0 and int(best[1]) >= 5
    w, b = ridge_fit(x, y[:, :1], lambdas[:1])
    assert torch.allclose(w[0], torch.tensor([1.0, -2.0, 0.5, 0.0, 1.0], dtype=torch.float64), atol=1e-3)


def test_posestats_learns_stages_score_and_components():
    from judgemind.evaluate import spearman

    train, test = make_split(120, seed=1), make_split(40, seed=2)
    model = fitted("posestats", train).eval()
    with torch.no_grad():
        out = model({k: v for k, v in test.items()})
    assert out.bounds.dtype == torch.long and torch.equal(out.bounds, test["bounds"])  # stages read correctly
    assert out.stage_logits.shape == (40, T, 3)
    assert spearman(out.score.numpy(), test["score"].numpy()) > 0.95
    assert out.components.shape == (40, 3)
    for i in range(3):
        assert spearman(out.components[:, i].numpy(), test["components"][:, i].numpy()) > 0.9
    fit = model.fit_summary()
    assert set(fit["lambda"]) == {"score", "air", "form", "landing"}
    assert all(lam in fit["lambda_grid"] for lam in fit["lambda"].values())
    assert fit["stage_classifier_train_accuracy"] > 0.95
    # one video works too, and the same data gives the same fit (folds do not depend on the global generator)
    one = {k: v[:1] for k, v in test.items()}
    assert model(one).score.shape == (1,)
    torch.manual_seed(123)
    again = fitted("posestats", train).eval()
    assert torch.equal(again(test).score, out.score)


def test_posestats_chooses_a_large_lambda_when_nothing_is_learnable():
    train = make_split(120, seed=1, signal=0.0)
    train["score"] = 60 + 10 * torch.randn(120, generator=torch.Generator().manual_seed(9))
    model = fitted("posestats", train)
    lam = model.fit_summary()["lambda"]["score"]
    assert lam >= 1e3


def test_posestats_without_components_and_with_unknown_bounds():
    train = make_split(40, seed=1)
    train["components"] = torch.full((40, 3), float("nan"))  # diving: no Air/Form/Landing
    train["bounds"][:5] = -1  # bounds unknown: decoded windows instead
    model = fitted("posestats", train).eval()
    out = model(make_split(6, seed=3))
    assert out.components is None and torch.isfinite(out.score).all()
    assert set(model.fit_summary()["lambda"]) == {"score"}


def test_posestats_contract_and_errors():
    train = make_split(40, seed=1)
    model = fitted("posestats", train).train()
    batch = make_split(6, seed=4)
    out = model(batch)
    loss, parts = model.loss(out, batch)
    loss.backward()
    assert model.anchor.grad is not None and parts["score"] >= 0
    with pytest.raises(JudgemindError, match="attach_train_set"):
        create_model("posestats", {}, info())[0](batch)
    with pytest.raises(JudgemindError, match="lambda grid"):
        create_model("posestats", {"lambda_min": 10.0, "lambda_max": 1.0}, info())
    with pytest.raises(JudgemindError, match="keep at least one"):
        create_model("posestats", {"use_global": False, "use_foreground": False}, info())
    with pytest.raises(JudgemindError, match="need at least"):
        fitted("posestats", make_split(3, seed=1))


@pytest.mark.parametrize("name", ["codeprior", "posestats"])
def test_loss_is_a_mean_of_per_sample_losses(name):
    model = fitted(name, make_split(40, seed=1)).eval()
    assert_loss_is_mean_of_parts(model, make_split(6, seed=5), name)
