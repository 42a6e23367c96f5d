"""``videomae``: a local VideoMAE checkpoint folder through ``transformers`` (never downloads).

``--weights DIR`` is a folder written by ``save_pretrained`` (``config.json`` with ``model_type: videomae`` and
``model.safetensors`` or ``pytorch_model.bin``; a ``VideoMAEForVideoClassification`` or ``...ForPreTraining``
folder works too, its encoder is used). Per step a clip of ``num_frames`` (from the checkpoint config) frames,
``frame_step`` apart, centred on the step frame; GLOBAL = whole frames letterboxed to ``image_size``, FOREGROUND =
square athlete crops; token = mean of the encoder's last hidden states (``hidden_size``). Pixel normalisation
from the folder's ``preprocessor_config.json`` when present, else ImageNet mean/std.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from judgemind.errors import CheckpointError, JudgemindError
from judgemind.features.base import Extractor, Frames, Plan, clip_frames, register_extractor
from judgemind.video.crop import letterbox, square_crop
from judgemind.video.decode import sample_indices

__all__ = ["VideoMAEExtractor", "load_videomae"]

_WEIGHT_FILES = (
    "model.safetensors",
    "pytorch_model.bin",
    "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
)


def _folder_hash(folder: Path) -> str:
    """sha256 over config.json and the weight files (names and bytes)."""
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        if p.is_file() and (p.name == "config.json" or p.suffix in (".safetensors", ".bin")):
            h.update(p.name.encode())
            with open(p, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()


def load_videomae(folder: str | Path):
    """``(VideoMAEModel in eval mode, config, {"sha256", "mean", "std"})`` from a local folder.

    Raises:
        CheckpointError: folder missing, no config.json, not a VideoMAE config, no weights, or weights that do not
            fit (names the missing / unexpected keys transformers reports).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(
            f"VideoMAE checkpoint folder {folder} not found; --weights must be a folder written by "
            f"transformers' save_pretrained (config.json + model.safetensors)"
        )
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise CheckpointError(f"{folder} has no config.json; it is not a transformers checkpoint folder")
    try:
        model_type = json.loads(cfg_path.read_text()).get("model_type")
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{cfg_path}: not valid JSON ({e})") from e
    if model_type != "videomae":
        raise CheckpointError(
            f"{folder} holds a {model_type!r} model, not VideoMAE (config.json model_type must be 'videomae')"
        )
    if not any((folder / n).is_file() for n in _WEIGHT_FILES):
        raise CheckpointError(f"{folder} has a VideoMAE config.json but no weights ({' or '.join(_WEIGHT_FILES[:2])})")
    from transformers import VideoMAEModel  # noqa: PLC0415 -- optional dependency (transformers, judgemind[text])

    try:
        model, info = VideoMAEModel.from_pretrained(str(folder), local_files_only=True, output_loading_info=True)
    except (OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"cannot load VideoMAE from {folder}: {e}") from e
    missing = sorted(info.get("missing_keys", []))
    mismatched = info.get("mismatched_keys", [])
    if missing or mismatched:
        unexpected = sorted(info.get("unexpected_keys", []))
        raise CheckpointError(
            f"{folder}: weights do not fit its VideoMAE config: {len(missing)} missing keys "
            f"({', '.join(missing[:6])}), {len(unexpected)} unexpected keys "
            f"({', '.join(unexpected[:6])}), {len(mismatched)} shape mismatches"
        )
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    pp = folder / "preprocessor_config.json"
    if pp.is_file():
        d = json.loads(pp.read_text())
        mean, std = list(d.get("image_mean", mean)), list(d.get("image_std", std))
    return model.eval(), model.config, {"sha256": _folder_hash(folder), "mean": mean, "std": std}


@register_extractor
class VideoMAEExtractor(Extractor):
    """Options: ``weights`` (required folder), ``steps`` (T, default 16), ``frame_step`` (2), ``margin`` (1.25),
    ``short_side`` (decode size), ``batch`` (clips per forward pass)."""

    name = "videomae"
    description = "VideoMAE encoder from a local transformers checkpoint folder (no downloads)"
    weights_kind = "required folder"
    requires = ("torch", "av", "cv2", "transformers")
    dims_text = "hidden_size / hidden_size (768 for ViT-B)"
    steps_text = "16"

    def __init__(
        self,
        weights: str | None = None,
        steps: int | None = None,
        frame_step: int = 2,
        margin: float = 1.25,
        short_side: int = 256,
        batch: int = 4,
    ):
        if not weights:
            raise JudgemindError(
                "the videomae extractor needs --weights DIR: a local VideoMAE checkpoint folder "
                "(transformers save_pretrained); nothing is downloaded"
            )

        self.torch = torch
        self.model, self.mcfg, info = load_videomae(weights)
        self.sha256 = info["sha256"]
        self.mean = torch.tensor(info["mean"], dtype=torch.float32).view(1, 1, 3, 1, 1)
        self.std = torch.tensor(info["std"], dtype=torch.float32).view(1, 1, 3, 1, 1)
        self.steps = 16 if steps is None else int(steps)
        if self.steps < 1 or frame_step < 1:
            raise JudgemindError("videomae: steps and frame_step must be >= 1")
        self.frame_step, self.margin = int(frame_step), float(margin)
        self.short_side, self.batch = int(short_side), max(1, int(batch))
        self.num_frames, self.image_size = int(self.mcfg.num_frames), int(self.mcfg.image_size)

    def config(self) -> dict[str, Any]:
        return {
            "extractor": self.name,
            "steps": self.steps,
            "sampling": "linspace",
            "clip_len": self.num_frames,
            "frame_step": self.frame_step,
            "size": self.image_size,
            "margin": self.margin,
            "mean": self.mean.flatten().tolist(),
            "std": self.std.flatten().tolist(),
            "pool": "mean(tokens)",
            "weights_sha256": self.sha256,
        }

    def dims(self) -> dict[str, int]:
        d = int(self.mcfg.hidden_size)
        return {"global": d, "foreground": d}

    def plan(self, start: int, end: int) -> Plan:
        steps = sample_indices(start, end, self.steps)
        clips = clip_frames(steps, start, end, self.num_frames, self.frame_step)
        return Plan(steps=steps, decode=np.unique(clips), locate=np.unique(steps), extra={"clips": clips})

    def _run(self, clips: np.ndarray) -> np.ndarray:
        torch = self.torch
        x = torch.from_numpy(clips).permute(0, 1, 4, 2, 3).float().div_(255.0)  # (T, L, 3, S, S)
        x = (x - self.mean) / self.std
        out = []
        with torch.inference_mode():
            for i in range(0, len(x), self.batch):
                out.append(self.model(pixel_values=x[i : i + self.batch]).last_hidden_state.mean(dim=1))
        return torch.cat(out).float().numpy()

    def encode(self, frames: Frames, plan: Plan) -> dict[str, np.ndarray]:
        S = self.image_size
        idx = plan.extra["clips"]
        uniq = [int(i) for i in np.unique(idx)]
        whole = {i: letterbox(frames.images[i], S) for i in uniq}
        crop = {i: square_crop(frames.images[i], frames.boxes[i], self.margin, S) for i in uniq}
        g = np.stack([np.stack([whole[int(i)] for i in row]) for row in idx])
        f = np.stack([np.stack([crop[int(i)] for i in row]) for row in idx])
        return {"global": self._run(g), "foreground": self._run(f)}
