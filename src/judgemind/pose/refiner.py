"""The temporal refiner: a skeleton track in, a cleaner one out, whatever estimator made it.

A per-frame estimator's error is heavy-tailed (a few frames hold most of the large errors: a swapped side, a ski
read as a leg, a lost hand) and nothing in a single frame can tell such a frame from a real pose. Over time it can:
the body moves smoothly, its limbs keep their lengths, the camera's motion and the flight's physics tie the frames
together. The refiner reads the whole track (T steps) and gives, per step,

    refined 2D points      as a correction of the input in its own normalised frame (centre and side of the
                           extent of the in-picture points), so a good frame stays as it was
    visibility             out of picture / hidden / visible
    pelvis-relative 3D     metres, world axes (lifted from the 2D sequence; the input's 3D, where it has one, is
                           one of its inputs)
    the trajectory         the pelvis's world position (x down the course, y across, z up), metres

Network: a per-step input projection, a dilated temporal convolution stack (local motion), two transformer layers
(the whole jump: where the flight starts and ends), linear heads. Inputs per step (``input_features``): the
normalised points, their confidence and visible flag, the input's 3D pose and trajectory with "known" flags, the
box's place and size in the frame, the camera's motion and its confidence, cut, found and detector flags, the
step's time. Trained by ``judgemind pose train-refiner`` (:mod:`judgemind.pose.refine_train`) on (estimate, truth)
pairs with estimator-like corruptions, with losses on the points *and* on what a judge reads from them (joint
angles, leg and ski separation), so that it does not learn the average body (docs/pose.md, "The temporal refiner").

Weights: safetensors with the layout and model card in the header (format ``judgemind-refiner-1``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load, save
from torch import nn

from judgemind.data.skeleton import OUT_OF_FRAME, SKELETON_POINTS
from judgemind.data.track import N_POINTS, SkeletonTrack, point_extent
from judgemind.errors import JudgemindError
from judgemind.pose.net import read_safetensors_header
from judgemind.rules.names import DEFAULT_FPS
from judgemind.utils.atomic import atomic_write_bytes, sha256_file

__all__ = [
    "RefinerConfig",
    "RefinerNet",
    "Refiner",
    "load_refiner",
    "save_refiner",
    "refiner_sha256",
    "shipped_refiner",
    "input_features",
    "reference_frame",
    "check_points",
    "POINTS",
    "IN_DIM",
    "FORMAT",
]

FORMAT = "judgemind-refiner-1"
WEIGHTS_NAME = "refiner_v1.safetensors"
TRAJ_SCALE = 10.0  # metres per unit of the trajectory head
IN_DIM = N_POINTS * 2 + N_POINTS * 2 + N_POINTS * 3 + 1 + 3 + 1 + 3 + 1 + 4 + 3 + 2 + 1
_PELVIS = SKELETON_POINTS.index("pelvis")


@dataclass(frozen=True)
class RefinerConfig:
    width: int = 128
    conv_blocks: int = 4  # dilations 1, 2, 4, 8
    attn_layers: int = 2
    heads: int = 4
    points: tuple[str, ...] = SKELETON_POINTS

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["points"] = list(self.points)
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str) -> "RefinerConfig":
        if not isinstance(d, dict):
            raise JudgemindError(f"{where}: the refiner layout in the header is not an object")
        try:
            cfg = cls(
                width=int(d["width"]),
                conv_blocks=int(d["conv_blocks"]),
                attn_layers=int(d["attn_layers"]),
                heads=int(d["heads"]),
                points=tuple(str(p) for p in d["points"]),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as e:
            raise JudgemindError(
                f"{where}: the refiner layout in the header is incomplete or malformed "
                f"({type(e).__name__}: {str(e)[:80]})"
            ) from None
        if not (
            8 <= cfg.width <= 1024
            and 0 <= cfg.conv_blocks <= 12
            and 0 <= cfg.attn_layers <= 12
            and 1 <= cfg.heads <= 32
            and cfg.width % cfg.heads == 0
        ):
            raise JudgemindError(f"{where}: refiner layout out of range ({str(cfg.to_dict())[:300]})")
        if cfg.points != SKELETON_POINTS:
            raise JudgemindError(
                f"{where}: a refiner for the points {list(cfg.points)}; this judgemind reads the 19-point skeleton"
            )
        return cfg


# ---------------------------------------------------------------------------------------------------------------
# inputs


def reference_frame(
    uv: np.ndarray, inside: np.ndarray, box: np.ndarray, shots: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per step the centre (T, 2) and side (T,) of the extent of the in-picture points (the track's box where fewer
    than two points are in the picture), median-filtered over 5 steps inside each camera shot: the frame the
    refiner's points are expressed in. The filter keeps one noisy frame from moving the frame of its neighbours,
    so that points of consecutive steps can be compared."""
    T = len(uv)
    ext = point_extent(uv, inside, min_points=2)
    ext = np.where(np.isnan(ext), np.asarray(box, np.float64), ext)
    lo, hi = ext[:, :2], ext[:, 2:]
    c = (lo + hi) / 2
    s = np.maximum(np.max(hi - lo, axis=1), 1.0)
    shots = np.zeros(T, np.int64) if shots is None else np.asarray(shots)
    cs, ls = c.copy(), np.log(s)
    for sh in np.unique(shots):
        rows = np.flatnonzero(shots == sh)
        for k, r in enumerate(rows):
            win = rows[max(0, k - 2) : k + 3]
            cs[r] = np.median(c[win], axis=0)
            ls[r] = np.median(np.log(s[win]))
    return cs, np.exp(ls)


