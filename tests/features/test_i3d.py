"""Tests for judgemind.features.i3d against the checkpoint facts summarised in docs/video.md ("I3D checkpoints").

"The doc's tables" below (every unit's shapes, the A <-> B rename table) were typed in from the module definitions of
hassony2/kinetics_i3d_pytorch and piergiaj/pytorch-i3d, not derived from the module under test. Everything runs on
tiny inputs with random weights; checkpoint files are synthetic (our own state_dict renamed to each family's layout
with that rename table, written independently of the module's renamer).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from judgemind.errors import CheckpointError
from judgemind.features.i3d import (
    DEFAULT_BN_EPS,
    ENDPOINTS,
    FEATURE_ENDPOINTS,
    I3DClipEncoder,
    InceptionI3d,
    canonical_to_family_a,
    clip_starts,
    family_a_to_canonical,
    load_i3d_checkpoint,
    resample_indices,
    tf_same_padding,
)

torch.set_num_threads(1)

# ---- the doc's tables (every unit's shapes), typed in, not derived from the module --------------------------------

DOC_STEM = {  # unit -> (conv3d.weight shape, BN width, params)
    "Conv3d_1a_7x7": ([64, 3, 7, 7, 7], 64, 65_984),
    "Conv3d_2b_1x1": ([64, 64, 1, 1, 1], 64, 4_224),
    "Conv3d_2c_3x3": ([192, 64, 3, 3, 3], 192, 332_160),
}
DOC_BRANCHES = ("b0", "b1a", "b1b", "b2a", "b2b", "b3b")
DOC_MIXED = {  # block -> (six conv3d.weight shapes in branch order, params)
    "Mixed_3b": (
        [
            [64, 192, 1, 1, 1],
            [96, 192, 1, 1, 1],
            [128, 96, 3, 3, 3],
            [16, 192, 1, 1, 1],
            [32, 16, 3, 3, 3],
            [32, 192, 1, 1, 1],
        ],
        386_272,
    ),
    "Mixed_3c": (
        [
            [128, 256, 1, 1, 1],
            [128, 256, 1, 1, 1],
            [192, 128, 3, 3, 3],
            [32, 256, 1, 1, 1],
            [96, 32, 3, 3, 3],
            [64, 256, 1, 1, 1],
        ],
        837_888,
    ),
    "Mixed_4b": (
        [
            [192, 480, 1, 1, 1],
            [96, 480, 1, 1, 1],
            [208, 96, 3, 3, 3],
            [16, 480, 1, 1, 1],
            [48, 16, 3, 3, 3],
            [64, 480, 1, 1, 1],
        ],
        737_760,
    ),
    "Mixed_4c": (
        [
            [160, 512, 1, 1, 1],
            [112, 512, 1, 1, 1],
            [224, 112, 3, 3, 3],
            [24, 512, 1, 1, 1],
            [64, 24, 3, 3, 3],
            [64, 512, 1, 1, 1],
        ],
        904_464,
    ),
    "Mixed_4d": (
        [
            [128, 512, 1, 1, 1],
            [128, 512, 1, 1, 1],
            [256, 128, 3, 3, 3],
            [24, 512, 1, 1, 1],
            [64, 24, 3, 3, 3],
            [64, 512, 1, 1, 1],
        ],
        1_103_664,
    ),
    "Mixed_4e": (
        [
            [112, 512, 1, 1, 1],
            [144, 512, 1, 1, 1],
            [288, 144, 3, 3, 3],
            [32, 512, 1, 1, 1],
            [64, 32, 3, 3, 3],
            [64, 512, 1, 1, 1],
        ],
        1_356_672,
    ),
    "Mixed_4f": (
        [
            [256, 528, 1, 1, 1],
            [160, 528, 1, 1, 1],
            [320, 160, 3, 3, 3],
            [32, 528, 1, 1, 1],
            [128, 32, 3, 3, 3],
            [128, 528, 1, 1, 1],
        ],
        1_799_168,
    ),
    "Mixed_5b": (
        [
            [256, 832, 1, 1, 1],
            [160, 832, 1, 1, 1],
            [320, 160, 3, 3, 3],
            [32, 832, 1, 1, 1],
            [128, 32, 3, 3, 3],
            [128, 832, 1, 1, 1],
        ],
        1_974_272,
    ),
    "Mixed_5c": (
        [
            [384, 832, 1, 1, 1],
            [192, 832, 1, 1, 1],
            [384, 192, 3, 3, 3],
            [48, 832, 1, 1, 1],
            [128, 48, 3, 3, 3],
            [128, 832, 1, 1, 1],
        ],
        2_784_736,
    ),
}
DOC_OUT = {
    "Conv3d_1a_7x7": 64,
    "MaxPool3d_2a_3x3": 64,
    "Conv3d_2b_1x1": 64,
    "Conv3d_2c_3x3": 192,
    "MaxPool3d_3a_3x3": 192,
    "Mixed_3b": 256,
    "Mixed_3c": 480,
    "MaxPool3d_4a_3x3": 480,
    "Mixed_4b": 512,
    "Mixed_4c": 512,
    "Mixed_4d": 512,
    "Mixed_4e": 528,
    "Mixed_4f": 832,
    "MaxPool3d_5a_2x2": 832,
    "Mixed_5b": 832,
    "Mixed_5c": 1024,
}

# the rename table, B (canonical) -> A
_DOC_BRANCH_B_TO_A = {
    "b0": "branch_0",
    "b1a": "branch_1.0",
    "b1b": "branch_1.1",
    "b2a": "branch_2.0",
    "b2b": "branch_2.1",
    "b3b": "branch_3.1",
}


def doc_b_to_a(key: str) -> str:
    top, rest = key.split(".", 1)
    if top == "logits":
        top = "conv3d_0c_1x1"
    elif top.startswith("Mixed_"):
        branch, rest = rest.split(".", 1)
        top = f"{top.lower()}.{_DOC_BRANCH_B_TO_A[branch]}"
    else:
        top = top.lower()
    rest = re.sub(r"^bn\.", "batch3d.", rest)
    return f"{top}.{rest}"


def without_counters(sd: dict) -> dict:
    return {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}


# ---- fixtures --------------------------------------------------------------------------------------------------


def _randomise_bn(model: InceptionI3d, seed: int) -> InceptionI3d:
    """Non-trivial BN statistics and head bias, so a wrong mapping of any tensor changes the output."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm3d):
                n = m.num_features
                m.weight.copy_(0.5 + torch.rand(n, generator=g))
                m.bias.copy_(0.1 * torch.randn(n, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(n, generator=g))
                m.running_var.copy_(0.5 + torch.rand(n, generator=g))
        if model.logits is not None:
            model.logits.conv3d.bias.copy_(torch.randn(model.num_classes, generator=g))
    return model.eval()


@pytest.fixture(scope="module")
def model() -> InceptionI3d:
    torch.manual_seed(0)
    return _randomise_bn(InceptionI3d(400, bn_eps=1e-3), seed=1)


@pytest.fixture(scope="module")
def ckpt_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("i3d_ckpts")


@pytest.fixture(scope="module")
def small_clip() -> torch.Tensor:
    return torch.randn(1, 3, 8, 32, 32, generator=torch.Generator().manual_seed(2))


def _out(m: InceptionI3d, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return m(x)


# ---- architecture vs the doc ------------------------------------------------------------------------------------


def test_parameter_and_key_counts_match_doc():
    for k, expected in ((400, 12_697_264), (157, 12_448_189), (0, 12_287_264)):
        assert sum(p.numel() for p in InceptionI3d(k).parameters()) == expected
    sd = InceptionI3d(400).state_dict()
    assert len(without_counters(sd)) == 287 and len(sd) == 344
    assert sum(v.numel() for v in sd.values() if v.is_floating_point()) == 12_711_824
    assert len(without_counters(InceptionI3d(0).state_dict())) == 285
    assert sum(1 for k in sd if k.endswith("conv3d.weight")) == 58
    assert sum(v.numel() for k, v in sd.items() if k.endswith("bn.weight")) == 7_280
    assert sum(1 for k in sd if k.endswith("bn.weight")) == 57


def test_state_dict_keys_and_shapes_match_doc_tables():
    m = InceptionI3d(400)
    sd = without_counters(m.state_dict())
    expected: dict[str, list[int]] = {}
    for unit, (w, c, params) in DOC_STEM.items():
        expected[f"{unit}.conv3d.weight"] = w
        expected.update({f"{unit}.bn.{t}": [c] for t in ("weight", "bias", "running_mean", "running_var")})
        assert sum(p.numel() for p in getattr(m, unit).parameters()) == params
    for block, (shapes, params) in DOC_MIXED.items():
        for branch, w in zip(DOC_BRANCHES, shapes):
            expected[f"{block}.{branch}.conv3d.weight"] = w
            expected.update(
                {f"{block}.{branch}.bn.{t}": [w[0]] for t in ("weight", "bias", "running_mean", "running_var")}
            )
        assert sum(p.numel() for p in getattr(m, block).parameters()) == params
    expected["logits.conv3d.weight"] = [400, 1024, 1, 1, 1]
    expected["logits.conv3d.bias"] = [400]
    assert {k: list(v.shape) for k, v in sd.items()} == expected
    # spot checks named in the brief
    assert list(sd["Conv3d_1a_7x7.conv3d.weight"].shape) == [64, 3, 7, 7, 7]
    assert list(sd["Mixed_4b.b1b.conv3d.weight"].shape) == [208, 96, 3, 3, 3]


def test_endpoints_in_documented_order():
    names = [n for n, _ in InceptionI3d(0).named_children() if n in ENDPOINTS]
    assert tuple(names) == FEATURE_ENDPOINTS == ENDPOINTS[:16]
    assert ENDPOINTS[-2:] == ("Logits", "Predictions")


def test_endpoint_widths_and_odd_shapes(model, small_clip):
    widths = {}
    hooks = [
        getattr(model, n).register_forward_hook(lambda mod, i, o, n=n: widths.__setitem__(n, o.shape[1]))
        for n in FEATURE_ENDPOINTS
    ]
    try:
        with torch.inference_mode():
            pooled = model.extract_features(small_clip)
    finally:
        for h in hooks:
            h.remove()
    assert widths == DOC_OUT and pooled.shape == (1, 1024)
    with torch.inference_mode():
        assert model.extract_features(small_clip, "Mixed_4b").shape == (1, 512)
        # Mixed_5c = 1024 x ceil(T/8) x ceil(H/32) x ceil(W/32), also for odd sizes
        for t, h, w in ((16, 64, 64), (15, 33, 47)):
            x = torch.randn(1, 3, t, h, w)
            fmap = model.extract_features(x, pooled=False)
            assert fmap.shape == (1, 1024, -(-t // 8), -(-h // 32), -(-w // 32))
        torch.testing.assert_close(model.extract_features(x), fmap.mean(dim=(2, 3, 4)))
        assert model(x).shape == (1, 400)
    with pytest.raises(ValueError, match="endpoint"):
        model.extract_features(small_clip, "Mixed_9z")
    with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
        model(torch.randn(1, 2, 8, 32, 32))


def test_logits_head_is_tf_avgpool_then_conv_then_time_mean(model):
    fmap = torch.randn(2, 1024, 3, 7, 7)  # a 24x224x224 input's Mixed_5c
    with torch.inference_mode():
        ref = F.avg_pool3d(fmap, (2, 7, 7), stride=1)
        ref = F.conv3d(ref, model.logits.conv3d.weight, model.logits.conv3d.bias).squeeze(-1).squeeze(-1)
        torch.testing.assert_close(model.classify(fmap), ref.mean(2))
        # 112 px -> 4x4 map: the window is clipped to the map, i.e. the global mean
        small = torch.randn(1, 1024, 2, 4, 4)
        ref = F.conv3d(
            small.mean(dim=(2, 3, 4), keepdim=True), model.logits.conv3d.weight, model.logits.conv3d.bias
        ).flatten(1)
        torch.testing.assert_close(model.classify(small), ref)
    with pytest.raises(RuntimeError, match="head-less"):
        InceptionI3d(0)(torch.randn(1, 3, 8, 32, 32))


# ---- TF 'SAME' padding ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n,k,s,pads",
    [
        (8, 7, 2, (2, 3)),
        (9, 7, 2, (3, 3)),
        (32, 7, 2, (2, 3)),
        (33, 7, 2, (3, 3)),  # Conv3d_1a
        (16, 3, 2, (0, 1)),
        (17, 3, 2, (1, 1)),  # MaxPool 2a/3a (H, W) and 4a
        (8, 1, 1, (0, 0)),  # MaxPool 2a/3a T, 1x1x1 convs
        (5, 3, 1, (1, 1)),
        (6, 3, 1, (1, 1)),  # 3x3x3 convs, branch-3 pools
        (4, 2, 2, (0, 0)),
        (5, 2, 2, (0, 1)),  # MaxPool 5a
    ],
)
def test_tf_same_padding_table(n, k, s, pads):
    assert tf_same_padding(n, k, s) == pads


def _unit_reference(unit, x, pads):
    """Conv unit with explicit F.pad (pads per dim T, H, W as (front, back)) -> BN -> ReLU."""
    (tf, tb), (hf, hb), (wf, wb) = pads
    y = F.conv3d(F.pad(x, (wf, wb, hf, hb, tf, tb)), unit.conv3d.weight, stride=unit.stride)
    bn = unit.bn
    y = F.batch_norm(y, bn.running_mean, bn.running_var, bn.weight, bn.bias, training=False, eps=bn.eps)
    return F.relu(y)


@pytest.mark.parametrize("shape,pad", [((1, 3, 8, 32, 32), (2, 3)), ((1, 3, 9, 33, 33), (3, 3))])
def test_conv1a_same_padding_matches_explicit_pad(model, shape, pad):
    x = torch.randn(*shape)
    unit = model.Conv3d_1a_7x7
    with torch.inference_mode():
        ours = unit(x)
        ref = _unit_reference(unit, x, (pad, pad, pad))
        torch.testing.assert_close(ours, ref, rtol=0, atol=1e-5)
        assert ours.shape[-3:] == tuple(-(-n // 2) for n in shape[-3:])
        if pad == (2, 3):  # a naive symmetric pad gives the same shape but a shifted sampling grid
            naive = _unit_reference(unit, x, ((3, 3),) * 3)[..., : ours.shape[2], : ours.shape[3], : ours.shape[4]]
            assert not torch.allclose(ours, naive, atol=1e-3)


def test_conv2c_same_padding_matches_explicit_pad(model):
    x = torch.relu(torch.randn(1, 64, 5, 7, 6))
    with torch.inference_mode():
        ref = _unit_reference(model.Conv3d_2c_3x3, x, ((1, 1),) * 3)
        torch.testing.assert_close(model.Conv3d_2c_3x3(x), ref, rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "pool,size,pads",
    [
        ("MaxPool3d_2a_3x3", (4, 16, 16), ((0, 0), (0, 1), (0, 1))),
        ("MaxPool3d_2a_3x3", (5, 17, 17), ((0, 0), (1, 1), (1, 1))),
        ("MaxPool3d_4a_3x3", (4, 8, 8), ((0, 1), (0, 1), (0, 1))),
        ("MaxPool3d_4a_3x3", (5, 9, 7), ((1, 1), (1, 1), (1, 1))),
        ("MaxPool3d_5a_2x2", (4, 8, 8), ((0, 0), (0, 0), (0, 0))),
        ("MaxPool3d_5a_2x2", (3, 5, 7), ((0, 1), (0, 1), (0, 1))),
    ],
)
def test_maxpool_same_padding_matches_explicit_pad(model, pool, size, pads):
    x = torch.relu(torch.randn(1, 4, *size))  # pools always see post-ReLU input
    p = getattr(model, pool)
    (tf, tb), (hf, hb), (wf, wb) = pads
    ref = F.max_pool3d(F.pad(x, (wf, wb, hf, hb, tf, tb)), p.kernel, p.stride)
    out = p(x)
    torch.testing.assert_close(out, ref, rtol=0, atol=0)
    assert out.shape[-3:] == tuple(-(-n // s) for n, s in zip(size, p.stride))


# ---- checkpoint loading -----------------------------------------------------------------------------------------


def _save(path: Path, obj) -> Path:
    torch.save(obj, path)
    return path


def test_rename_functions_agree_with_doc_table(model):
    for key in model.state_dict():
        a = doc_b_to_a(key)
        assert family_a_to_canonical(a) == key
        assert canonical_to_family_a(key) == a
    assert doc_b_to_a("Mixed_4b.b1b.conv3d.weight") == "mixed_4b.branch_1.1.conv3d.weight"
    assert doc_b_to_a("Conv3d_1a_7x7.bn.weight") == "conv3d_1a_7x7.batch3d.weight"


def test_family_a_and_b_files_load_to_identical_outputs(model, ckpt_dir, small_clip):
    sd = model.state_dict()
    b287 = {k: v.clone() for k, v in without_counters(sd).items()}  # published files: no counters
    a287 = {doc_b_to_a(k): v for k, v in b287.items()}
    files = {
        "b_plain.pt": (b287, "B"),
        "b_module_counters.pt": ({f"module.{k}": v for k, v in sd.items()}, "B"),
        "b_wrapped.pt": ({"state_dict": b287, "epoch": 3}, "B"),
        "a_plain.pth": (a287, "A"),
        "a_counters_model.pth": ({"model": {doc_b_to_a(k): v for k, v in sd.items()}}, "A"),
        "a_core_training.pth": ({"base_model": {f"module.backbone.{k}": v for k, v in a287.items()}}, "A"),
    }
    ref = _out(model, small_clip)
    for name, (obj, family) in files.items():
        path = _save(ckpt_dir / name, obj)
        loaded, info = load_i3d_checkpoint(path, bn_eps=1e-3)
        assert info["family"] == family and info["num_classes"] == 400 and info["bn_eps"] == 1e-3, name
        assert not loaded.training
        assert len(info["sha256"]) == 64
        assert torch.equal(_out(loaded, small_clip), ref), name
        for k, v in without_counters(loaded.state_dict()).items():
            assert torch.equal(v, sd[k]), (name, k)
    # explicit family argument, and the family defaults of bn_eps
    _, info_a = load_i3d_checkpoint(ckpt_dir / "a_plain.pth", family="A")
    _, info_b = load_i3d_checkpoint(ckpt_dir / "b_plain.pt")
    assert info_a["bn_eps"] == DEFAULT_BN_EPS["A"] == 1e-5 and info_b["bn_eps"] == DEFAULT_BN_EPS["B"] == 1e-3
    eps5, _ = load_i3d_checkpoint(ckpt_dir / "b_plain.pt", bn_eps=1e-5)
    assert all(m.eps == 1e-5 for m in eps5.modules() if isinstance(m, torch.nn.BatchNorm3d))
    assert not torch.equal(_out(eps5, small_clip), ref)  # eps matters; that is why it is a parameter


def test_safetensors_file_loads(model, ckpt_dir, small_clip):
    from safetensors.torch import save_file

    path = ckpt_dir / "b.safetensors"
    save_file({k: v.contiguous() for k, v in without_counters(model.state_dict()).items()}, str(path))
    loaded, info = load_i3d_checkpoint(path, bn_eps=1e-3)
    assert info["family"] == "B"
    assert torch.equal(_out(loaded, small_clip), _out(model, small_clip))


def test_157_class_head_and_headless_files(ckpt_dir, small_clip):
    torch.manual_seed(3)
    m157 = _randomise_bn(InceptionI3d(157), seed=4)
    sd = without_counters(m157.state_dict())
    for name, obj in (("b157.pt", sd), ("a157.pth", {doc_b_to_a(k): v for k, v in sd.items()})):
        loaded, info = load_i3d_checkpoint(_save(ckpt_dir / name, obj), bn_eps=1e-3)
        assert info["num_classes"] == 157
        out = _out(loaded, small_clip)
        assert out.shape == (1, 157) and torch.equal(out, _out(m157, small_clip))
    headless = {k: v for k, v in sd.items() if not k.startswith("logits.")}
    assert len(headless) == 285
    loaded, info = load_i3d_checkpoint(_save(ckpt_dir / "headless.pt", headless), bn_eps=1e-3)
    assert info["num_classes"] == 0 and loaded.logits is None
    with torch.inference_mode():
        assert torch.equal(loaded.extract_features(small_clip), m157.extract_features(small_clip))
    # asking for a head the file does not have is an error, not a silently random head
    with pytest.raises(CheckpointError, match="logits.conv3d.weight"):
        load_i3d_checkpoint(ckpt_dir / "headless.pt", num_classes=400)
    with pytest.raises(CheckpointError, match=r"shape mismatch.*logits\.conv3d\.weight \[157, 1024"):
        load_i3d_checkpoint(ckpt_dir / "b157.pt", num_classes=400)


def test_other_architecture_is_rejected_with_key_lists(ckpt_dir):
    resnet = {
        "conv1.weight": torch.zeros(64, 3, 7, 7),
        "bn1.weight": torch.ones(64),
        "bn1.bias": torch.zeros(64),
        "bn1.running_mean": torch.zeros(64),
        "bn1.running_var": torch.ones(64),
        "layer1.0.conv1.weight": torch.zeros(64, 64, 3, 3),
        "fc.weight": torch.zeros(1000, 512),
        "fc.bias": torch.zeros(1000),
    }
    path = _save(ckpt_dir / "resnet.pth", resnet)
    with pytest.raises(CheckpointError) as err:
        load_i3d_checkpoint(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "285 missing keys" in msg and "Conv3d_1a_7x7.conv3d.weight" in msg and "more)" in msg
    assert "8 unexpected keys" in msg and "conv1.weight" in msg and "fc.bias" in msg


def test_missing_unexpected_and_mismatched_keys_are_listed(model, ckpt_dir):
    b = {k: v for k, v in without_counters(model.state_dict()).items() if k != "Mixed_3c.b2a.bn.running_var"}
    b["Mixed_4b.b1b.conv3d.weight"] = torch.zeros(208, 96, 1, 3, 3)
    b["Mixed_4b.extra.weight"] = torch.zeros(3)
    path = _save(ckpt_dir / "broken_b.pt", b)
    with pytest.raises(CheckpointError) as err:
        load_i3d_checkpoint(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "1 missing keys: Mixed_3c.b2a.bn.running_var" in msg
    assert "1 unexpected keys: Mixed_4b.extra.weight" in msg
    assert "1 shape mismatches: Mixed_4b.b1b.conv3d.weight [208, 96, 1, 3, 3] (model expects [208, 96, 3, 3, 3])" in msg
    # a family A file is reported in its own naming, even when its first conv is the key that is missing
    a = {
        doc_b_to_a(k): v for k, v in without_counters(model.state_dict()).items() if k != "Conv3d_1a_7x7.conv3d.weight"
    }
    with pytest.raises(CheckpointError, match=r"family A.*1 missing keys: conv3d_1a_7x7\.conv3d\.weight"):
        load_i3d_checkpoint(_save(ckpt_dir / "broken_a.pth", a))


class NotAStateDict:
    """A custom object: weights_only loading must refuse to rebuild it."""

    def __init__(self):
        self.payload = [1, 2, 3]


def _touch(path: str) -> None:
    Path(path).touch()


class Exploit:
    """Unpickling this with full pickle would call _touch(marker); weights_only must never run it."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (_touch, (self.marker,))


def test_non_tensor_pickles_are_refused_safely(model, ckpt_dir):
    path = _save(ckpt_dir / "object.pth", NotAStateDict())
    with pytest.raises(CheckpointError, match=re.escape(str(path)) + ".*weights_only"):
        load_i3d_checkpoint(path)
    marker = ckpt_dir / "pwned"
    sd = dict(without_counters(model.state_dict()))
    sd["evil"] = Exploit(marker)
    path = _save(ckpt_dir / "exploit.pth", sd)
    with pytest.raises(CheckpointError, match="refused"):
        load_i3d_checkpoint(path)
    assert not marker.exists()
    # plain containers are allowed by weights_only but are still not a state_dict
    with pytest.raises(CheckpointError, match="not a state_dict"):
        load_i3d_checkpoint(_save(ckpt_dir / "meta.pth", {"epoch": 3, "lr": 0.1}))
    with pytest.raises(CheckpointError, match="holds a list"):
        load_i3d_checkpoint(_save(ckpt_dir / "list.pth", [torch.zeros(1)]))


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_i3d_checkpoint(tmp_path / "nope.pth")
    bad = tmp_path / "truncated.pth"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointError, match="truncated.pth"):
        load_i3d_checkpoint(bad)
    bad_st = tmp_path / "bad.safetensors"
    bad_st.write_bytes(b"\x00" * 4)
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        load_i3d_checkpoint(bad_st)
    with pytest.raises(CheckpointError, match="family"):
        load_i3d_checkpoint(bad, family="C")


# ---- clip encoder -----------------------------------------------------------------------------------------------


def test_clip_starts_and_resampling():
    assert clip_starts(96, 16, 10) == [0, 10, 20, 30, 40, 50, 60, 70, 80]
    assert clip_starts(16, 16, 10) == [0]
    with pytest.raises(ValueError):
        clip_starts(15, 16, 10)
    np.testing.assert_array_equal(resample_indices(96, 96), np.arange(96))
    short = resample_indices(40, 96)
    assert short[0] == 0 and short[-1] == 39 and len(np.unique(short)) == 40 and np.all(np.diff(short) >= 0)
    np.testing.assert_array_equal(resample_indices(150, 96), np.linspace(0, 149, 96).astype(int))


@pytest.fixture(scope="module")
def frames96() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(96, 32, 32, 3), dtype=np.uint8)


def test_encoder_96_frames_matches_manual_pipeline(model, frames96):
    enc = I3DClipEncoder(model, size=32, batch_clips=4)
    feats, centre = enc.encode_with_index(frames96, frame_offset=100)
    assert enc.n_clips == 9 and feats.shape == (9, 1024) and feats.dtype == np.float32
    np.testing.assert_array_equal(centre, np.arange(0, 90, 10) + 7 + 100)
    # reference: [0, 1], ImageNet standardisation, clips at 0, 10, ..., 80, pooled Mixed_5c
    x = torch.from_numpy(frames96).permute(3, 0, 1, 2).float() / 255
    x = (x - torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1, 1)) / torch.tensor([0.229, 0.224, 0.225]).view(
        3, 1, 1, 1
    )
    with torch.inference_mode():
        ref = model.extract_features(torch.stack([x[:, s : s + 16] for s in range(0, 81, 10)]))
    # batch composition changes the conv algorithm, so compare with float noise allowed (features are ~10-20)
    np.testing.assert_allclose(feats, ref.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(
        I3DClipEncoder(model, size=32, batch_clips=1).encode(frames96), feats, rtol=1e-4, atol=1e-3
    )


@pytest.mark.parametrize("n", [40, 150])
def test_encoder_short_and_long_inputs_resample_to_96(model, n):
    frames = np.random.default_rng(n).integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    enc = I3DClipEncoder(model, size=32, batch_clips=9)
    feats = enc.encode(frames)
    assert feats.shape == (9, 1024)
    idx = resample_indices(n, 96)
    # encoding N frames == encoding the 96 frames the FineDiving protocol picks from them
    np.testing.assert_array_equal(feats, enc.encode(frames[idx]))
    centre = enc.frame_index(n)
    np.testing.assert_array_equal(centre, (idx[0:81:10] + idx[15:96:10]) // 2)
    assert np.all(np.diff(centre) >= 0) and centre[-1] < n


def test_encoder_resizes_shorter_side_then_centre_crops(model):
    frames = np.random.default_rng(1).integers(0, 256, size=(20, 48, 64, 3), dtype=np.uint8)
    enc = I3DClipEncoder(model, size=32, n_frames=20, clip_len=8, stride=6, mean=(0, 0, 0), std=(1, 1, 1))
    video = enc.preprocess(frames)
    assert video.shape == (3, 20, 32, 32)
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255
    x = F.interpolate(x, size=(32, 43), mode="bilinear", align_corners=False, antialias=True)[..., 5:37]
    torch.testing.assert_close(video, x.permute(1, 0, 2, 3))
    assert enc.encode(frames).shape == (len(clip_starts(20, 8, 6)), 1024) == (3, 1024)
    assert enc.config()["short_side"] == 32


def test_encoder_rejects_bad_frames(model):
    enc = I3DClipEncoder(model, size=32)
    with pytest.raises(ValueError, match="uint8"):
        enc.encode(np.zeros((4, 32, 32, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        enc.encode(np.zeros((0, 32, 32, 3), dtype=np.uint8))
    with pytest.raises(ValueError):
        I3DClipEncoder(model, size=112, short_side=100)
