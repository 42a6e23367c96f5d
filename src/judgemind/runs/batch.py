"""Batches for the models: cached features + record targets, stacked per split.

A split is held as whole-split tensors (:class:`FeatureDataset` ``.tensors``: the batch layout of
``judgemind.models.base`` with a first dimension of N videos); a batch is an index selection
(``dataset.batch(idx)``). Exemplar models get the training split's tensors through ``attach_train_set``.

Keys (N videos, T steps = the longest video of the split, shorter ones padded with ``mask`` False):

    global (N,T,Dg) foreground (N,T,Df) mask (N,T) shot (N,T) stage (N,T) bounds (N,2) code (N,C) action (N,)
    dd (N,) score (N,) components (N,3) judges (N,J) deductions (N,K) ded_points (N,K) ded_steps (N,K,T)
    index (N,)   -- see models/base.py
    frame_index long (N, T)   absolute video frame of each step (-1 padded); for reports, not for models

How targets are derived from a record:

* ``stage[t]``: the stage holding the step's centre frame ``frame_index[t]`` (``Record.stage_of_frame``); -100 on
  padding. ``bounds``: first step of flight and of landing (the number of take-off steps, and of take-off +
  flight steps).
* ``shot[t]``: the number of camera cuts (``Record.cuts``, first frames of new shots) at or before the step.
* ``components``: the panel's mean Air, Form, Landing (NaN where the format has none: diving; Air/Form in the
  legacy 7-judge format). ``judges``: each judge's total, NaN-padded to ``DataInfo.n_judges``.
* ``deductions``: multi-hot over the catalogue items (``DataInfo.item_ids``) named by the record;
  ``ded_points`` their annotated points; ``ded_steps[k, t]`` = 1 where step t's centre frame lies inside item k's
  annotated ``frames`` (the evidence the model's attention is taught to point at).
* ``code``: :func:`code_features` of the action code; ``action``: its index in the training vocabulary or -1.

Everything a training run needs is checked before it starts (:func:`prepare_data`): the dataset loads and
validates, the feature cache exists and has a file for every record of the splits, every file has the manifest's
dimensions (and the configured ones), no NaN/Inf in features or targets, splits are not empty, >= 3 steps.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from judgemind.data import Dataset, Record, load_dataset
from judgemind.data.records import stage_at
from judgemind.errors import JudgemindError
from judgemind.features.cache import FeatureCache, list_caches
from judgemind.models.base import DataInfo
from judgemind.rules import load_catalogue, parse_jump_code
from judgemind.rules.names import COMPONENTS
from judgemind.video.cuts import shot_index

# --------------------------------------------------------------------------------------------------------------
# Action codes

_SHAPES = ("layout", "tuck", "pike")
_DIRECTIONS = ("b", "f", "s", "l")
_DIVE = re.compile(r"^([1-6])(\d{2,3})([a-dA-D])$")
AERIALS_DIM = 21
DIVING_DIM = 13
CODE_DIM = AERIALS_DIM + DIVING_DIM


def code_features(code: str) -> np.ndarray:
    """Fixed-size features of an action code, float32 (``CODE_DIM`` = 34,).

    Aerials codes (``bFdFF``, parsed by ``judgemind.rules.parse_jump_code``), dims 0-20: number of somersaults
    (one-hot 1/2/3), twists of somersault 1..3 (/3), shape of somersault 1..3 (one-hot layout/tuck/pike each),
    total twists (/5), direction (one-hot b/f/s/l), 1 = "aerials code".
    Dive numbers (``107B``, ``5253b``), dims 21-33: group 1-6 (one-hot), half somersaults (/10), half twists (/10),
    position A-D (one-hot), 1 = "dive number". Anything else gives zeros.
    """

    v = np.zeros(CODE_DIM, dtype=np.float32)
    try:
        jc = parse_jump_code(code)
    except JudgemindError:
        jc = None
    if jc is not None:
        v[jc.n_somersaults - 1] = 1
        for i, s in enumerate(jc.somersaults):
            v[3 + i] = float(s.twists) / 3.0
            v[6 + 3 * i + _SHAPES.index(s.shape)] = 1
        v[15] = float(jc.total_twists) / 5.0
        v[16 + _DIRECTIONS.index(jc.direction)] = 1
        v[20] = 1
        return v
    m = _DIVE.match(code.strip()) if isinstance(code, str) else None
    if m:
        group, digits, pos = int(m.group(1)), m.group(2), m.group(3).upper()
        twisting = group == 5 or (group == 6 and len(digits) == 3)
        half_som = int(digits[1]) if twisting or len(digits) == 2 else int(digits[1:])
        half_tw = int(digits[2]) if twisting and len(digits) == 3 else 0
        o = AERIALS_DIM
        v[o + group - 1] = 1
        v[o + 6] = half_som / 10.0
        v[o + 7] = half_tw / 10.0
        v[o + 8 + "ABCD".index(pos)] = 1
        v[o + 12] = 1
    return v


# --------------------------------------------------------------------------------------------------------------
# The dataset of one split


@dataclass
class FeatureDataset:
    """One split as stacked tensors. ``records[i]`` is the record of row ``i`` (``tensors["index"][i] == i``)."""

    name: str
    records: list[Record]
    tensors: dict[str, torch.Tensor]

    def __len__(self) -> int:
        return len(self.records)

    def batch(self, idx: torch.Tensor | list[int]) -> dict[str, torch.Tensor]:
        """The batch of rows ``idx`` (a dict of tensors with first dimension len(idx))."""
        idx = torch.as_tensor(idx, dtype=torch.long)
        return {k: v.index_select(0, idx) for k, v in self.tensors.items()}

    def subset(self, idx: list[int], name: str) -> "FeatureDataset":
        """The rows ``idx`` as a split of their own called ``name`` (``index`` renumbered 0..len(idx)-1)."""
        tensors = self.batch(idx)
        tensors["index"] = torch.arange(len(idx), dtype=torch.long)
        return FeatureDataset(name, [self.records[i] for i in idx], tensors)


def record_hash(record_id: str) -> str:
    """A record id's stable hash (SHA-256 hex): the same on every machine, run and Python version."""
    return hashlib.sha256(str(record_id).encode("utf-8")).hexdigest()


