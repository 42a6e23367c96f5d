"""JudgeMind internals: exact DP decoding, ablation switches, knowledge bank, cut handling, grade bands."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from judgemind.errors import JudgemindError
from judgemind.models import create_model, keyed_uniform
from judgemind.models import judgemind as jm
from judgemind.rules import COMPONENT_MAX, GRADE_BANDS, STAGES


def _brute(logits: torch.Tensor, L: int):
    lp = torch.log_softmax(logits[:L].double(), -1).numpy()
    best, arg = -float("inf"), None
    for b1, b2 in itertools.combinations(range(1, L), 2):
        v = lp[:b1, 0].sum() + lp[b1:b2, 1].sum() + lp[b2:L, 2].sum()
        if v > best:
            best, arg = v, (b1, b2)
    return best, arg


def _objective(logits, L, b1, b2):
    lp = torch.log_softmax(logits[:L].double(), -1)
    return float(lp[:b1, 0].sum() + lp[b1:b2, 1].sum() + lp[b2:L, 2].sum())


def test_decode_stages_equals_brute_force_over_all_boundary_pairs():
    g = torch.Generator().manual_seed(0)
    for T in (3, 4, 7, 16, 24):
        logits = torch.randn(30, T, 3, generator=g) * 3
        lengths = torch.randint(3, T + 1, (30,), generator=g)
        bounds = jm.decode_stages(logits, lengths)
        for i in range(30):
            L = int(lengths[i])
            best, arg = _brute(logits[i], L)
            b1, b2 = (int(x) for x in bounds[i])
            assert 1 <= b1 < b2 <= L - 1
            assert _objective(logits[i], L, b1, b2) == pytest.approx(best, abs=1e-9)
            assert (b1, b2) == arg


def test_every_boundary_pair_is_reachable():
    T = 9
    for b1, b2 in itertools.combinations(range(1, T), 2):
        labels = torch.tensor([0] * b1 + [1] * (b2 - b1) + [2] * (T - b2))
        logits = torch.nn.functional.one_hot(labels, 3).float() * 5
        assert jm.decode_stages(logits[None]).tolist() == [[b1, b2]]


def test_decode_needs_three_steps():
    with pytest.raises(JudgemindError, match="at least 3 time steps"):
        jm.decode_stages(torch.zeros(1, 2, 3))


SWITCHES = {  # switch -> a parameter-name prefix that must disappear
    "segmentation": "seg_head.",
    "foreground": "encoders.foreground.",
    "global_tokens": "encoders.global.",
    "knowledge": "bank_proj.",
    "grade_bands": "band_heads.",
}


@pytest.mark.parametrize("switch", sorted(SWITCHES))
def test_each_ablation_switch_removes_its_module(switch, tiny_split, tiny_batch):
    ds, info = tiny_split
    full, _ = create_model("judgemind", {"text_encoder": "hashing"}, info)
    abl, cfg = create_model("judgemind", {switch: "false", "text_encoder": "hashing"}, info)
    names_full = {n for n, _ in full.named_parameters()}
    names_abl = {n for n, _ in abl.named_parameters()}
    assert names_abl != names_full
    assert any(n.startswith(SWITCHES[switch]) for n in names_full)
    assert not any(n.startswith(SWITCHES[switch]) for n in names_abl)
    assert getattr(cfg, switch) is False
    out = abl(tiny_batch)
    loss, _ = abl.loss(out, tiny_batch)
    loss.backward()
    if switch == "segmentation":
        assert out.stage_logits is None and out.bounds is None
    if switch == "knowledge":
        # only the text bank goes: the action-code token stays (it is the scores' learned residual base)
        assert "code_embed.0.weight" in names_abl and "item_queries" in names_abl
        assert not any(n.startswith("bank") for n in names_abl) and "bank" not in dict(abl.named_buffers())
    if switch == "grade_bands":
        assert out.band_logits is None and out.components.shape == (6, 3)


def test_cut_norm_switch_adds_its_mixing_weights(tiny_split, tiny_batch):
    _, info = tiny_split
    on, _ = create_model("judgemind", {"cut_norm": True, "text_encoder": "hashing"}, info)
    off, _ = create_model("judgemind", {"cut_norm": False, "text_encoder": "hashing"}, info)
    assert {n for n, _ in on.named_parameters()} - {n for n, _ in off.named_parameters()} == {
        "encoders.foreground.norm_mix",
        "encoders.global.norm_mix",
    }
    loss, _ = on.loss(on(tiny_batch), tiny_batch)
    loss.backward()
    assert on.encoders["global"].norm_mix.grad.abs().sum() > 0


def test_global_alias_and_no_source_error(tiny_split):
    _, info = tiny_split
    _, cfg = create_model("judgemind", {"global": "false", "text_encoder": "hashing"}, info)
    assert cfg.global_tokens is False
    with pytest.raises(JudgemindError, match="needs at least one token source"):
        create_model("judgemind", {"global": False, "foreground": False, "text_encoder": "hashing"}, info)


def test_grade_band_decoder_composes_the_score(tiny_split, tiny_batch):
    ds, info = tiny_split
    model, _ = create_model("judgemind", {}, info)
    model.eval()
    with torch.no_grad():
        out = model({k: v for k, v in tiny_batch.items() if k != "seed"})
    for i, c in enumerate(("air", "form", "landing")):
        assert out.band_logits[c].shape == (6, len(GRADE_BANDS[c]))
        top = float(GRADE_BANDS[c][0].hi)
        assert (out.components[:, i] >= 0).all() and (out.components[:, i] <= top + 1e-6).all()
    assert torch.allclose(out.score, 3 * out.components.sum(-1) * tiny_batch["dd"])
    # deduction evidence lies inside the window of the item's stage
    win = out.extra["windows"]
    for k, stage in enumerate(info.item_stages):
        s = STAGES.index(stage)
        assert win[torch.arange(6), s, out.deduction_step[:, k]].all()


def test_diving_mode_sums_stage_contributions(tiny_split, tiny_batch):
    import dataclasses

    _, info = tiny_split
    dinfo = dataclasses.replace(
        info, scoring="diving", n_items=0, item_ids=(), item_texts=(), item_stages=(), item_components=()
    )
    model, _ = create_model("judgemind", {}, dinfo)
    batch = dict(tiny_batch, components=torch.full((6, 3), float("nan")), deductions=torch.zeros(6, 0))
    out = model(batch)
    assert out.components is None and out.stage_scores.shape == (6, 3)
    assert torch.allclose(out.score, batch["dd"] * out.stage_scores.sum(-1))
    loss, parts = model.loss(out, batch)
    loss.backward()
    assert set(parts) == {"score", "seg"}


def test_knowledge_bank_uses_minilm_and_caches_it(knowledge_cache, monkeypatch):
    texts = ["The knees are bent during the flight.", "Hands touch the snow on landing."]
    emb, used = jm.knowledge_embeddings(texts, "test")
    assert used == "minilm" and emb.shape == (2, jm.TEXT_DIM)
    assert np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-4)
    assert list((knowledge_cache / "knowledge").glob("minilm-vtest-*.npy"))

    def fail(_):
        raise AssertionError("the text encoder must not run again: the cache holds the embeddings")

    monkeypatch.setattr(jm, "_minilm_embeddings", fail)
    emb2, _ = jm.knowledge_embeddings(texts, "test")
    assert np.array_equal(emb, emb2)


def test_knowledge_bank_falls_back_to_hashing_with_a_warning(monkeypatch, tiny_split):
    _, info = tiny_split
    monkeypatch.setattr(jm, "_minilm_available", lambda: False)
    monkeypatch.setattr(jm, "cache_dir", lambda: __import__("pathlib").Path("/nonexistent/judgemind-test"))
    with pytest.warns(UserWarning, match="hashing embedding"):
        _, cfg = create_model("judgemind", {}, info)
    assert cfg.text_encoder == "hashing"
    with pytest.raises(JudgemindError, match="needs the text extra"):
        create_model("judgemind", {"text_encoder": "minilm"}, info)
    a = jm.hashing_embeddings(["bent knees in flight"] * 2)
    assert np.array_equal(a[0], a[1]) and abs(np.linalg.norm(a[0]) - 1) < 1e-6


def test_shot_normalise_removes_shot_gain_and_bias():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 12, 5, generator=g)
    shot = torch.tensor([[0] * 4 + [1] * 5 + [2] * 3, [0] * 12])
    mask = torch.ones(2, 12, dtype=torch.bool)
    gain = torch.rand(2, 3, 1, generator=g) + 0.5
    bias = torch.randn(2, 3, 5, generator=g)
    y = x * gain.gather(1, shot[..., None].expand(2, 12, 1)) + bias.gather(1, shot[..., None].expand(2, 12, 5))
    assert torch.allclose(jm.shot_normalise(x, shot, mask), jm.shot_normalise(y, shot, mask), atol=1e-4)


def test_keyed_randomness_does_not_depend_on_the_batch():
    seeds = torch.tensor([5, 17, 2**40 + 3])
    whole = keyed_uniform(seeds, 7, stream=3)
    for i in range(3):
        assert torch.equal(whole[i], keyed_uniform(seeds[i : i + 1], 7, stream=3)[0])
    assert not torch.equal(whole, keyed_uniform(seeds, 7, stream=4))
    assert (whole >= 0).all() and (whole < 1).all()


def test_training_augmentation_is_keyed_per_sample(tiny_split, tiny_batch):
    """A sample's training output is the same alone or in a batch (what makes DDP == one process)."""
    ds, info = tiny_split
    model, _ = create_model("judgemind", {}, info)
    model.train()
    with torch.no_grad():
        whole = model(tiny_batch).score
        one = model({k: v[2:3] for k, v in tiny_batch.items()}).score
    assert torch.allclose(whole[2:3], one, atol=1e-5)