def input_features(track: SkeletonTrack) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, IN_DIM) float32 inputs of a track, and its reference frame (centre (T, 2), side (T,)) in pixels."""
    T = len(track)
    W, H = (float(v) for v in track.frame_size)
    uv = np.nan_to_num(np.asarray(track.uv, np.float64))
    inside = track.in_picture
    box = np.nan_to_num(np.asarray(track.box, np.float64))
    c, s = reference_frame(uv, inside, box, track.shots())
    norm = np.where(inside[..., None], (uv - c[:, None]) / s[:, None, None], 0.0)
    vis = np.asarray(track.visibility)
    has3d = track.world_rel is not None and np.isfinite(track.world_rel).all()
    w3 = np.asarray(track.world_rel, np.float64) if has3d else np.zeros((T, N_POINTS, 3))
    hastraj = track.trajectory is not None and np.isfinite(track.trajectory).all()
    traj = np.asarray(track.trajectory, np.float64) / TRAJ_SCALE if hastraj else np.zeros((T, 3))
    frames = np.asarray(track.frames, np.float64)
    fps = float(track.fps or DEFAULT_FPS)
    dt = np.diff(frames, prepend=frames[:1]) / fps
    prev = np.concatenate([[0], np.arange(T - 1)])
    parts = [
        norm.reshape(T, -1),
        np.asarray(track.confidence, np.float64),
        (vis == 2).astype(np.float64),
        w3.reshape(T, -1),
        np.full((T, 1), float(has3d)),
        traj,
        np.full((T, 1), float(hastraj)),
        np.stack([c[:, 0] / W, c[:, 1] / H, s / H], -1),
        np.log(s / s[prev])[:, None],
        np.asarray(track.camera, np.float64) * np.array([10.0, 10.0, 10.0, 1.0]),
        np.stack(
            [
                track.cut_before().astype(np.float64),
                np.asarray(track.found, np.float64),
                np.asarray(track.detector, np.float64),
            ],
            -1,
        ),
        np.stack([np.arange(T) / max(T - 1, 1), (frames - frames[0]) / fps / 5.0], -1),
        dt[:, None] * 10,
    ]
    x = np.concatenate(parts, axis=1)
    return np.clip(np.nan_to_num(x), -20, 20).astype(np.float32), c, s


# ---------------------------------------------------------------------------------------------------------------
# the network


class _ConvBlock(nn.Module):
    def __init__(self, w: int, dilation: int):
        super().__init__()
        self.conv = nn.Conv1d(w, w, 3, padding=dilation, dilation=dilation)
        self.mix = nn.Conv1d(w, w, 1)
        self.norm = nn.GroupNorm(8 if w % 8 == 0 else 1, w)

    def forward(self, x):
        return x + self.mix(torch.relu(self.norm(self.conv(x))))


class RefinerNet(nn.Module):
    """(B, T, IN_DIM) inputs -> dict of per-step outputs: ``d_uv`` (B, T, 19, 2) correction of the normalised
    points, ``vis`` (B, T, 19, 3) logits, ``world`` (B, T, 19, 3) metres pelvis-relative, ``traj`` (B, T, 3)
    metres."""

    def __init__(self, cfg: RefinerConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or RefinerConfig()
        w = cfg.width
        self.inp = nn.Sequential(nn.Linear(IN_DIM, w), nn.ReLU(), nn.Linear(w, w))
        self.convs = nn.ModuleList([_ConvBlock(w, 2 ** (i % 4)) for i in range(cfg.conv_blocks)])
        layer = nn.TransformerEncoderLayer(w, cfg.heads, 2 * w, dropout=0.0, batch_first=True)
        self.attn = (
            nn.TransformerEncoder(layer, cfg.attn_layers, enable_nested_tensor=False) if cfg.attn_layers else None
        )
        self.out = nn.Linear(w, N_POINTS * 2 + N_POINTS * 3 + N_POINTS * 3 + 3)
        nn.init.zeros_(self.out.weight)  # starts as the identity on the points
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        B, T, _ = x.shape
        h = self.inp(x).transpose(1, 2)
        for blk in self.convs:
            h = blk(h)
        h = h.transpose(1, 2)
        if self.attn is not None:
            h = self.attn(h)
        o = self.out(h)
        n = N_POINTS
        d_uv = o[..., : 2 * n].reshape(B, T, n, 2)
        # visibility as a correction of the input's own classes (so an untrained refiner is the identity)
        conf, visible = x[..., 2 * n : 3 * n], x[..., 3 * n : 4 * n]
        prior = torch.stack(
            [
                (conf < 0.5).float(),
                ((conf >= 0.5) & (visible < 0.5)).float(),
                ((conf >= 0.5) & (visible >= 0.5)).float(),
            ],
            -1,
        )
        vis = o[..., 2 * n : 5 * n].reshape(B, T, n, 3) + 3.0 * prior
        world = o[..., 5 * n : 8 * n].reshape(B, T, n, 3)
        has3d = x[..., 4 * n + 3 * n : 4 * n + 3 * n + 1].unsqueeze(-1)  # the input's own 3D, where it has one
        world = world + has3d * x[..., 4 * n : 4 * n + 3 * n].reshape(B, T, n, 3)
        base = 7 * n + 1  # the input's trajectory, where known
        traj = (o[..., 8 * n : 8 * n + 3] + x[..., base + 3 : base + 4] * x[..., base : base + 3]) * TRAJ_SCALE
        return {"d_uv": d_uv, "vis": vis, "world": world, "traj": traj}


# ---------------------------------------------------------------------------------------------------------------
# applying it


class Refiner:
    """A loaded refiner: ``refiner(track)`` -> the refined :class:`SkeletonTrack` (same frames, cuts, box,
    camera; ``source`` "refined(<input source>)")."""

    def __init__(self, net: RefinerNet, card: dict | None = None, path: Path | None = None):
        self.net, self.card, self.path = net.eval(), card or {}, path

    @torch.no_grad()
    def __call__(self, track: SkeletonTrack, *, points: str = "refined", trajectory: bool = True) -> SkeletonTrack:
        """``points="raw"`` keeps the input's own 2D points, visibility and confidence beside the refined 3D pose
        and trajectory; ``trajectory=False`` leaves the trajectory out (None)."""
        check_points(points, "refiner")
        if len(track) == 0:
            return track
        x, c, s = input_features(track)
        out = self.net(torch.from_numpy(x)[None])
        norm = np.where(track.in_picture[..., None], (np.nan_to_num(track.uv) - c[:, None]) / s[:, None, None], 0.0)
        refined = norm + out["d_uv"][0].numpy().astype(np.float64)
        uv = refined * s[:, None, None] + c[:, None]
        prob = torch.softmax(out["vis"][0], -1).numpy()
        vis = prob.argmax(-1).astype(np.int8)
        # a point the input had in the picture keeps its refined position; one it lacked (a ski MediaPipe does not
        # give, a dropped joint) gets the refiner's estimate when the refiner says it is in the picture
        out2d = (
            {}
            if points == "raw"
            else {
                "uv": uv.astype(np.float32),
                "visibility": vis,
                "confidence": (1.0 - prob[..., OUT_OF_FRAME]).astype(np.float32),
            }
        )
        return replace(
            track,
            **out2d,
            world_rel=out["world"][0].numpy().astype(np.float32),
            trajectory=out["traj"][0].numpy().astype(np.float32) if trajectory else None,
            source=f"refined({track.source})",
        )


POINTS = ("refined", "raw")


def check_points(points: str, where: str) -> str:
    """The ``points`` option of the extractors that refine: ``refined`` or ``raw`` (a clear error otherwise)."""
    if points not in POINTS:
        raise JudgemindError(f"{where}: points must be 'refined' or 'raw', got {points!r}")
    return points


def shipped_refiner() -> Path:
    return Path(str(resources.files("judgemind.pose").joinpath("weights", WEIGHTS_NAME)))


def _path(weights: str | os.PathLike | None) -> Path:
    """The refiner file: ``weights``, or the shipped one for None, "" or "shipped"."""
    shipped = weights in (None, "", "shipped")
    path = shipped_refiner() if shipped else Path(weights)
    if not path.exists():
        if not shipped:
            raise JudgemindError(f"{path}: refiner weights file not found")
        raise JudgemindError(
            f"{path}: the shipped refiner weights are missing from this installation; reinstall "
            f"judgemind or pass a refiner file (train one: judgemind pose train-refiner)"
        )
    if not path.is_file():
        raise JudgemindError(f"{path}: refiner weights: not a regular file")
    return path


def refiner_sha256(weights: str | os.PathLike | None = None) -> str:

    return sha256_file(_path(weights))


def save_refiner(net: RefinerNet, path: str | os.PathLike, card: dict | None = None) -> Path:
    """Write the refiner as safetensors (atomically) with its layout and model card in the header."""

    meta = {"format": FORMAT, "layout": json.dumps(net.cfg.to_dict()), "card": json.dumps(card or {})}
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in net.state_dict().items()}
    path = Path(path)
    atomic_write_bytes(path, save(tensors, metadata=meta))
    return path


MAX_BYTES = 64 * 1024 * 1024
MAX_HEADER = 1024 * 1024


def load_refiner(weights: str | os.PathLike | None = None) -> Refiner:
    """A :class:`Refiner` from a file written by :func:`save_refiner` (default: the shipped weights). Refuses,
    naming the file: not a regular file, too large, not safetensors, another format or layout, tensors that do not
    match the layout (checked from the header before any tensor is read), integer or non-finite tensors."""

    path = _path(weights)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise JudgemindError(f"{path}: {size} bytes is too large for refiner weights (limit {MAX_BYTES})")
    header, _ = read_safetensors_header(path, "refiner weights file", MAX_HEADER)
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise JudgemindError(
            f"{path}: not a refiner weights file (format "
            f"{(meta or {}).get('format') if isinstance(meta, dict) else None!r}, expected "
            f"{FORMAT!r}); train one with `judgemind pose train-refiner`"
        )
    try:
        layout, card = json.loads(meta.get("layout", "")), json.loads(meta.get("card", "{}"))
    except (ValueError, TypeError, RecursionError) as e:
        raise JudgemindError(f"{path}: the refiner header is not valid JSON ({type(e).__name__})") from None
    cfg = RefinerConfig.from_dict(layout, str(path))
    with torch.device("meta"):  # the layout's shapes, nothing allocated before the header is checked
        want = {k: list(v.shape) for k, v in RefinerNet(cfg).state_dict().items()}
    got = {k: v for k, v in header.items() if k != "__metadata__"}
    bad = sorted(
        k
        for k in set(want) | set(got)
        if k not in want
        or k not in got
        or not isinstance(got[k], dict)
        or got[k].get("shape") != want[k]
        or got[k].get("dtype") != "F32"
    )
    if bad:
        raise JudgemindError(
            f"{path}: the tensors do not match the refiner layout in its header (e.g. {bad[:3]}: "
            f"missing, unexpected, of another shape or not float32)"
        )
    net = RefinerNet(cfg)
    try:
        tensors = load(path.read_bytes())
    except (SafetensorError, ValueError, OSError) as e:
        raise JudgemindError(f"{path}: damaged refiner weights ({e})") from None
    for k, v in tensors.items():
        if not torch.isfinite(v).all():
            raise JudgemindError(f"{path}: tensor {k!r} holds NaN or infinite values (a corrupt file)")
    net.load_state_dict(tensors)
    return Refiner(net, card if isinstance(card, dict) else {}, path)
