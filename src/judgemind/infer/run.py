"""Loading a trained run once: the model, its config and data description, the feature manifest it was trained
on, the training split of exemplar models, and its calibration.

    run = load_run("runs/x/best.pt")     # or the run folder (best.pt), or load_run("runs/x", "last")
    run.model, run.cfg, run.info, run.manifest, run.calibration

Everything that scores with a run (``judgemind score``, ``evaluate``, ``predict``) starts here, so the checkpoint,
the manifest and the training split are read once however many videos or splits are scored.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from judgemind.data import load_dataset
from judgemind.errors import CheckpointError, JudgemindError
from judgemind.features.cache import check_manifest, read_manifest
from judgemind.runs.batch import load_feature_split, open_features, split_records
from judgemind.runs.calibrate import (
    build_calibration,
    calibration_mismatch,
    calibration_path,
    read_calibration,
    write_calibration,
)
from judgemind.runs.e2e import load_e2e_split
from judgemind.runs.model import load_run_model


@dataclass
class LoadedRun:
    """A run's checkpoint, ready to score with.

    ``model``: in eval mode on ``device``, the training split attached when the model compares with exemplars;
    ``cfg``: the run's ``TrainConfig``; ``info``: its ``DataInfo``; ``ck``: the checkpoint dict (epoch, git
    revision, ...); ``manifest``: the feature-cache manifest the model was trained on (how to extract the same
    features from a new video; None for end-to-end runs); ``calibration``: ``(document or None, note)`` of
    ``RUN/calibration-<checkpoint>.json`` (:func:`load_calibration`), read on first use."""

    run_dir: Path
    checkpoint: str
    model: torch.nn.Module
    cfg: object
    info: object
    ck: dict
    manifest: dict | None
    device: torch.device
    source: str = ""  # the path it was loaded from, as given (for provenance)
    _calibration: tuple | None = None

    @property
    def calibration(self) -> tuple[dict | None, str | None]:
        if self._calibration is None:
            self._calibration = load_calibration(self)
        return self._calibration


def run_dir_of(checkpoint: str | os.PathLike) -> tuple[Path, str]:
    """(run folder, checkpoint name) of ``RUN/best.pt``, ``RUN/last.pt`` or a run folder (best)."""
    p = Path(checkpoint)
    if p.is_dir():
        return p, "best"
    if not p.is_file():
        raise CheckpointError(f"checkpoint {p} does not exist; pass RUN/best.pt of a `judgemind train` run")
    if p.stem not in ("best", "last"):
        raise CheckpointError(f"{p}: expected RUN/best.pt or RUN/last.pt of a `judgemind train` run")
    return p.parent, p.stem


def load_run(path: str | os.PathLike, checkpoint: str | None = None, device: str = "cpu") -> LoadedRun:
    """The run of ``path``: a run folder (``checkpoint`` best or last, default best) or ``RUN/best.pt`` /
    ``RUN/last.pt``. Raises :class:`CheckpointError` / :class:`JudgemindError` saying what is wrong."""

    if checkpoint is None:
        run_dir, checkpoint = run_dir_of(path)
    else:
        run_dir = Path(path)
    model, cfg, info, ck = load_run_model(run_dir, checkpoint, device)
    manifest = None if cfg.run.end_to_end else _manifest(run_dir / f"{checkpoint}.pt", cfg, ck)
    dev = torch.device(device)
    if getattr(model, "needs_train_set", False):
        attach_train_set(model, cfg, info, dev)
    return LoadedRun(Path(run_dir), checkpoint, model, cfg, info, ck, manifest, dev, str(path))


def _manifest(path: Path, cfg, ck: dict) -> dict | None:
    """The feature manifest stored in the checkpoint (older runs: read from the training data set when it is still
    there; None when it is gone -- scoring a video then explains, evaluating a data set does not need it)."""

    manifest = ck.get("features_manifest")
    if manifest is not None:
        try:
            return check_manifest(manifest, f"{path} (features_manifest)")
        except JudgemindError as e:
            raise CheckpointError(str(e)) from None
    mpath = Path(cfg.data.dataset) / "features" / cfg.data.features / "manifest.json"
    return read_manifest(mpath) if mpath.is_file() else None


def attach_train_set(model, cfg, info, device: torch.device) -> None:
    """Hand an exemplar model (CoRe, TSA, the closed-form ones) its training split, read from the run's data set
    with the run's features (once per loaded run)."""

    if cfg.run.end_to_end:
        return  # end-to-end runs train JudgeMind only; no exemplars
    dataset = load_dataset(Path(cfg.data.dataset))
    cache = open_features(dataset, cfg.data.features)
    train = load_feature_split(cache, split_records(dataset, cfg.data.train_split, "train"), info, cfg.data.train_split)
    model.attach_train_set({k: v.to(device) for k, v in train.tensors.items()})


def load_run_split(run: LoadedRun, dataset_path: str | os.PathLike, split: str, features: str | None = None):
    """``(split as a FeatureDataset (or ClipDataset for an end-to-end run), the Dataset)`` of any data set that has
    the run's features (or the cache ``features``: another perception with the same token layout, e.g. predicted
    skeletons for a model trained on annotated ones)."""

    cfg = run.cfg
    if cfg.run.end_to_end:
        return load_e2e_split(run.model, cfg, run.info, str(dataset_path), split)
    dataset = load_dataset(Path(dataset_path))
    if features and features != cfg.data.features:
        cache = open_features(dataset, features, {"global": run.info.dim_global, "foreground": run.info.dim_foreground})
    else:
        cache = open_features(dataset, cfg.data.features)
    return load_feature_split(cache, split_records(dataset, split, "evaluated"), run.info, split), dataset


def load_calibration(run: LoadedRun, compute: bool = True, recalibrate: bool = False) -> tuple[dict | None, str | None]:
    """``(calibration, note)`` of a loaded run: the stored ``RUN/calibration-<checkpoint>.json``; else computed now
    from the run's validation split and stored (``compute``) when the data set is still there; else
    ``(None, why not)``. A stored file that describes another checkpoint or other deduction items
    (:func:`judgemind.runs.calibrate.calibration_mismatch`) is refused with a :class:`CheckpointError`, unless
    ``recalibrate`` (``judgemind evaluate``): then it is computed again and replaced."""

    doc = read_calibration(run.run_dir, run.checkpoint)
    name = calibration_path(run.run_dir, run.checkpoint).name
    if doc is not None:
        why = calibration_mismatch(doc, run.run_dir, run.checkpoint, run.info.item_ids)
        if why is None:
            return doc, None
        if not recalibrate:
            raise CheckpointError(
                f"{calibration_path(run.run_dir, run.checkpoint)} does not match the run: {why}; re-run "
                f"`judgemind evaluate {run.run_dir}` to recalibrate it (or train again)"
            )
        print(f"note: {name} did not match the run ({why}); recalibrating", file=sys.stderr, flush=True)
    if not compute:
        return None, f"{name} is missing"
    if run.cfg.run.end_to_end:
        return None, f"no calibration: {name} is missing and end-to-end runs are not calibrated"
    try:
        doc = build_calibration(run.model, run.cfg, run.info, run.cfg.data.dataset, str(run.device))
        return write_calibration(run.run_dir, run.checkpoint, doc, run.ck), None
    except (JudgemindError, OSError) as e:
        return None, f"no calibration: {name} is missing and could not be computed ({str(e)[:200]})"