def test_components_come_from_the_expected_deduction_points(tiny_split, tiny_batch):
    """Each component = its maximum - sum over its items of probability x points (inside the item's catalogue
    range), + the grade decoder's bounded residual (0 at initialisation) and the band refinement."""
    from judgemind.rules import load_catalogue

    ds, info = tiny_split
    model, _ = create_model("judgemind", {"grade_bands": False}, info)
    model.eval()
    cat = load_catalogue()
    with torch.no_grad():
        out = model({k: v for k, v in tiny_batch.items() if k != "seed"})
    pts, expected = out.extra["item_points"], out.extra["expected_points"]
    lo = torch.tensor([float(cat.get(i).points_min) for i in info.item_ids])
    hi = torch.tensor([float(cat.get(i).points_max) for i in info.item_ids])
    assert ((pts >= lo - 1e-6) & (pts <= hi + 1e-6)).all()
    assert torch.allclose(expected, torch.sigmoid(out.deduction_logits) * pts)
    for i, c in enumerate(("air", "form", "landing")):
        own = torch.tensor([cat.get(k).component == c for k in info.item_ids])
        want = COMPONENT_MAX[c] - expected[:, own].sum(-1)
        assert torch.allclose(out.extra["deduction_components"][:, i], want, atol=1e-5)
        assert torch.allclose(out.components[:, i], want.clamp(0, COMPONENT_MAX[c]), atol=1e-5)


