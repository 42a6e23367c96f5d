"""The feature cache: one safetensors file per record plus a manifest, under ``DATASET/features/<name>/``.

Tensors of one record file (``T`` time steps):

    global       float32 (T, Dg)   whole-frame tokens
    foreground   float32 (T, Df)   athlete-crop tokens
    frame_index  int64   (T,)      absolute video frame at the centre of each step
    box          float32 (T, 4)    optional athlete box (x0, y0, x1, y1) in video pixels (upright frame)
    box_filled   uint8   (T,)      optional: 1 where the box was interpolated/held, not detected at that frame

The manifest's ``config`` holds everything that changes the numbers (extractor, weights hash, clip length and
stride, steps, input size, locator, fps). Opening a cache for writing with another config is an error, so a stale
cache is never reused silently; delete the folder or pick another ``--name``.

Each record file is written atomically (a hidden ``.<id>.safetensors.part.*`` file renamed into place), so a file
that exists is complete; ``judgemind extract`` resumes by skipping records whose file exists. Several processes
(``--shard i/n``) may write into one cache at the same time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from judgemind import __version__
from judgemind.errors import JudgemindError
from judgemind.utils.atomic import atomic_path, atomic_write_json

MANIFEST = "manifest.json"
REQUIRED_TENSORS = ("global", "foreground", "frame_index")
OPTIONAL_TENSORS = ("box", "box_filled")


def _safe_name(record_id: str) -> str:
    # Record ids are free text; keep file names portable and unambiguous.
    ok = all(ch.isalnum() or ch in "-_.," for ch in record_id) and not record_id.startswith(".")
    return record_id if ok else "id_" + record_id.encode("utf-8").hex()


def _canon(config: Mapping[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, default=str)


class FeatureCache:
    """Read/write access to ``root/features/<name>``.

    >>> cache = FeatureCache(dataset_root, "tiny3d")
    >>> cache.open_for_writing({"extractor": "tiny3d", "steps": 48, ...}, dims={"global": 256, "foreground": 256})
    >>> cache.save("jump_0001", {"global": g, "foreground": f, "frame_index": idx})
    >>> cache.load("jump_0001")["global"].shape
    """

    def __init__(self, dataset_root: str | os.PathLike, name: str):
        if not name or "/" in name or name.startswith("."):
            raise JudgemindError(f"invalid feature cache name {name!r}")
        self.root = Path(dataset_root)
        self.name = name
        self.dir = self.root / "features" / name

    # -- manifest ------------------------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.dir / MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    @property
    def manifest(self) -> dict:
        if not self.exists():
            raise JudgemindError(f"{self.root}: no feature cache {self.name!r} (expected {self.manifest_path}); "
                                 f"run `judgemind extract {self.root} --extractor ...` first")
        try:
            return json.loads(self.manifest_path.read_text())
        except json.JSONDecodeError as e:
            raise JudgemindError(f"{self.manifest_path}: corrupt manifest ({e}); delete the folder and "
                                 f"re-extract") from e

    @property
    def config(self) -> dict:
        """The settings the cache was made with (``manifest["config"]``)."""
        return dict(self.manifest.get("config", {}))

    @property
    def dims(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.manifest["dims"].items()}

    def check_config(self, config: Mapping[str, Any]) -> None:
        """Raise if a cache exists with different settings (it would silently mix features)."""
        if not self.exists():
            return
        old = self.manifest.get("config", {})
        if _canon(old) != _canon(config):
            diff = sorted(k for k in set(old) | set(config) if _canon({k: old.get(k)}) != _canon({k: config.get(k)}))
            details = ", ".join(f"{k}: cached {old.get(k)!r} vs now {config.get(k)!r}" for k in diff[:6])
            raise JudgemindError(f"{self.dir}: a feature cache made with other settings exists ({details}); "
                                 f"delete it or use another --name")

    def open_for_writing(self, config: Mapping[str, Any], dims: Mapping[str, int]) -> None:
        """Create the manifest, or check that the existing one has the same config (then finished files are kept
        and extraction resumes)."""
        self.check_config(config)
        if not self.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.manifest_path, {
                "extractor": config.get("extractor", self.name), "config": dict(config),
                "dims": {k: int(v) for k, v in dims.items()}, "judgemind_version": __version__,
                "tensors": list(REQUIRED_TENSORS), "optional_tensors": list(OPTIONAL_TENSORS)})

    # -- records -------------------------------------------------------------------------------------------------
    def path(self, record_id: str) -> Path:
        return self.dir / f"{_safe_name(record_id)}.safetensors"

    def has(self, record_id: str) -> bool:
        return self.path(record_id).is_file()

    def save(self, record_id: str, tensors: Mapping[str, np.ndarray]) -> None:
        from safetensors.numpy import save_file

        missing = [k for k in REQUIRED_TENSORS if k not in tensors]
        if missing:
            raise JudgemindError(f"features of {record_id!r} lack {', '.join(missing)}")
        t = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
        T = t["global"].shape[0]
        for k in ("foreground", "frame_index"):
            if t[k].shape[0] != T:
                raise JudgemindError(f"features of {record_id!r}: {k} has {t[k].shape[0]} steps, global has {T}")
        for k in ("global", "foreground"):
            if not np.isfinite(t[k]).all():
                raise JudgemindError(f"features of {record_id!r}: {k} holds NaN or Inf")
        t["global"] = t["global"].astype(np.float32)
        t["foreground"] = t["foreground"].astype(np.float32)
        t["frame_index"] = t["frame_index"].astype(np.int64)
        if "box" in t:
            if t["box"].shape != (T, 4):
                raise JudgemindError(f"features of {record_id!r}: box has shape {t['box'].shape}, expected ({T}, 4)")
            t["box"] = t["box"].astype(np.float32)
        if "box_filled" in t:
            t["box_filled"] = t["box_filled"].astype(np.uint8).reshape(T)
        with atomic_path(self.path(record_id)) as tmp:
            save_file(t, str(tmp))

    def load(self, record_id: str) -> dict[str, np.ndarray]:
        from safetensors.numpy import load_file

        p = self.path(record_id)
        if not p.is_file():
            raise JudgemindError(f"{self.dir}: no features for record {record_id!r}; run `judgemind extract` "
                                 f"(it resumes and fills the missing ones)")
        try:
            return load_file(str(p))
        except Exception as e:  # safetensors raises several types for corrupt files
            raise JudgemindError(f"{p}: corrupt feature file ({e}); delete it and re-run `judgemind extract`") from e

    def missing(self, record_ids) -> list[str]:
        return [r for r in record_ids if not self.has(r)]

    def partial_files(self) -> list[Path]:
        """Leftover temporary files of interrupted writes (hidden ``.*.part*``; loaders ignore them)."""
        return sorted(self.dir.glob(".*.part*")) if self.dir.is_dir() else []


def list_caches(dataset_root: str | os.PathLike) -> list[str]:
    d = Path(dataset_root) / "features"
    return sorted(p.name for p in d.iterdir() if (p / MANIFEST).is_file()) if d.is_dir() else []
