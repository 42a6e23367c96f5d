"""The two AerialsPose networks and their weights file.

``BoxNet`` finds the athlete in a whole frame (single person): the frame is letterboxed to a square of
``BOX_INPUT`` pixels; the output is a presence logit, a softmax over the cells of a ``BOX_INPUT / 8`` grid (where
the box centre is), the centre's offset inside its cell and the box's log width and height (in input pixels).

``PoseNet`` reads a square crop of ``CROP`` pixels around the athlete (side = ``MARGIN`` x the box's longer side)
and gives, for each of the 19 points of :data:`judgemind.data.skeleton.SKELETON_POINTS`,

    heatmap logits  (B, 19, CROP/2, CROP/2)   -> position by soft-argmax (integral regression), crop pixels
    visibility      (B, 19, 3)                 logits of out of picture / hidden by the body / visible
    world           (B, 19, 3)                 metres relative to the pelvis, world axes (x down the course, z up)

Weights are stored as safetensors (numbers only, never a pickle) with a JSON header (``__metadata__``) holding
the format name, the layout (point names, crop size, margin, widths) and the model card, so a file of another
layout is refused with a clear message instead of a shape error.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import nn
from torch.nn import functional as F

from judgemind.data.skeleton import SKELETON_POINTS
from judgemind.errors import JudgemindError
from judgemind.utils import clean_json, open_regular
from judgemind.utils.atomic import atomic_write_bytes

__all__ = [
    "PoseConfig",
    "PoseNet",
    "BoxNet",
    "AerialsPoseModel",
    "save_weights",
    "load_weights",
    "FORMAT",
    "soft_argmax",
]

FORMAT = "judgemind-aerialspose-1"
N_POINTS = len(SKELETON_POINTS)
# each point's mirror image (left <-> right): mirrored training crops and test-time mirroring
FLIP = np.array(
    [
        SKELETON_POINTS.index(("r_" if n.startswith("l_") else "l_") + n[2:]) if n[:2] in ("l_", "r_") else i
        for i, n in enumerate(SKELETON_POINTS)
    ]
)


@dataclass(frozen=True)
class PoseConfig:
    """Sizes of both networks (stored in the weights file; a file is only loaded into the layout it was saved
    from)."""

    crop: int = 64  # PoseNet input side (pixels)
    margin: float = 1.3  # crop side / the box's longer side
    width: int = 32  # PoseNet base channels
    box_input: int = 96  # BoxNet input side (pixels, letterboxed frame)
    box_width: int = 16  # BoxNet base channels
    points: tuple[str, ...] = field(default=SKELETON_POINTS)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["points"] = list(self.points)
        return d

    @classmethod
    def from_dict(cls, d: dict, where: str) -> "PoseConfig":
        try:
            cfg = cls(
                crop=int(d["crop"]),
                margin=float(d["margin"]),
                width=int(d["width"]),
                box_input=int(d["box_input"]),
                box_width=int(d["box_width"]),
                points=tuple(str(p) for p in d["points"]),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise JudgemindError(
                f"{where}: the AerialsPose layout in the file is incomplete or malformed "
                f"({type(e).__name__}: {str(e)[:80]})"
            ) from None
        if not (
            16 <= cfg.crop <= 512
            and cfg.crop % 8 == 0
            and 32 <= cfg.box_input <= 1024
            and cfg.box_input % 8 == 0
            and 1 <= cfg.width <= 512
            and 1 <= cfg.box_width <= 512
            and 1.0 <= cfg.margin <= 4.0
        ):
            raise JudgemindError(f"{where}: implausible AerialsPose layout {str(cfg.to_dict())[:300]}")
        return cfg


def to_tensor(x: np.ndarray) -> torch.Tensor:
    """uint8 images (B, h, w, 3) -> float32 (B, 3, h, w) in [0, 1] (what the networks take)."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).float().div_(255.0)