def test_deduction_losses_use_points_and_evidence_frames(tiny_split, tiny_batch):
    ds, info = tiny_split
    assert "ded_points" in tiny_batch and "ded_steps" in tiny_batch
    model, _ = create_model("judgemind", {"text_encoder": "hashing"}, info)
    out = model(tiny_batch)
    loss, parts = model.loss(out, tiny_batch)
    assert {"ded", "points", "evidence", "sub", "score", "seg", "band"} <= set(parts)
    assert all(np.isfinite(v) for v in parts.values())
    # the evidence term is the negative log attention inside the annotated frames of the items present
    att = out.extra["deduction_attention"]
    ev = tiny_batch["ded_steps"]
    have = (ev.sum(-1) > 0) & (tiny_batch["deductions"] > 0)
    assert have.any(), "the toy batch must hold items with evidence frames, or this test checks nothing"
    inside = (att * ev).sum(-1)[have]
    assert (inside > 0).all() and (inside <= 1 + 1e-6).all()
    # rare items weigh more in the deduction loss: the weight is min((1 - r) / r, pos_weight_max), at least 1
    rates = torch.tensor(info.item_rates, dtype=model.pos_weight.dtype)
    assert ((rates > 0) & (rates < 0.5)).any(), "the toy data must hold a rare item"
    want = ((1 - rates) / rates.clamp_min(1e-6)).clamp(1.0, model.cfg.pos_weight_max)
    assert torch.allclose(model.pos_weight, want, rtol=1e-5, atol=1e-5), (model.pos_weight, want)
    assert model.pos_weight[rates.argmin()] >= model.pos_weight[rates.argmax()]
    loss.backward()