def val_halves(ids: list[str]) -> tuple[list[int], list[int]]:
    """The two halves of a validation split, as row indices (ascending): ``select`` (every choice: checkpoint
    epoch, tuning point) and ``calib`` (the conformal calibration only, so its residuals are exchangeable with
    the test split's: nothing was chosen on them). Rows are ordered by :func:`record_hash` of their id; the first
    ceil(n/2) are ``select``. Deterministic and the same for every model, bench and ``judgemind train``."""
    order = sorted(range(len(ids)), key=lambda i: (record_hash(ids[i]), i))
    half = (len(order) + 1) // 2
    return sorted(order[:half]), sorted(order[half:])


def split_val(val: FeatureDataset) -> tuple[FeatureDataset, FeatureDataset]:
    """``(select, calib)`` halves of a validation split (:func:`val_halves`), named ``<name>:select`` and
    ``<name>:calib``."""
    sel, cal = val_halves([r.id for r in val.records])
    return val.subset(sel, f"{val.name}:select"), val.subset(cal, f"{val.name}:calib")


@dataclass
class PreparedData:
    """What :func:`prepare_data` returns."""

    dataset: Dataset
    cache: FeatureCache
    info: DataInfo
    train: FeatureDataset
    val: FeatureDataset
    test: FeatureDataset | None = None  # only when run.log_test asks for it


def open_features(dataset: Dataset, features: str, dims: dict[str, int] | None = None) -> FeatureCache:
    """The feature cache ``features`` of ``dataset``; missing cache or dimensions other than ``dims`` -> error."""
    if not features:
        raise JudgemindError("no feature cache given: pass --features NAME (see the caches under DATASET/features/)")
    cache = FeatureCache(dataset.root, features)
    if not cache.exists():
        have = list_caches(dataset.root)
        raise JudgemindError(
            f"dataset {dataset.root} has no features {features!r} "
            f"(available: {', '.join(have) or 'none'}); run `judgemind extract {dataset.root} "
            f"--extractor ...` first or pick one of the available caches with --features"
        )
    cdims = cache.dims
    for key in ("global", "foreground"):
        if key not in cdims:
            raise JudgemindError(f"{cache.manifest_path}: manifest lacks dims.{key}; re-extract the features")
        want = (dims or {}).get(key) or 0
        if want and int(want) != cdims[key]:
            raise JudgemindError(
                f"{cache.manifest_path}: {key} features have dimension {cdims[key]}, but the "
                f"config expects {want} (data.dim_{key}); use matching features or fix the config"
            )
    return cache