def _cbr(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class _Res(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.a, self.b = _cbr(c, c), nn.Sequential(nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        return F.relu(x + self.b(self.a(x)))


def soft_argmax(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Heatmap logits (B, P, h, w) -> expected (x, y) in heatmap cells (cell centres at 0.5, 1.5, ...) (B, P, 2),
    and the softmax probabilities (B, P, h, w)."""
    B, P, h, w = logits.shape
    prob = logits.flatten(2).softmax(-1).view(B, P, h, w)
    xs = torch.arange(w, dtype=prob.dtype, device=prob.device) + 0.5
    ys = torch.arange(h, dtype=prob.dtype, device=prob.device) + 0.5
    x = (prob.sum(2) * xs).sum(-1)
    y = (prob.sum(3) * ys).sum(-1)
    return torch.stack([x, y], -1), prob


class PoseNet(nn.Module):
    """Crop (B, 3, crop, crop) float in [0, 1] -> {"heatmap" (B, P, crop/2, crop/2), "xy" (B, P, 2) crop pixels,
    "visibility" (B, P, 3) logits, "world" (B, P, 3) metres relative to the pelvis}."""

    def __init__(self, cfg: PoseConfig):
        super().__init__()
        w, P = cfg.width, len(cfg.points)
        self.cfg = cfg
        self.stem = nn.Sequential(_cbr(3, w, 2), _cbr(w, w))  # /2
        self.down1 = nn.Sequential(_cbr(w, 2 * w, 2), _Res(2 * w))  # /4
        self.down2 = nn.Sequential(_cbr(2 * w, 4 * w, 2), _Res(4 * w), _Res(4 * w))  # /8
        self.up1 = _cbr(4 * w + 2 * w, 2 * w)  # /4
        self.up2 = _cbr(2 * w + w, w)  # /2
        self.heat = nn.Conv2d(w, P, 1)
        self.glob = nn.Sequential(nn.Flatten(), nn.Linear(4 * w, 256), nn.ReLU(inplace=True))
        self.vis = nn.Linear(256, P * 3)
        self.world = nn.Linear(256, P * 3)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        s = self.stem(x)
        d1 = self.down1(s)
        d2 = self.down2(d1)
        u1 = self.up1(torch.cat([F.interpolate(d2, size=d1.shape[-2:], mode="nearest"), d1], 1))
        u2 = self.up2(torch.cat([F.interpolate(u1, size=s.shape[-2:], mode="nearest"), s], 1))
        heat = self.heat(u2)
        xy, _ = soft_argmax(heat)
        g = self.glob(F.adaptive_avg_pool2d(d2, 1))
        B, P = x.shape[0], heat.shape[1]
        return {
            "heatmap": heat,
            "xy": xy * (x.shape[-1] / heat.shape[-1]),
            "visibility": self.vis(g).view(B, P, 3),
            "world": self.world(g).view(B, P, 3),
        }


class BoxNet(nn.Module):
    """Letterboxed frame (B, 3, S, S) in [0, 1] -> {"present" (B,) logit, "cell" (B, (S/8)^2) logits,
    "offset" (B, 2, S/8, S/8) in cells, "size" (B, 2, S/8, S/8) log of (w, h) / S}."""

    def __init__(self, cfg: PoseConfig):
        super().__init__()
        w = cfg.box_width
        self.body = nn.Sequential(
            _cbr(3, w, 2), _cbr(w, w), _cbr(w, 2 * w, 2), _Res(2 * w), _cbr(2 * w, 4 * w, 2), _Res(4 * w), _Res(4 * w)
        )
        self.cell = nn.Conv2d(4 * w, 1, 1)
        self.reg = nn.Conv2d(4 * w, 4, 1)
        self.present = nn.Linear(4 * w, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.body(x)
        r = self.reg(f)
        return {
            "present": self.present(F.adaptive_avg_pool2d(f, 1).flatten(1))[:, 0],
            "cell": self.cell(f).flatten(1),
            "offset": r[:, :2].sigmoid(),
            "size": r[:, 2:],
        }


class AerialsPoseModel(nn.Module):
    """Both networks and their layout, saved and loaded together."""

    def __init__(self, cfg: PoseConfig | None = None):
        super().__init__()
        self.cfg = cfg or PoseConfig()
        self.pose = PoseNet(self.cfg)
        self.box = BoxNet(self.cfg)


def save_weights(model: AerialsPoseModel, path: str | os.PathLike, card: dict | None = None) -> Path:
    """Write ``model`` as safetensors (atomically) with its layout and model card in the header."""
    meta = {
        "format": FORMAT,
        "layout": json.dumps(model.cfg.to_dict()),
        "card": json.dumps(clean_json(card or {}), allow_nan=False),
    }
    tensors = {
        k: v.detach().to(torch.float32).contiguous() if v.is_floating_point() else v.detach().contiguous()
        for k, v in model.state_dict().items()
    }
    path = Path(path)
    atomic_write_bytes(path, save(tensors, metadata=meta))
    return path


MAX_HEADER_BYTES = 1 << 20  # the JSON header of a weights file (the shipped one: 15 KB, its model card included)
FLOAT_DTYPES = ("F16", "BF16", "F32", "F64")  # safetensors names; float tensors are loaded as float32
INT_DTYPES = ("I64", "I32")  # BatchNorm's step counters
DTYPE_BYTES = {"F16": 2, "BF16": 2, "F32": 4, "F64": 8, "I64": 8, "I32": 4}


def read_safetensors_header(path: str | os.PathLike, what: str, max_header: int = MAX_HEADER_BYTES) -> tuple[dict, int]:
    """(the JSON header, bytes of data after it) of a safetensors file, reading nothing but the header: a regular
    file, a header of at most ``max_header`` bytes that fits inside the file and is a JSON object whose
    ``__metadata__`` (if any) is an object; else a :class:`JudgemindError` "PATH: not a readable WHAT ..."."""
    with open_regular(path, what) as fh:
        size = os.fstat(fh.fileno()).st_size
        raw = fh.read(8)
        n = int.from_bytes(raw, "little") if len(raw) == 8 else -1
        if n < 2 or n > max_header or 8 + n > size:
            why = (
                "shorter than a header"
                if n < 0
                else f"its header declares {n} bytes"
                + (f" (at most {max_header})" if n > max_header else f" in a file of {size}")
            )
            raise JudgemindError(f"{path}: not a readable {what} (not a safetensors file: {why})")
        text = fh.read(n)
    try:
        header = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise JudgemindError(
            f"{path}: not a readable {what} (its safetensors header is not JSON: {type(e).__name__})"
        ) from None
    if not isinstance(header, dict) or not isinstance(header.get("__metadata__", {}), dict):
        raise JudgemindError(f"{path}: not a readable {what} (its safetensors header is not an object)")
    return header, size - 8 - n


def _layout_of(path: Path, header: dict) -> tuple[PoseConfig, dict]:
    """The layout and model card in a weights file's ``__metadata__``, checked."""
    meta = header.get("__metadata__") or {}
    if meta.get("format") != FORMAT:
        raise JudgemindError(
            f"{path}: not an AerialsPose weights file (format {str(meta.get('format'))[:40]!r}, "
            f"expected {FORMAT!r}); train one with `judgemind pose train`"
        )
    try:
        layout = json.loads(meta.get("layout", ""))
        card = json.loads(meta.get("card", "{}"))
    except (ValueError, TypeError, RecursionError) as e:
        raise JudgemindError(f"{path}: the AerialsPose header is not valid JSON ({type(e).__name__})") from None
    cfg = PoseConfig.from_dict(layout if isinstance(layout, dict) else {}, str(path))
    if cfg.points != SKELETON_POINTS:
        raise JudgemindError(
            f"{path}: weights for the points {list(cfg.points)[:20]}; this version of judgemind "
            f"reads the 19-point skeleton {list(SKELETON_POINTS)}"
        )
    return cfg, card if isinstance(card, dict) else {}


def _check_tensors(path: Path, header: dict, data_bytes: int, cfg: PoseConfig) -> None:
    """The tensors the header declares are exactly those of ``cfg``'s networks: names, shapes, float or integer
    types, and their bytes are the file's (the networks are built on the meta device: nothing is allocated)."""
    with torch.device("meta"):
        want = AerialsPoseModel(cfg).state_dict()
    declared = {k: v for k, v in header.items() if k != "__metadata__"}
    missing = sorted(set(want) - set(declared))
    extra = sorted(set(declared) - set(want))
    bad, wrong_type, need = [], [], 0
    for k in sorted(set(want) & set(declared)):
        d = declared[k]
        shape = d.get("shape") if isinstance(d, dict) else None
        dtype = d.get("dtype") if isinstance(d, dict) else None
        if not isinstance(shape, list) or [int(x) if isinstance(x, int) else -1 for x in shape] != list(want[k].shape):
            bad.append(k)
            continue
        if dtype not in (FLOAT_DTYPES if want[k].is_floating_point() else INT_DTYPES):
            wrong_type.append(f"{k} {str(dtype)[:10]}")
            continue
        need += want[k].numel() * DTYPE_BYTES[dtype]
    if missing or extra or bad:
        what = "; ".join(
            x
            for x in (
                f"missing {missing[:3]}" if missing else "",
                f"unexpected {extra[:3]}" if extra else "",
                f"wrong shape {bad[:3]}" if bad else "",
            )
            if x
        )
        raise JudgemindError(f"{path}: the tensors do not match the AerialsPose layout in its header ({what})")
    if wrong_type:
        raise JudgemindError(
            f"{path}: tensors of the wrong type ({', '.join(wrong_type[:3])}): weights are floats "
            f"(F16, BF16, F32, F64), BatchNorm counters integers (a corrupt or converted file)"
        )
    if need != data_bytes:
        raise JudgemindError(
            f"{path}: its header declares {need} bytes of tensors but the file holds {data_bytes} "
            f"(a truncated or padded file)"
        )


def load_weights(path: str | os.PathLike) -> tuple[AerialsPoseModel, dict]:
    """(model in eval mode, model card) from a weights file written by :func:`save_weights`.

    Refuses, naming the file: a missing file or one that is not a regular file, a file that is not safetensors,
    another format, a layout other than the 19-point skeleton, tensors that do not match the layout (names,
    shapes, float or integer types, sizes), NaN or infinite weights. Only the header is read until all of that is
    checked: no allocation follows from what a file declares; the tensors are then read one by one from a memory
    map."""
    path = Path(path)
    header, data_bytes = read_safetensors_header(path, "AerialsPose weights file")
    cfg, card = _layout_of(path, header)
    _check_tensors(path, header, data_bytes, cfg)
    model = AerialsPoseModel(cfg)
    state = {}
    try:
        with safe_open(str(path), framework="pt") as fh:
            for k, want in model.state_dict().items():
                t = fh.get_tensor(k)
                if t.is_floating_point() and not torch.isfinite(t).all():
                    raise JudgemindError(f"{path}: tensor {k!r} holds NaN or infinite values (a corrupt file)")
                state[k] = t.to(want.dtype)
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise JudgemindError(
            f"{path}: not an AerialsPose weights file (not a readable safetensors file: {str(e)[:200]})"
        ) from None
    model.load_state_dict(state)
    model.eval()
    return model, card