# ---------------------------------------------------------------------------------------------------------------
# Controls for the paper's claims: the shuffled knowledge bank and the plain regressor head


@pytest.mark.parametrize("n", [2, 3, 7, 40])
def test_derangement_moves_every_row_and_is_fixed_by_its_seed(n):
    for seed in range(5):
        p = jm.derangement(n, seed)
        assert sorted(p.tolist()) == list(range(n)) and not (p == np.arange(n)).any()
        assert np.array_equal(p, jm.derangement(n, seed))
    with pytest.raises(JudgemindError, match="at least 2 catalogue items"):
        jm.derangement(1)


def test_shuffled_knowledge_gives_each_item_another_items_description(tiny_split, tiny_batch):
    _, info = tiny_split
    full, _ = create_model("judgemind", {"text_encoder": "hashing"}, info)
    shuf, cfg = create_model("judgemind", {"text_encoder": "hashing", "shuffled_knowledge": True}, info)
    assert cfg.shuffled_knowledge and info.n_items >= 2
    perm = jm.derangement(info.n_items, 0)
    assert torch.equal(shuf.bank, full.bank[torch.as_tensor(perm)])
    assert {n for n, _ in shuf.named_parameters()} == {n for n, _ in full.named_parameters()}
    again, _ = create_model("judgemind", {"text_encoder": "hashing", "shuffled_knowledge": True}, info)
    assert torch.equal(again.bank, shuf.bank)


def test_plain_head_regresses_components_without_the_grade_aware_composition(tiny_split, tiny_batch):
    _, info = tiny_split
    model, _ = create_model("judgemind", {"text_encoder": "hashing", "plain_head": True}, info)
    names = {n for n, _ in model.named_parameters()}
    assert "direct_head.weight" in names
    assert not any(n.startswith(("band_heads.", "residual_head.", "band_mix")) for n in names)
    out = model(tiny_batch)
    assert out.band_logits is None and "deduction_components" not in out.extra
    assert out.deduction_logits is not None  # the deduction head still trains and feeds the decoder
    loss, _ = model.loss(out, tiny_batch)
    loss.backward()
    assert all(p.grad is not None for n, p in model.named_parameters() if n.startswith("direct_head"))
    assert torch.allclose(out.score, 3 * out.components.sum(-1) * tiny_batch["dd"])


# -- the statistics prior ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prior_split():
    """30 toy videos: enough for the prior's 5-fold cross-validation (it needs 2 x folds)."""
    from judgemind.train.toy import make_toy_tensors

    return make_toy_tensors(30, 16, 8, 8, seed=3, frames=64)


def _fitted(info, tensors, **over):
    model, cfg = create_model("judgemind", {"text_encoder": "hashing", **over}, info)
    model.attach_train_set(tensors)
    return model, cfg