def split_records(dataset: Dataset, split: str, role: str) -> list[Record]:
    """Records of a split, with an error that says which role (train/val/test) needed it."""
    try:
        recs = dataset.split(split)
    except JudgemindError as e:
        raise JudgemindError(
            f"{e} -- the {role} split {split!r} is needed (set data.{role}_split to another split)"
        ) from None
    if not recs:
        raise JudgemindError(f"{dataset.root}: the {role} split {split!r} is empty")
    return recs


def _read_record(cache: FeatureCache, rec: Record, dims: dict[str, int]) -> dict[str, np.ndarray]:
    if not cache.has(rec.id):
        raise JudgemindError(
            f"{cache.dir}: no features for record {rec.id!r}; run `judgemind extract` to fill the missing ones"
        )
    t = cache.load(rec.id)
    where = f"{cache.path(rec.id)} (record {rec.id!r})"
    for key in ("global", "foreground", "frame_index"):
        if key not in t:
            raise JudgemindError(f"{where}: tensor {key!r} is missing; re-extract this record")
    T = t["global"].shape[0]
    for key in ("global", "foreground"):
        a = t[key]
        if a.ndim != 2 or a.shape[1] != dims[key]:
            raise JudgemindError(
                f"{where}: {key} has shape {tuple(a.shape)}, the manifest says (T, {dims[key]}); "
                f"the cache mixes extractions -- delete it and re-extract"
            )
        if a.shape[0] != T or t["frame_index"].shape[0] != T:
            raise JudgemindError(f"{where}: global, foreground and frame_index have different step counts")
        if not np.isfinite(a).all():
            bad = np.argwhere(~np.isfinite(a))[0]
            raise JudgemindError(
                f"{where}: {key} holds NaN/Inf (first at step {bad[0]}, dim {bad[1]}); re-extract this record"
            )
    if T < 3:
        raise JudgemindError(f"{where}: only {T} time steps; the models need at least 3 (take-off, flight, landing)")
    return t


