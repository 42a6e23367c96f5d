"""End-to-end training: a Tiny3D video backbone trained together with a scoring model, from video frames.

``judgemind train --data DATASET --model judgemind --end-to-end --backbone tiny3d``

1. **Clip cache** (once per dataset and clip settings): every record is decoded and cut into small uint8 clips
   with ``judgemind.features.tiny3d``'s own clip builder (the same steps, crops and letterboxing as
   ``judgemind extract --extractor tiny3d``): ``DATASET/clips/<key>/<record>.safetensors`` holding
   ``global`` / ``foreground`` uint8 (T, L, S, S, 3) and ``frame_index`` (T,), plus ``manifest.json``.
   ``key`` names the settings (steps, clip size and length, locator), so other settings never reuse a cache.
2. **Model**: :class:`EndToEnd` = Tiny3D (normalises the uint8 clips, encodes whole-frame and athlete-crop clips
   of every step with the same network) -> tokens ``global`` / ``foreground`` (B, T, dim) -> the scoring model.
   Batches carry ``clips_global`` / ``clips_foreground`` (B, T, L, S, S, 3) uint8 instead of token features.
3. After training ``RUN/tiny3d.safetensors`` holds the backbone of ``best.pt``; extract features with it
   (``judgemind extract DATASET --extractor tiny3d`` with option ``weights=RUN/tiny3d.safetensors``) to train
   other models on them.

Settings: ``run.e2e_steps`` (T), ``run.e2e_in_size`` (S), ``run.e2e_clip_len`` (L), ``run.e2e_locator``.
Exemplar models (``needs_train_set``) are not supported end to end.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.numpy import load_file, save_file
from torch import nn

from judgemind.data import load_dataset
from judgemind.errors import JudgemindError
from judgemind.features.cache import safe_name
from judgemind.features.pipeline import load_frames, resolve_locator
from judgemind.features.tiny3d import Tiny3D, Tiny3DConfig, clips_from_frames, plan_clips, save_tiny3d
from judgemind.models.base import DataInfo, ModelOutput, create_model
from judgemind.runs.batch import PreparedData, build_data_info, record_targets, split_records
from judgemind.runs.checkpoint import load_checkpoint
from judgemind.runs.config import TrainConfig
from judgemind.utils.atomic import atomic_path, atomic_write_json
from judgemind.video.locators import get_locator

BACKBONES = ("tiny3d",)


def backbone_config(cfg):
    """The Tiny3DConfig of a run (``cfg``: TrainConfig)."""

    if cfg.run.backbone not in BACKBONES:
        raise JudgemindError(f"--end-to-end needs --backbone {' or '.join(BACKBONES)}, got {cfg.run.backbone!r}")
    return Tiny3DConfig(in_size=cfg.run.e2e_in_size, clip_len=cfg.run.e2e_clip_len, seed=cfg.optim.seed)


class EndToEnd(nn.Module):
    """Tiny3D backbone + scoring model. ``forward(batch)`` encodes the uint8 clips and calls the model."""

    def __init__(self, backbone: nn.Module, head: nn.Module):
        super().__init__()
        self.backbone, self.head = backbone, head
        c = backbone.config
        self.register_buffer("mean", torch.tensor(float(c.mean)), persistent=False)
        self.register_buffer("std", torch.tensor(float(c.std)), persistent=False)

    def encode(self, clips: torch.Tensor) -> torch.Tensor:
        """uint8 (B, T, L, S, S, 3) -> tokens (B, T, dim)."""
        B, T = clips.shape[:2]
        x = clips.reshape(B * T, *clips.shape[2:]).permute(0, 4, 1, 2, 3).float()
        x = (x / 255.0 - self.mean) / self.std
        return self.backbone(x).reshape(B, T, -1)

    def forward(self, batch: dict) -> ModelOutput:
        b = {k: v for k, v in batch.items() if not k.startswith("clips_")}
        b["global"] = self.encode(batch["clips_global"])
        b["foreground"] = self.encode(batch["clips_foreground"])
        return self.head(b)

    def loss(self, out: ModelOutput, batch: dict):
        return self.head.loss(out, batch)

    def set_epoch(self, epoch: int, n_epochs: int) -> None:
        if hasattr(self.head, "set_epoch"):
            self.head.set_epoch(epoch, n_epochs)


def build_e2e_model(cfg, info: DataInfo) -> tuple[nn.Module, object]:

    overrides = dict(cfg.model or {})
    if cfg.model_name == "judgemind":
        # the statistics prior is fitted in closed form on fixed features; end to end, the features change with
        # every step of the backbone, so JudgeMind always trains without it there (docs/model.md)
        overrides["stats_prior"] = False
    head, mcfg = create_model(cfg.model_name, overrides, info)
    if getattr(head, "needs_train_set", False):
        raise JudgemindError(
            f"model {cfg.model_name!r} compares with training exemplars and cannot be trained end "
            f"to end; extract features first and train it on them"
        )
    return EndToEnd(Tiny3D(backbone_config(cfg)), head), mcfg


# -- the clip cache ------------------------------------------------------------------------------------------------


def clip_dir(dataset, cfg, records) -> tuple[Path, dict]:

    tc = backbone_config(cfg)
    settings = {
        "backbone": cfg.run.backbone,
        "steps": cfg.run.e2e_steps,
        "in_size": tc.in_size,
        "clip_len": tc.clip_len,
        "frame_step": tc.frame_step,
        "margin": tc.margin,
        "locator": resolve_locator(cfg.run.e2e_locator, list(dataset.records)),
        "short_side": 256,
    }
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    return Path(dataset.root) / "clips" / f"{cfg.run.backbone}-{key}", settings


def _record_path(d: Path, rid: str) -> Path:

    return d / f"{safe_name(rid)}.safetensors"


def ensure_clips(dataset, cfg, records) -> Path:
    """Decode and cache the uint8 clips of ``records`` that are not cached yet; returns the cache folder."""

    d, settings = clip_dir(dataset, cfg, records)
    d.mkdir(parents=True, exist_ok=True)
    if not (d / "manifest.json").is_file():
        atomic_write_json(d / "manifest.json", settings)
    todo = [r for r in records if not _record_path(d, r.id).is_file()]
    if todo:
        print(f"caching frame clips of {len(todo)} videos in {d}", file=sys.stderr, flush=True)
    tc = backbone_config(cfg)
    loc = get_locator(settings["locator"])
    for r in todo:
        plan = plan_clips(int(r.frames[0]), int(r.frames[1]), settings["steps"], tc)
        frames = load_frames(dataset.video_path(r), plan, loc, record=r, short_side=settings["short_side"])
        g, f = clips_from_frames(frames, plan, tc)
        with atomic_path(_record_path(d, r.id)) as tmp:
            save_file(
                {
                    "global": np.ascontiguousarray(g, dtype=np.uint8),
                    "foreground": np.ascontiguousarray(f, dtype=np.uint8),
                    "frame_index": np.asarray(plan.steps, np.int64),
                },
                str(tmp),
            )
    return d


@dataclasses.dataclass
class ClipDataset:
    """One split for end-to-end training: targets in memory (``tensors``, the FeatureDataset keys without token
    features), clips read from the cache per batch."""

    name: str
    records: list
    tensors: dict
    folder: Path

    def __len__(self) -> int:
        return len(self.records)

    def batch(self, idx) -> dict:

        idx = torch.as_tensor(idx, dtype=torch.long)
        b = {k: v.index_select(0, idx) for k, v in self.tensors.items()}
        files = [load_file(str(_record_path(self.folder, self.records[int(i)].id))) for i in idx]
        for key in ("global", "foreground"):
            b[f"clips_{key}"] = torch.from_numpy(np.stack([f[key] for f in files]))
        return b

    def subset(self, idx: list[int], name: str) -> "ClipDataset":
        """The rows ``idx`` as a split of their own (``index`` renumbered), e.g. val's select half."""
        idx_t = torch.as_tensor(idx, dtype=torch.long)
        tensors = {k: v.index_select(0, idx_t) for k, v in self.tensors.items()}
        tensors["index"] = torch.arange(len(idx), dtype=torch.long)
        return ClipDataset(name, [self.records[i] for i in idx], tensors, self.folder)