def test_statistics_prior_moves_each_component_towards_the_ridge_prior(prior_split):
    ds, info = prior_split
    fresh, _ = create_model("judgemind", {"text_encoder": "hashing"}, info)
    assert fresh.needs_train_set  # the trainer hands it the training split once ...
    model, cfg = _fitted(info, ds.tensors)
    assert cfg.stats_prior and not model.needs_train_set and bool(model.prior.fitted)  # ... and then never again
    model.eval()
    batch = ds.batch(torch.arange(8))
    with torch.no_grad():
        out = model(batch)
    prior, net = out.extra["prior_components"], out.extra["network_components"]
    assert torch.allclose(prior, model.prior.predict(batch)[0][:, 1:].float(), atol=1e-6)
    share = torch.sigmoid(model.prior_mix)
    assert torch.allclose(out.components, net + share * (prior - net), atol=1e-6)
    assert torch.allclose(share, torch.full((3,), cfg.prior_mix))
    assert torch.allclose(out.score, 3 * out.components.sum(-1) * batch["dd"])


def test_training_batches_read_the_prior_out_of_fold(prior_split):
    """A training video's prior is predicted by a fit that never saw it: changing that video's own marks changes
    the in-sample prediction but not its out-of-fold one."""
    ds, info = prior_split
    model, _ = _fitted(info, ds.tensors)
    t2 = {k: v.clone() for k, v in ds.tensors.items()}
    t2["components"][0] = torch.tensor([0.1, 0.5, 0.2])
    t2["score"][0] = 3 * 0.8 * t2["dd"][0]
    other, _ = _fitted(info, t2)
    assert torch.allclose(model.prior_oof[0], other.prior_oof[0], atol=1e-6)
    one = {k: v[:1] for k, v in ds.tensors.items()}
    assert not torch.allclose(model.prior.predict(one)[0], other.prior.predict(one)[0], atol=1e-3)
    # train mode reads the out-of-fold rows by the batch's index; eval mode predicts
    from judgemind.train.loop import sample_seeds

    batch = ds.batch(torch.tensor([4, 0, 7]))
    batch["seed"] = sample_seeds(0, 0, batch["index"])
    model.train()
    assert torch.equal(model._prior_components(batch), model.prior_oof[batch["index"]])
    model.eval()
    assert not torch.allclose(model._prior_components(batch), model.prior_oof[batch["index"]], atol=1e-4)


def test_prior_share_learns_and_the_posestats_anchor_is_frozen(prior_split):
    ds, info = prior_split
    model, _ = _fitted(info, ds.tensors)
    from judgemind.train.loop import sample_seeds

    batch = ds.batch(torch.arange(6))
    batch["seed"] = sample_seeds(0, 0, batch["index"])
    model.train()
    loss, _ = model.loss(model(batch), batch)
    loss.backward()
    assert model.prior_mix.grad is not None and model.prior_mix.grad.abs().sum() > 0
    assert not model.prior.anchor.requires_grad
    assert all(p.grad is not None for n, p in model.named_parameters() if n == "prior_mix")


def test_a_fitted_prior_travels_in_the_state_dict(prior_split):
    ds, info = prior_split
    model, _ = _fitted(info, ds.tensors)
    fresh, _ = create_model("judgemind", {"text_encoder": "hashing"}, info)
    assert not bool(fresh.prior.fitted)
    fresh.load_state_dict(model.state_dict(), strict=True)  # the out-of-fold rows are not part of it
    assert "prior_oof" not in model.state_dict()
    model.eval(), fresh.eval()
    batch = ds.batch(torch.arange(5))
    with torch.no_grad():
        assert torch.allclose(model(batch).score, fresh(batch).score, atol=1e-5)


