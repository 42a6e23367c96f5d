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

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from safetensors.numpy import load_file, save_file

from judgemind.errors import JudgemindError
from judgemind.utils.atomic import atomic_path, atomic_write_json
from judgemind.utils.lock import FileLock, LockBusy
from judgemind.version import __version__

MANIFEST = "manifest.json"
REQUIRED_TENSORS = ("global", "foreground", "frame_index")
OPTIONAL_TENSORS = ("box", "box_filled")


_VERBATIM_MAX = 120  # longer ids are escaped, so that every file name stays below the usual 255-byte limit
_HEX_MAX = 200


def safe_name(record_id: str) -> str:
    """The file stem of a record: the id itself when it is short and portable, else an escaped form.

    Injective (two ids never share a file): escaped forms start with ``id_`` and no verbatim name does (an id that
    starts with ``id_`` is escaped too); ``id_<hex>`` spells out the UTF-8 bytes, and ids too long for that become
    ``id_sha256_<digest>`` (``_`` never occurs in hex, so the two escaped forms cannot meet).
    """
    ok = (
        all(ch.isascii() and (ch.isalnum() or ch in "-_.,") for ch in record_id)
        and not record_id.startswith(".")
        and not record_id.startswith("id_")
        and 0 < len(record_id) <= _VERBATIM_MAX
    )
    if ok:
        return record_id
    raw = record_id.encode("utf-8", "surrogatepass")
    if 2 * len(raw) <= _HEX_MAX:
        return "id_" + raw.hex()

    return "id_sha256_" + hashlib.sha256(raw).hexdigest()


def check_file_names(record_ids, where: str) -> None:
    """Refuse ids whose cache files would be the same file on a case-insensitive file system (``Jump1``, ``jump1``)."""
    seen: dict[str, str] = {}
    for rid in record_ids:
        key = safe_name(rid).casefold()
        if key in seen and seen[key] != rid:
            raise JudgemindError(
                f"{where}: records {seen[key]!r} and {rid!r} differ only in upper/lower case; their "
                f"feature files would collide on case-insensitive file systems -- rename one"
            )
        seen[key] = rid


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
        self._in_use = None  # shared lock held while this process extracts into the cache (open_for_writing)

    # -- manifest ------------------------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.dir / MANIFEST

    def exists(self) -> bool:
        return self.manifest_path.is_file()

    @property
    def manifest(self) -> dict:
        if not self.exists():
            raise JudgemindError(
                f"{self.root}: no feature cache {self.name!r} (expected {self.manifest_path}); "
                f"run `judgemind extract {self.root} --extractor ...` first"
            )
        return read_manifest(self.manifest_path)

    @property
    def config(self) -> dict:
        """The settings the cache was made with (``manifest["config"]``)."""
        return dict(self.manifest["config"])

    @property
    def dims(self) -> dict[str, int]:
        return dict(self.manifest["dims"])

    def check_config(self, config: Mapping[str, Any]) -> None:
        """Raise if a cache exists with different settings (it would silently mix features)."""
        if not self.exists():
            return
        old = self.manifest["config"]
        if _canon(old) != _canon(config):
            raise JudgemindError(self._differs(old, config))

    def _differs(self, old: Mapping, config: Mapping) -> str:
        diff = sorted(k for k in set(old) | set(config) if _canon({k: old.get(k)}) != _canon({k: config.get(k)}))
        details = ", ".join(f"{k}: cached {old.get(k)!r} vs now {config.get(k)!r}" for k in diff[:6])
        return (
            f"{self.dir}: a feature cache made with other settings exists ({details}); delete it or use another --name"
        )

    def record_files(self) -> list[Path]:
        """Finished record files (hidden temporary files of running or killed writers excluded)."""
        return (
            sorted(p for p in self.dir.glob("*.safetensors") if not p.name.startswith(".")) if self.dir.is_dir() else []
        )

    def open_for_writing(self, config: Mapping[str, Any], dims: Mapping[str, int]) -> None:
        """Create the manifest, or check that the existing one has the same config (then finished files are kept
        and extraction resumes).

        Under a lock: the check and the creation happen in one step, so two processes with different settings
        cannot both pass; afterwards this object holds a shared "in use" lock until :meth:`close` (or the end of
        the process), so the settings cannot change under a running extraction. A cache that holds a manifest but
        no feature file and is not in use (an extraction that failed on every record) is re-made with the new
        settings instead of blocking them.
        """

        self.dir.mkdir(parents=True, exist_ok=True)
        with FileLock(self.dir / ".manifest.lock", blocking=True):
            users = FileLock(self.dir / ".users.lock", what=f"feature cache {self.dir}")
            try:
                users.acquire()  # exclusive: nobody else is extracting into this cache right now
            except LockBusy:
                users = None
            try:
                if users is not None:
                    for part in self.partial_files():  # left by killed writers (nobody is writing now)
                        part.unlink(missing_ok=True)
                if self.exists():
                    old = self.manifest["config"]
                    if _canon(old) != _canon(config):
                        if users is None or self.record_files():
                            raise JudgemindError(
                                self._differs(old, config)
                                if users is not None
                                else f"{self._differs(old, config)} (and it is in use by another process)"
                            )
                        self.manifest_path.unlink()  # empty and unused: nothing is lost by re-making it
                if not self.exists():
                    atomic_write_json(
                        self.manifest_path,
                        {
                            "extractor": config.get("extractor", self.name),
                            "config": dict(config),
                            "dims": {k: int(v) for k, v in dims.items()},
                            "judgemind_version": __version__,
                            "tensors": list(REQUIRED_TENSORS),
                            "optional_tensors": list(OPTIONAL_TENSORS),
                        },
                    )
            finally:
                if users is not None:
                    users.release()
            self._in_use = FileLock(self.dir / ".users.lock", shared=True, blocking=True).acquire()

    def close(self) -> None:
        lock = getattr(self, "_in_use", None)
        if lock is not None:
            lock.release()
            self._in_use = None

    def verify(self, record_id: str) -> str | None:
        """Why the finished file of ``record_id`` is unusable (unreadable, missing tensors, other dimensions,
        NaN/Inf), or None when it is good. ``judgemind extract`` re-extracts such files on resume."""
        try:
            t = self.load(record_id)
        except JudgemindError as e:
            return str(e)
        return check_tensors(t, self.dims, f"{self.path(record_id)}")

    # -- records -------------------------------------------------------------------------------------------------
    def path(self, record_id: str) -> Path:
        return self.dir / f"{safe_name(record_id)}.safetensors"

    def has(self, record_id: str) -> bool:
        return self.path(record_id).is_file()

    def save(self, record_id: str, tensors: Mapping[str, np.ndarray]) -> None:

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

        p = self.path(record_id)
        if not p.is_file():
            raise JudgemindError(
                f"{self.dir}: no features for record {record_id!r}; run `judgemind extract` "
                f"(it resumes and fills the missing ones)"
            )
        try:
            return load_file(str(p))
        except Exception as e:  # safetensors raises several types for corrupt files
            raise JudgemindError(f"{p}: corrupt feature file ({e}); delete it and re-run `judgemind extract`") from e

    def missing(self, record_ids) -> list[str]:
        return [r for r in record_ids if not self.has(r)]

    def partial_files(self) -> list[Path]:
        """Leftover temporary files of interrupted writes (hidden ``.*.part*``; loaders ignore them)."""
        return sorted(self.dir.glob(".*.part*")) if self.dir.is_dir() else []


