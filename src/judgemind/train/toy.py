"""Toy feature datasets for tests and benchmarks: valid FineSkiing records (no video files) plus a feature cache
whose tokens carry a learnable signal of the stages, the components and the deductions.

    make_toy_dataset(tmp / "tiny", n=24, steps=16, dim=8)           # tests: seconds, not minutes
    make_toy_tensors(n=2251, steps=96, dim_global=1024, ...)         # benchmarks: FeatureDataset in memory

Not SynthAerials (``judgemind.synth`` renders videos): these numbers mean nothing about judging.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import numpy as np
import torch

from judgemind import rules
from judgemind.data import DatasetMeta, record_from_dict, write_dataset
from judgemind.features.cache import FeatureCache
from judgemind.rules import load_catalogue
from judgemind.rules.names import COMPONENT_MAX, COMPONENTS, DEFAULT_FPS, STAGES
from judgemind.runs.batch import FeatureDataset, build_data_info, record_targets

CODES = ("bL", "bF", "bdF", "bLT", "bFT", "bFdF", "bLLL", "bFFF", "bFdFF")
# item id -> (component whose latent quality triggers it, threshold); items without a landing cap only
TRIGGERS = {
    "weak_takeoff": ("air", -0.6),
    "short_flight": ("air", -0.9),
    "bent_knees": ("form", -0.5),
    "arms_flailing": ("form", -0.9),
    "landing_imbalance": ("landing", -0.4),
    "hard_compression": ("landing", -1.0),
}
# component -> (mean, spread, max)
BASE = {c: (mu, sd, COMPONENT_MAX[c]) for c, (mu, sd) in zip(COMPONENTS, ((1.5, 0.3), (3.8, 0.6), (2.3, 0.5)))}


def _record(i: int, rng: np.random.Generator, frames: int, cat) -> dict:

    code = CODES[i % len(CODES)]
    dd = rules.dd_for(code)
    a = int(rng.integers(frames // 6, frames // 3))
    b = int(rng.integers(a + frames // 6, frames - frames // 6))
    q = {c: float(rng.normal()) for c in BASE}
    judges = []
    for _ in range(5):
        marks = {}
        for c, (mu, sd, top) in BASE.items():
            v = np.clip(mu + sd * q[c] + rng.normal(0, 0.1), 0, top)
            marks[c] = Decimal(f"{v:.1f}")
        judges.append(marks)
    score = rules.score_aerials([tuple(j[c] for c in COMPONENTS) for j in judges], dd).score
    window = dict(zip(STAGES, ([0, a], [a, b], [b, frames])))
    deductions = []
    for item_id, (comp, thr) in TRIGGERS.items():
        if q[comp] < thr:
            item = cat.get(item_id)
            deductions.append(
                {"item": item_id, "stage": item.stage, "points": item.points_min, "frames": window[item.stage]}
            )
    n_cuts = int(rng.integers(0, 3))
    cuts = sorted({int(c) for c in rng.integers(1, frames - 1, n_cuts)})
    rec = {
        "id": f"toy_{i:05d}",
        "video": f"videos/toy_{i:05d}.mp4",
        "frames": [0, frames],
        "action_code": code,
        "dd": dd,
        "stages": {s: list(w) for s, w in window.items()},
        "judges": judges,
        "final_score": score,
        "deductions": deductions,
        "cuts": cuts,
    }
    rec["_q"] = q
    return rec


def _features(rec: dict, steps: int, dims: dict[str, int], rng: np.random.Generator) -> dict[str, np.ndarray]:
    frames = rec["frames"][1]
    fi = np.round(np.linspace(0, frames - 1, steps)).astype(np.int64)
    a, b = rec["stages"]["flight"][0], rec["stages"]["landing"][0]
    stage = (fi >= a).astype(int) + (fi >= b).astype(int)
    shot = np.searchsorted(np.array(rec["cuts"], dtype=np.int64), fi, side="right")
    out = {"frame_index": fi}
    for name, d in dims.items():
        x = rng.normal(0, 1, (steps, d)).astype(np.float32)
        x[np.arange(steps), stage % d] += 2.0  # which stage a step is in
        for s, comp in enumerate(COMPONENTS):  # how well that stage went
            x[stage == s, (3 + s) % d] += rec["_q"][comp]
        x += rng.normal(0, 1.0, (int(shot.max()) + 1, d)).astype(np.float32)[shot]  # camera shots
        out[name] = x
    return out


def make_toy_dataset(
    root,
    n: int = 24,
    steps: int = 16,
    dim: int = 8,
    dim_foreground: int | None = None,
    frames: int = 64,
    seed: int = 0,
    features: str = "toy",
    splits=(0.67, 0.165),
) -> Path:
    """Write a toy dataset (``dataset.json``, ``annotations.jsonl``) and its feature cache ``features``."""

    root = Path(root)
    rng = np.random.default_rng(seed)
    cat = load_catalogue()
    recs = [_record(i, rng, frames, cat) for i in range(n)]
    n_train = max(1, int(round(splits[0] * n)))
    n_val = max(1, int(round(splits[1] * n)))
    ids = [r["id"] for r in recs]
    meta = DatasetMeta(
        name=root.name,
        fps=DEFAULT_FPS,
        scoring="aerials5",
        synthetic=True,
        source="judgemind.train.toy",
        description="toy features for tests",
        catalogue_version=str(cat.version),
        splits={
            "train": tuple(ids[:n_train]),
            "val": tuple(ids[n_train : n_train + n_val]),
            "test": tuple(ids[n_train + n_val :]),
        },
    )
    dims = {"global": dim, "foreground": dim_foreground or dim}
    cache = FeatureCache(root, features)
    cache.open_for_writing({"extractor": "toy", "steps": steps, "seed": seed}, dims)
    for r in recs:
        cache.save(r["id"], _features(r, steps, dims, rng))
    write_dataset(root, meta, [{k: v for k, v in r.items() if not k.startswith("_")} for r in recs])
    return root


def make_toy_tensors(n: int, steps: int, dim_global: int, dim_foreground: int, seed: int = 0, frames: int = 200):
    """A FineDiving-sized training split held in memory (no files): ``(FeatureDataset, DataInfo)``."""

    rng = np.random.default_rng(seed)
    cat = load_catalogue()
    raw = [_record(i, rng, frames, cat) for i in range(n)]
    records = [record_from_dict({k: v for k, v in r.items() if not k.startswith("_")})[0] for r in raw]

    info = build_data_info("aerials5", {"global": dim_global, "foreground": dim_foreground}, records)
    t = {
        "global": torch.empty(n, steps, dim_global),
        "foreground": torch.empty(n, steps, dim_foreground),
        "mask": torch.ones(n, steps, dtype=torch.bool),
        "shot": torch.empty(n, steps, dtype=torch.long),
        "stage": torch.empty(n, steps, dtype=torch.long),
        "frame_index": torch.empty(n, steps, dtype=torch.long),
    }
    rows: dict[str, list] = {}
    for i, (r, rec) in enumerate(zip(raw, records)):
        f = _features(r, steps, {"global": dim_global, "foreground": dim_foreground}, rng)
        t["global"][i], t["foreground"][i] = torch.from_numpy(f["global"]), torch.from_numpy(f["foreground"])
        t["frame_index"][i] = torch.from_numpy(f["frame_index"])
        tg = record_targets(rec, f["frame_index"], info)
        t["stage"][i], t["shot"][i] = torch.from_numpy(tg.pop("stage")), torch.from_numpy(tg.pop("shot"))
        for k, v in tg.items():
            rows.setdefault(k, []).append(v)
    for k, v in rows.items():
        t[k] = torch.as_tensor(np.stack(v))
    t["index"] = torch.arange(n)

    return FeatureDataset("train", records, t), dataclasses.replace(info, steps=steps)