def load_clip_split(folder: Path, records, info: DataInfo, name: str) -> ClipDataset:

    rows: dict[str, list] = {}
    for r in records:
        with safe_open(str(_record_path(folder, r.id)), framework="np") as fh:
            fi = fh.get_tensor("frame_index").astype(np.int64)
        tg = record_targets(r, fi, info)
        tg["frame_index"] = fi
        tg["mask"] = np.ones(len(fi), dtype=bool)
        for k, v in tg.items():
            rows.setdefault(k, []).append(v)
    t = {k: torch.as_tensor(np.stack(v)) for k, v in rows.items()}
    t["index"] = torch.arange(len(records))
    return ClipDataset(name, list(records), t, folder)


def prepare_e2e_data(cfg):
    """Like ``judgemind.runs.batch.prepare_data`` but with frame clips (cached on first use)."""

    if not cfg.data.dataset:
        raise JudgemindError("no dataset given: pass --data DATASET (a FineSkiing dataset folder with videos)")
    dataset = load_dataset(Path(cfg.data.dataset))
    splits = {
        "train": split_records(dataset, cfg.data.train_split, "train"),
        "val": split_records(dataset, cfg.data.val_split, "val"),
    }
    if cfg.run.log_test:
        splits["test"] = split_records(dataset, cfg.data.test_split, "test")
    folder = ensure_clips(dataset, cfg, [r for recs in splits.values() for r in recs])
    dim = backbone_config(cfg).dim
    info = build_data_info(
        dataset.meta.scoring, {"global": dim, "foreground": dim}, splits["train"], list(dataset.records)
    )
    info = dataclasses.replace(info, steps=cfg.run.e2e_steps)
    ds = {k: load_clip_split(folder, v, info, getattr(cfg.data, f"{k}_split")) for k, v in splits.items()}
    return PreparedData(dataset, None, info, ds["train"], ds["val"], ds.get("test"))


def load_e2e_split(model, cfg, info: DataInfo, dataset_path: str, split: str):
    """(ClipDataset of ``split`` of a dataset, the dataset) for evaluate/predict of an end-to-end run."""

    dataset = load_dataset(Path(dataset_path))
    records = split_records(dataset, split, "evaluated")
    folder = ensure_clips(dataset, cfg, records)
    return load_clip_split(folder, records, info, split), dataset


def export_backbone(run_dir: Path) -> Path | None:
    """Write the backbone of ``RUN/best.pt`` as ``RUN/tiny3d.safetensors`` (usable by the tiny3d extractor)."""

    ck = load_checkpoint(run_dir / "best.pt")
    cfg = TrainConfig.from_dict(ck["config"])
    net = Tiny3D(backbone_config(cfg))
    net.load_state_dict({k[len("backbone.") :]: v for k, v in ck["model"].items() if k.startswith("backbone.")})
    save_tiny3d(net, run_dir / "tiny3d.safetensors")
    return run_dir / "tiny3d.safetensors"