def check_tensors(t: Mapping[str, np.ndarray], dims: Mapping[str, int], where: str) -> str | None:
    """Why the tensors of one record file do not fit the manifest, or None."""
    missing = [k for k in REQUIRED_TENSORS if k not in t]
    if missing:
        return f"{where}: lacks {', '.join(missing)}"
    T = t["frame_index"].shape[0] if t["frame_index"].ndim == 1 else -1
    for k in ("global", "foreground"):
        a = t[k]
        if a.ndim != 2 or a.shape[0] != T or (k in dims and a.shape[1] != dims[k]):
            return f"{where}: {k} has shape {tuple(a.shape)}, expected ({T}, {dims.get(k)})"
        if not np.issubdtype(a.dtype, np.floating) or not np.isfinite(a).all():
            return f"{where}: {k} holds NaN or Inf (or is not a float array)"
    return None


def read_manifest(path: Path) -> dict:
    """``manifest.json`` checked for the structure every reader relies on: an object with ``config`` (an object
    whose ``extractor`` matches the top-level one) and ``dims`` (positive integer ``global`` and ``foreground``)."""
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        raise JudgemindError(f"{path}: corrupt manifest ({str(e)[:200]}); delete the folder and re-extract") from None
    return check_manifest(m, str(path))


def check_manifest(m: Any, where: str) -> dict:
    """The checks of :func:`read_manifest` on an already parsed manifest (e.g. one stored in a checkpoint)."""

    def bad(why: str) -> JudgemindError:
        return JudgemindError(
            f"{where}: not a valid feature-cache manifest ({why}); delete the cache folder and "
            f"re-extract, or re-train with this judgemind version"
        )

    if not isinstance(m, dict):
        raise bad(f"expected a JSON object, got {type(m).__name__}")
    cfg, dims = m.get("config"), m.get("dims")
    if not isinstance(cfg, dict):
        raise bad("'config' is missing or not an object")
    if not isinstance(dims, dict):
        raise bad("'dims' is missing or not an object")
    for k in ("global", "foreground"):
        v = dims.get(k)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 < v <= 1 << 20:
            raise bad(f"dims.{k} must be a positive integer, got {str(v)[:40]}")
    ext = m.get("extractor", cfg.get("extractor"))
    if not isinstance(ext, str) or not ext:
        raise bad("'extractor' is missing or not a name")
    if cfg.get("extractor", ext) != ext:
        raise bad(f"it names extractor {ext!r} but its config says {cfg.get('extractor')!r}")
    return {**m, "extractor": ext, "dims": {k: int(v) for k, v in dims.items() if isinstance(v, int)}}


def list_caches(dataset_root: str | os.PathLike) -> list[str]:
    d = Path(dataset_root) / "features"
    return sorted(p.name for p in d.iterdir() if (p / MANIFEST).is_file()) if d.is_dir() else []
