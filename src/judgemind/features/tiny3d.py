"""``tiny3d``: a small 3D CNN in plain PyTorch -- the demo's default backbone, fast on a CPU.

One network (:class:`Tiny3D`, config :class:`Tiny3DConfig`) encodes short clips ``(B, 3, L, S, S)`` into
``(B, dim)`` vectors. Per time step the extractor feeds it two clips of ``clip_len`` frames (``frame_step`` apart)
centred on the step frame: the whole frame (letterboxed to a square) -> GLOBAL token, and a square crop around the
athlete box -> FOREGROUND token. Weights are a deterministic random initialisation from ``seed`` or a safetensors
file (e.g. trained end-to-end by ``judgemind train --end-to-end --backbone tiny3d``).

Shared with end-to-end training (same sampling, crops and normalisation as extraction):

    clips = record_clips(ds.video_path(rec), rec, Tiny3DConfig(), steps=32, locator="annotation")
    clips["global"], clips["foreground"]      # float32 torch tensors (T, 3, L, S, S), normalised
    model = Tiny3D(Tiny3DConfig()); tokens = model(clips["foreground"])      # (T, dim)
    save_tiny3d(model, "tiny3d.safetensors"); model, info = load_tiny3d("tiny3d.safetensors")

Layers: stem Conv3d (3x5x5, spatial stride 2) then one Conv3d 3x3x3 block per further entry of ``channels``
(strides (2,2,2), (2,2,2), (1,2,2), ...), each followed by GroupNorm and ReLU (per-sample normalisation, so tiny
batches behave the same in training and extraction), global average pooling and a linear projection to ``dim``
(identity when ``dim == channels[-1]``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from judgemind.errors import CheckpointError, JudgemindError
from judgemind.features.base import Extractor, Frames, Plan, clip_frames, register_extractor
from judgemind.features.pipeline import load_frames, step_boxes
from judgemind.utils import not_a_file_reason
from judgemind.utils.atomic import atomic_path, sha256_file
from judgemind.video.crop import letterbox, square_crop
from judgemind.video.decode import sample_indices
from judgemind.video.locators import Locator, get_locator

__all__ = [
    "Tiny3DConfig",
    "Tiny3D",
    "Tiny3DExtractor",
    "plan_clips",
    "clips_from_frames",
    "record_clips",
    "to_tensor",
    "load_tiny3d",
    "save_tiny3d",
    "DEFAULT_STEPS",
]

DEFAULT_STEPS = 32
FORMAT = "judgemind-tiny3d"
_PREFIXES = ("module.", "backbone.", "tiny3d.", "model.")


@dataclass(frozen=True)
class Tiny3DConfig:
    """Architecture and clip sampling (everything a trained file must be used with).

    ``in_size``: side of the square clips; ``clip_len`` frames ``frame_step`` apart per step; ``channels`` per
    block; ``dim`` output size; ``margin`` athlete crop side / longer box side; ``seed`` of the random init;
    ``mean``/``std`` pixel normalisation (on [0, 1])."""

    in_size: int = 64
    clip_len: int = 8
    frame_step: int = 2
    channels: tuple[int, ...] = (16, 32, 64, 128)
    dim: int = 128
    margin: float = 1.25
    seed: int = 0
    mean: float = 0.45
    std: float = 0.225

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))
        if (
            self.in_size < 16
            or self.clip_len < 1
            or self.frame_step < 1
            or self.dim < 1
            or not self.channels
            or min(self.channels) < 1
            or self.margin < 1
            or self.std <= 0
        ):
            raise JudgemindError(
                f"invalid Tiny3DConfig {self}: need in_size >= 16, clip_len, frame_step, dim, "
                f"channels >= 1, margin >= 1, std > 0"
            )

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Tiny3DConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise JudgemindError(
                f"unknown Tiny3DConfig fields {', '.join(unknown)} (known: {', '.join(sorted(names))})"
            )
        return cls(**dict(d))


def _groups(c: int) -> int:
    for g in (8, 4, 2):
        if c % g == 0:
            return g
    return 1


class Tiny3D(nn.Module):
    """Clips ``(B, 3, L, S, S)`` float (normalised, see :func:`to_tensor`) -> ``(B, dim)``."""

    def __init__(self, config: Tiny3DConfig | None = None):
        super().__init__()
        self.config = config or Tiny3DConfig()
        ch = self.config.channels
        with torch.random.fork_rng(devices=[]):  # the layers' default init must not consume the global RNG
            self._build(ch)
        self.reset_parameters(self.config.seed)

    def _build(self, ch: tuple[int, ...]) -> None:
        layers: list[nn.Module] = [
            nn.Conv3d(3, ch[0], (3, 5, 5), stride=(1, 2, 2), padding=(1, 2, 2), bias=False),
            nn.GroupNorm(_groups(ch[0]), ch[0]),
            nn.ReLU(inplace=True),
        ]
        for k in range(1, len(ch)):
            stride = (2, 2, 2) if k in (1, 2) else (1, 2, 2)
            layers += [
                nn.Conv3d(ch[k - 1], ch[k], 3, stride=stride, padding=1, bias=False),
                nn.GroupNorm(_groups(ch[k]), ch[k]),
                nn.ReLU(inplace=True),
            ]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.proj = nn.Identity() if self.config.dim == ch[-1] else nn.Linear(ch[-1], self.config.dim)

    def reset_parameters(self, seed: int) -> None:
        """Deterministic init from ``seed`` (own generator; the global RNG is untouched)."""
        g = torch.Generator().manual_seed(int(seed))
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=g)
            elif isinstance(m, nn.GroupNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 1.0 / np.sqrt(m.in_features), generator=g)
                nn.init.zeros_(m.bias)

    @property
    def dim(self) -> int:
        return self.config.dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5 or x.shape[1] != 3:
            raise ValueError(f"Tiny3D expects (B, 3, L, H, W) clips, got {tuple(x.shape)}")
        return self.proj(self.pool(self.features(x)).flatten(1))


# ---------------------------------------------------------------------------------------------------------------
# clips (shared by extraction and end-to-end training)


def plan_clips(start: int, end: int, steps: int, config: Tiny3DConfig) -> Plan:
    """Steps uniform over ``[start, end)``; a clip of ``clip_len`` frames around each; locate on the steps."""
    centres = sample_indices(start, end, steps)
    clips = clip_frames(centres, start, end, config.clip_len, config.frame_step)
    return Plan(steps=centres, decode=np.unique(clips), locate=np.unique(centres), extra={"clips": clips})


def to_tensor(clips: np.ndarray, config: Tiny3DConfig) -> torch.Tensor:
    """uint8 ``(T, L, S, S, 3)`` -> float32 ``(T, 3, L, S, S)``, ``(x / 255 - mean) / std``."""
    x = torch.from_numpy(np.ascontiguousarray(clips)).permute(0, 4, 1, 2, 3).float()
    return x.div_(255.0).sub_(config.mean).div_(config.std)


def clips_from_frames(frames: Frames, plan: Plan, config: Tiny3DConfig) -> tuple[np.ndarray, np.ndarray]:
    """uint8 clips ``(T, L, S, S, 3)`` (global: letterboxed frames; foreground: athlete crops, each frame cut with
    its own box)."""
    S = config.in_size
    idx = plan.extra["clips"]
    uniq = np.unique(idx)
    whole = {int(i): letterbox(frames.images[int(i)], S) for i in uniq}
    crop = {int(i): square_crop(frames.images[int(i)], frames.boxes[int(i)], config.margin, S) for i in uniq}
    g = np.stack([np.stack([whole[int(i)] for i in row]) for row in idx])
    f = np.stack([np.stack([crop[int(i)] for i in row]) for row in idx])
    return g, f


def record_clips(
    video_path: str | os.PathLike,
    record,
    config: Tiny3DConfig | None = None,
    *,
    steps: int = DEFAULT_STEPS,
    locator: Any = "annotation",
    short_side: int = 256,
    threads: int = 0,
) -> dict[str, Any]:
    """One record as Tiny3D input, exactly as ``judgemind extract --extractor tiny3d`` sees it.

    Returns ``{"global": (T, 3, L, S, S) float32 tensor, "foreground": same, "frame_index": (T,) int64 array,
    "box": (T, 4) float32 array (video pixels)}``. ``locator`` is a name or a :class:`Locator`.
    """

    config = config or Tiny3DConfig()
    loc = locator if isinstance(locator, Locator) else get_locator(locator)
    start, end = (int(v) for v in record.frames)
    plan = plan_clips(start, end, steps, config)
    frames = load_frames(video_path, plan, loc, record=record, short_side=short_side, threads=threads)
    g, f = clips_from_frames(frames, plan, config)
    box = step_boxes(frames, plan.steps, tuple(getattr(record, "cuts", ()) or ()))[0] / np.float32(frames.scale)
    return {
        "global": to_tensor(g, config),
        "foreground": to_tensor(f, config),
        "frame_index": np.asarray(plan.steps, np.int64),
        "box": box,
    }


# ---------------------------------------------------------------------------------------------------------------
# weights files


def save_tiny3d(model: Tiny3D, path: str | os.PathLike) -> None:
    """Write ``model`` as safetensors with its config in the metadata (atomic)."""

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "tiny3d_config": json.dumps(model.config.to_dict())}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata=meta)


def _read(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any] | None]:
    if path.suffix == ".safetensors":
        try:
            with safe_open(str(path), framework="pt") as fh:
                meta = fh.metadata() or {}
            state = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as e:
            raise CheckpointError(f"cannot read tiny3d weights {path} as safetensors: {e}") from e
        cfg = json.loads(meta["tiny3d_config"]) if "tiny3d_config" in meta else None
        return state, cfg
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch.load raises many types for unreadable files
        raise CheckpointError(
            f"cannot read tiny3d weights {path}: {type(e).__name__}: {e}; save them with "
            f"judgemind.features.tiny3d.save_tiny3d (.safetensors)"
        ) from e
    cfg = None
    if isinstance(obj, Mapping) and not all(isinstance(v, torch.Tensor) for v in obj.values()):
        c = obj.get("tiny3d_config")
        cfg = dict(c) if isinstance(c, Mapping) else None
        for key in ("state_dict", "model", "backbone"):
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"tiny3d weights {path} are not a state_dict (name -> tensor)")
    return dict(obj), cfg


def _strip(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    for p in _PREFIXES:
        if state and all(k.startswith(p) for k in state):
            return _strip({k[len(p) :]: v for k, v in state.items()})
    return state


def _listing(what: str, keys: list[str], limit: int = 8) -> str:
    more = f", ... ({len(keys) - limit} more)" if len(keys) > limit else ""
    return f"{len(keys)} {what}: {', '.join(keys[:limit])}{more}"


def load_tiny3d(path: str | os.PathLike, config: Tiny3DConfig | None = None) -> tuple[Tiny3D, dict[str, Any]]:
    """Load a Tiny3D weights file (safetensors from :func:`save_tiny3d`, or a torch state_dict; ``module.`` /
    ``backbone.`` prefixes are removed). The config stored in the file wins; ``config`` is used for files without
    one. Returns ``(model in eval mode, {"sha256", "path", "config"})``.

    Raises:
        CheckpointError: missing/unreadable file, or another architecture -- the message lists the missing and
            unexpected keys and shape mismatches.
    """

    path = Path(path)
    why = not_a_file_reason(path)
    if why:
        raise CheckpointError(f"tiny3d weights {path} {why}")
    state, cfg_dict = _read(path)
    state = _strip(state)
    cfg = Tiny3DConfig.from_dict(cfg_dict) if cfg_dict else (config or Tiny3DConfig())
    model = Tiny3D(cfg)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = sorted(
        f"{k} {list(state[k].shape)} (expected {list(expected[k].shape)})"
        for k in set(state) & set(expected)
        if state[k].shape != expected[k].shape
    )
    if missing or unexpected or shapes:
        parts = [
            _listing(w, ks)
            for w, ks in (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", shapes))
            if ks
        ]
        raise CheckpointError(
            f"{path} does not hold Tiny3D weights for {cfg}: {'; '.join(parts)}. Is it a "
            f"checkpoint of another architecture (e.g. I3D -> --extractor i3d)?"
        )
    model.load_state_dict(state, strict=True)
    model.eval()
    return model, {"sha256": sha256_file(path), "path": str(path), "config": cfg}


# ---------------------------------------------------------------------------------------------------------------
# the extractor


@register_extractor
class Tiny3DExtractor(Extractor):
    """``tiny3d``: Tiny3D on whole-frame and athlete-crop clips around each of ``steps`` uniform steps.

    Options: ``weights`` (optional safetensors), ``steps`` (T, default 32), ``short_side`` (decode size), any
    :class:`Tiny3DConfig` field (``in_size``, ``clip_len``, ``frame_step``, ``channels``, ``dim``, ``margin``,
    ``seed``); with ``weights`` the file's config is used and conflicting fields are an error. ``batch``: clips per
    forward pass (no effect on the numbers).
    """

    name = "tiny3d"
    description = "small 3D CNN (plain PyTorch); seeded random init or trained weights; CPU-fast demo default"
    weights_kind = "optional file"
    requires = ("torch", "av", "cv2")
    dims_text = "dim / dim (default 128 / 128)"

    def __init__(
        self,
        weights: str | None = None,
        steps: int | None = None,
        short_side: int = 256,
        batch: int = 32,
        in_size: int | None = None,
        clip_len: int | None = None,
        frame_step: int | None = None,
        channels: Any = None,
        dim: int | None = None,
        margin: float | None = None,
        seed: int | None = None,
    ):
        if channels is not None and (
            not isinstance(channels, (list, tuple))
            or not 1 <= len(channels) <= 8
            or not all(isinstance(c, int) and not isinstance(c, bool) and 1 <= c <= 1024 for c in channels)
        ):
            raise JudgemindError(
                f"tiny3d: channels must be a list of 1 to 8 widths in [1, 1024], e.g. [8,16], got {str(channels)[:40]}"
            )
        over = {
            k: v
            for k, v in dict(
                in_size=in_size,
                clip_len=clip_len,
                frame_step=frame_step,
                channels=tuple(channels) if channels is not None else None,
                dim=dim,
                margin=margin,
                seed=seed,
            ).items()
            if v is not None
        }
        self.sha256 = None
        if weights:
            self.model, info = load_tiny3d(weights)
            cfg = info["config"]
            clash = {k: (v, getattr(cfg, k)) for k, v in over.items() if k != "seed" and getattr(cfg, k) != v}
            if clash:
                raise CheckpointError(
                    f"{weights} was trained with "
                    + ", ".join(f"{k}={old!r}" for k, (_, old) in clash.items())
                    + "; drop the conflicting options ("
                    + ", ".join(f"{k}={new!r}" for k, (new, _) in clash.items())
                    + ")"
                )
            self.sha256 = info["sha256"]
        else:
            cfg = Tiny3DConfig(**over)
            self.model = Tiny3D(cfg).eval()
        self.cfg = cfg
        self.steps = DEFAULT_STEPS if steps is None else int(steps)
        if self.steps < 1:
            raise JudgemindError(f"tiny3d: steps must be >= 1, got {self.steps}")
        self.short_side = int(short_side)
        self.batch = max(1, int(batch))

    def config(self) -> dict[str, Any]:
        cfg = self.cfg.to_dict()
        if self.sha256:
            cfg.pop("seed")  # trained weights: the init seed no longer matters
        return {
            "extractor": self.name,
            "steps": self.steps,
            "sampling": "linspace",
            **cfg,
            "weights_sha256": self.sha256,
        }

    def dims(self) -> dict[str, int]:
        return {"global": self.cfg.dim, "foreground": self.cfg.dim}

    def plan(self, start: int, end: int) -> Plan:
        return plan_clips(start, end, self.steps, self.cfg)

    def _run(self, x: torch.Tensor) -> np.ndarray:
        with torch.inference_mode():
            return torch.cat([self.model(x[i : i + self.batch]) for i in range(0, len(x), self.batch)]).numpy()

    def encode(self, frames: Frames, plan: Plan) -> dict[str, np.ndarray]:
        g, f = clips_from_frames(frames, plan, self.cfg)
        return {"global": self._run(to_tensor(g, self.cfg)), "foreground": self._run(to_tensor(f, self.cfg))}