def test_prior_off_small_split_and_bad_share(prior_split, tiny_split, tiny_batch):
    ds, info = prior_split
    off, cfg = _fitted(info, ds.tensors, stats_prior=False)
    assert off.prior is None and not off.needs_train_set and cfg.stats_prior is False
    assert not any(n.startswith("prior") for n, _ in off.named_parameters())
    # 8 videos < 2 x 5 folds: the prior stays unfitted and the model scores without it
    tiny_ds, tiny_info = tiny_split
    small, _ = _fitted(tiny_info, {k: v[:8] for k, v in tiny_ds.tensors.items()})
    assert not bool(small.prior.fitted)
    small.eval()
    with torch.no_grad():
        out = small({k: v for k, v in tiny_batch.items() if k != "seed"})
    assert "prior_components" not in out.extra
    with pytest.raises(JudgemindError, match="prior_mix"):
        create_model("judgemind", {"prior_mix": 1.0, "text_encoder": "hashing"}, info)


def test_the_share_outside_training_is_fitted_on_the_select_half(prior_split):
    """fit_on_select: least squares of the panel's marks on the select videos, clipped into [0, 1]; training keeps
    the learned share."""
    ds, info = prior_split
    model, _ = _fitted(info, ds.tensors)
    assert torch.isnan(model.prior_share).all()
    model.fit_on_select(ds, batch_size=7)
    share = model.prior_share
    assert torch.isfinite(share).all() and ((share >= 0) & (share <= 1)).all()
    model.eval()
    with torch.no_grad():
        out = model(ds.batch(torch.arange(len(ds))))
    net, prior, y = out.extra["network_components"], out.extra["prior_components"], ds.tensors["components"]
    for c in range(3):  # no other share in [0, 1] fits the select marks better

        def sse(s):
            return float(((net[:, c] + s * (prior[:, c] - net[:, c]) - y[:, c]) ** 2).sum())

        best = sse(float(share[c]))
        assert all(best <= sse(s) + 1e-4 for s in torch.linspace(0, 1, 21).tolist())
        assert torch.allclose(out.components[:, c], net[:, c] + share[c] * (prior[:, c] - net[:, c]), atol=1e-5)
    # the fitted share travels with the checkpoint
    fresh, _ = create_model("judgemind", {"text_encoder": "hashing"}, info)
    fresh.load_state_dict(model.state_dict())
    assert torch.allclose(fresh.prior_share, share)
    model.train()
    assert torch.allclose(model._share(), torch.sigmoid(model.prior_mix))


def test_low_rank_knowledge_fixes_the_items_to_the_descriptions_geometry(tiny_split, tiny_batch):
    """knowledge_rank=r: the bank becomes its top-r principal coordinates (fixed), so the item tokens are a rank-r
    family whatever the learned map does; a shuffled bank gives the same points to other items."""
    _, info = tiny_split
    model, cfg = create_model("judgemind", {"knowledge_rank": 4, "text_encoder": "hashing"}, info)
    assert cfg.knowledge_rank == 4 and model.bank.shape == (info.n_items, 4)
    assert torch.linalg.matrix_rank(model.bank_proj(model.bank).detach() - model.bank_proj.bias.detach()) <= 4
    assert model.bank.pow(2).mean().item() == pytest.approx(1.0, rel=1e-4)
    full, _ = create_model("judgemind", {"text_encoder": "hashing"}, info)
    assert full.bank.shape[1] == jm.TEXT_DIM
    coords = jm.principal_coordinates(full.bank, 4)
    assert torch.allclose(coords, model.bank, atol=1e-5)
    perm = torch.as_tensor(jm.derangement(info.n_items, 0))
    shuffled, _ = create_model(
        "judgemind", {"knowledge_rank": 4, "shuffled_knowledge": True, "text_encoder": "hashing"}, info
    )
    assert torch.allclose(shuffled.bank, jm.principal_coordinates(full.bank[perm], 4), atol=1e-5)
    loss, _ = model.loss(model(tiny_batch), tiny_batch)
    loss.backward()
    with pytest.raises(JudgemindError, match="knowledge_rank"):
        create_model("judgemind", {"knowledge_rank": -1, "text_encoder": "hashing"}, info)