def _missing_report(cache: FeatureCache, records: list[Record], split: str) -> None:
    missing = cache.missing([r.id for r in records])
    if missing:
        show = ", ".join(repr(m) for m in missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise JudgemindError(
            f"{cache.dir}: {len(missing)} of {len(records)} records of split {split!r} have no "
            f"features ({show}); run `judgemind extract {cache.root} --extractor {cache.name}` "
            f"(it resumes and fills the missing ones)"
        )


def record_targets(rec: Record, fi: np.ndarray, info: DataInfo, cuts=None) -> dict[str, np.ndarray]:
    """Per-record target arrays for steps with centre frames ``fi`` (T,). ``cuts``: the camera cuts the feature
    extractor found in the video (a cache's ``cuts`` tensor), which the model's shot input then comes from; None
    -> the annotated cuts (features made from annotations, e.g. the skeleton extractor)."""
    stage = np.asarray(stage_at(rec.stages, fi), dtype=np.int64)
    bounds = np.array([(stage == 0).sum(), (stage <= 1).sum()], dtype=np.int64)
    shot = shot_index(rec.cuts if cuts is None else tuple(int(c) for c in np.asarray(cuts).reshape(-1)), fi)
    means = rec.component_means()
    comps = np.array([float(means[c]) if c in means else math.nan for c in COMPONENTS], dtype=np.float32)
    judges = np.full(max(info.n_judges, 1), math.nan, dtype=np.float32)
    totals = [float(j.total) for j in rec.judges][: len(judges)]
    judges[: len(totals)] = totals
    ded = np.zeros(info.n_items, dtype=np.float32)
    points = np.zeros(info.n_items, dtype=np.float32)
    ded_steps = np.zeros((info.n_items, len(fi)), dtype=np.float32)
    pos = {k: i for i, k in enumerate(info.item_ids)}
    for x in rec.deductions:
        if x.item in pos:
            ded[pos[x.item]] = 1.0
            points[pos[x.item]] += float(x.points)
            if x.frames is not None:
                ded_steps[pos[x.item]] = np.maximum(ded_steps[pos[x.item]], (fi >= x.frames[0]) & (fi < x.frames[1]))
    vocab = {c: i for i, c in enumerate(info.action_codes)}
    return {
        "stage": stage,
        "bounds": bounds,
        "shot": shot,
        "components": comps,
        "judges": judges,
        "deductions": ded,
        "ded_points": points,
        "ded_steps": ded_steps,
        "code": code_features(rec.action_code),
        "action": np.int64(vocab.get(rec.action_code, -1)),
        "dd": np.float32(float(rec.dd)),
        "score": np.float32(float(rec.final_score)),
    }


def load_feature_split(cache: FeatureCache, records: list[Record], info: DataInfo, name: str) -> FeatureDataset:
    """Read, check and stack the features and targets of ``records`` (one split)."""
    _missing_report(cache, records, name)
    dims = {"global": info.dim_global, "foreground": info.dim_foreground}
    cdims = cache.dims
    for key in dims:
        if cdims.get(key) != dims[key]:
            raise JudgemindError(
                f"{cache.manifest_path}: {key} features have dimension {cdims.get(key)}, the model "
                f"was built for {dims[key]}; use the features the run was trained on"
            )
    feats = [_read_record(cache, r, dims) for r in records]
    # a video-only cache carries the cuts its extractor found: the model's shot input must not read the annotation
    targets = [
        record_targets(rec, f["frame_index"].astype(np.int64), info, f.get("cuts")) for rec, f in zip(records, feats)
    ]
    out = stack_rows(feats, targets, dims)
    for k in ("score", "dd"):
        bad = ~torch.isfinite(out[k])
        if bad.any():
            rid = records[int(bad.nonzero()[0, 0])].id
            raise JudgemindError(f"record {rid!r} of split {name!r}: target {k} is NaN/Inf; fix the annotations")
    if torch.isinf(out["components"]).any():
        raise JudgemindError(f"split {name!r}: a component target is infinite; fix the annotations")
    return FeatureDataset(name, list(records), out)


def video_targets(action_code: str, dd, cuts, fi: np.ndarray, info: DataInfo) -> dict[str, np.ndarray]:
    """The targets of a video without annotations (``judgemind score``): what the model reads (action code, DD,
    camera cuts) is filled in, the truth is unknown (NaN scores, no stages: bounds -1, stage -100, no
    deductions)."""
    vocab = {c: i for i, c in enumerate(info.action_codes or ())}
    k = info.n_items
    return {
        "stage": np.full(len(fi), -100, dtype=np.int64),
        "bounds": np.full(2, -1, dtype=np.int64),
        "shot": shot_index(cuts, fi),
        "components": np.full(3, math.nan, dtype=np.float32),
        "judges": np.full(max(info.n_judges, 1), math.nan, dtype=np.float32),
        "deductions": np.zeros(k, dtype=np.float32),
        "ded_points": np.zeros(k, dtype=np.float32),
        "ded_steps": np.zeros((k, len(fi)), dtype=np.float32),
        "code": code_features(action_code),
        "action": np.int64(vocab.get(action_code, -1)),
        "dd": np.float32(float(dd)),
        "score": np.float32(math.nan),
    }


def video_batch(feats: dict[str, np.ndarray], action_code: str, dd, cuts, info: DataInfo) -> dict[str, torch.Tensor]:
    """The batch of one unannotated video (N = 1): its features (``global`` (T,Dg), ``foreground`` (T,Df),
    ``frame_index`` (T,)) stacked exactly as a split's rows are (:func:`stack_rows`)."""
    fi = feats["frame_index"].astype(np.int64)
    dims = {"global": feats["global"].shape[1], "foreground": feats["foreground"].shape[1]}
    return stack_rows([feats], [video_targets(action_code, dd, cuts, fi, info)], dims)


def stack_rows(feats: list[dict], targets: list[dict], dims: dict[str, int]) -> dict[str, torch.Tensor]:
    """Stack per-video features and targets into the batch layout (first dimension N, time padded to the longest
    video with ``mask`` False; see the module docstring)."""
    N, T = len(feats), max(f["global"].shape[0] for f in feats)
    out = {
        "global": torch.zeros(N, T, dims["global"]),
        "foreground": torch.zeros(N, T, dims["foreground"]),
        "mask": torch.zeros(N, T, dtype=torch.bool),
        "shot": torch.zeros(N, T, dtype=torch.long),
        "stage": torch.full((N, T), -100, dtype=torch.long),
        "frame_index": torch.full((N, T), -1, dtype=torch.long),
    }
    rows: dict[str, list] = {}
    for i, (f, tg) in enumerate(zip(feats, targets)):
        tg = dict(tg)
        t = f["global"].shape[0]
        fi = f["frame_index"].astype(np.int64)
        out["global"][i, :t] = torch.from_numpy(f["global"])
        out["foreground"][i, :t] = torch.from_numpy(f["foreground"])
        out["mask"][i, :t] = True
        out["frame_index"][i, :t] = torch.from_numpy(fi)
        out["stage"][i, :t] = torch.from_numpy(tg.pop("stage"))
        out["shot"][i, :t] = torch.from_numpy(tg.pop("shot"))
        steps_k = tg.pop("ded_steps")
        if "ded_steps" not in out:
            out["ded_steps"] = torch.zeros(N, steps_k.shape[0], T)
        out["ded_steps"][i, :, :t] = torch.from_numpy(steps_k)
        for k, v in tg.items():
            rows.setdefault(k, []).append(v)
    for k, v in rows.items():
        out[k] = torch.as_tensor(np.stack(v))
    out["index"] = torch.arange(N, dtype=torch.long)
    return out


def build_data_info(
    scoring: str, dims: dict[str, int], train: list[Record], all_records: list[Record] | None = None
) -> DataInfo:
    """Facts about the training data the model is built for (dimensions, vocabularies, target statistics).
    ``steps`` is left 0 here; :func:`prepare_data` sets it to the training split's T once the features are read."""
    items, version = (), ""
    if scoring.startswith("aerials"):
        cat = load_catalogue()
        items, version = cat.items, str(cat.version)
    scores = np.array([float(r.final_score) for r in train], dtype=np.float64)
    rates = tuple(
        round(sum(any(x.item == i.id for x in r.deductions) for r in train) / max(len(train), 1), 6) for i in items
    )
    return DataInfo(
        dim_global=dims["global"],
        dim_foreground=dims["foreground"],
        steps=0,
        n_items=len(items),
        n_judges=max(len(r.judges) for r in (all_records or train)),
        code_dim=CODE_DIM,
        n_actions=len({r.action_code for r in train}),
        scoring=scoring,
        item_ids=tuple(i.id for i in items),
        item_texts=tuple(i.description for i in items),
        score_max=float(scores.max()),
        item_stages=tuple(i.stage for i in items),
        item_components=tuple(i.component for i in items),
        catalogue_version=version,
        action_codes=tuple(sorted({r.action_code for r in train})),
        score_mean=float(scores.mean()),
        score_std=float(scores.std()) if len(scores) > 1 and scores.std() > 0 else 1.0,
        dd_mean=float(np.mean([float(r.dd) for r in train])),
        item_points_min=tuple(float(i.points_min) for i in items),
        item_points_max=tuple(float(i.points_max) for i in items),
        item_rates=rates,
    )


def prepare_data(data_cfg) -> PreparedData:
    """Load and check everything a training run needs (``data_cfg``: :class:`judgemind.runs.config.DataConfig`);
    every problem is a :class:`JudgemindError` raised before any training starts."""
    if not data_cfg.dataset:
        raise JudgemindError("no dataset given: pass --data DATASET (a FineSkiing dataset folder)")
    dataset = load_dataset(Path(data_cfg.dataset))
    cache = open_features(
        dataset, data_cfg.features, {"global": data_cfg.dim_global, "foreground": data_cfg.dim_foreground}
    )
    train_recs = split_records(dataset, data_cfg.train_split, "train")
    val_recs = split_records(dataset, data_cfg.val_split, "val")
    _missing_report(cache, train_recs, data_cfg.train_split)
    _missing_report(cache, val_recs, data_cfg.val_split)
    info = build_data_info(dataset.meta.scoring, cache.dims, train_recs, list(dataset.records))
    train = load_feature_split(cache, train_recs, info, data_cfg.train_split)
    info = dataclasses.replace(info, steps=int(train.tensors["mask"].shape[1]))
    val = load_feature_split(cache, val_recs, info, data_cfg.val_split)
    return PreparedData(dataset, cache, info, train, val)
