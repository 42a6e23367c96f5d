"""A tiny FineSkiing-format aerials dataset with random-but-informative cached features, made on the fly.

Each jump has a latent Air/Form/Landing quality; five judges mark it with noise; the final score follows the rules
engine. Feature tokens carry the quality of the stage they belong to plus noise, so every model can learn
something in a couple of epochs. No video files (nothing here decodes video).
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import numpy as np

from judgemind.data import DatasetMeta, write_dataset
from judgemind.features.cache import FeatureCache
from judgemind.rules import dd_for, known_codes, load_catalogue, score_aerials

STEP = 4  # frames per feature step


def _mark(x: float, top: float) -> Decimal:
    return Decimal(str(round(min(max(x, 0.0), top), 1)))


def make_toy_dataset(root: str | Path, n: int = 40, steps: int = 12, dim: int = 8, seed: int = 0,
                     features: str = "toy", splits: tuple[float, float] = (0.6, 0.2)) -> Path:
    """Write ``n`` jumps (``steps`` feature steps of ``dim`` global + ``dim`` foreground dims) under ``root``."""
    root = Path(root)
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    codes = sorted(known_codes())[:4]
    cat = load_catalogue()
    ded_items = {"landing": "landing_imbalance", "flight": "bent_knees", "takeoff": "weak_takeoff"}
    records, feats = [], {}
    proj = nrng.normal(size=(3, dim)) / np.sqrt(dim)
    code_proj = nrng.normal(size=(len(codes), dim))
    for i in range(n):
        rid = f"jump_{i:04d}"
        code = codes[i % len(codes)]
        dd = dd_for(code, None)
        q = (rng.uniform(0.8, 2.0), rng.uniform(2.0, 5.0), rng.uniform(0.8, 3.0))
        judges = [{"air": _mark(q[0] + rng.gauss(0, 0.1), 2.0), "form": _mark(q[1] + rng.gauss(0, 0.2), 5.0),
                   "landing": _mark(q[2] + rng.gauss(0, 0.15), 3.0)} for _ in range(5)]
        final = score_aerials(judges, dd).score
        F = steps * STEP
        a = int(F * rng.uniform(0.2, 0.35))
        b = int(F * rng.uniform(0.55, 0.75))
        deds = []
        for stage, comp, top in (("takeoff", 0, 2.0), ("flight", 1, 5.0), ("landing", 2, 3.0)):
            if q[comp] < 0.55 * top:
                item = cat.get(ded_items[stage])
                deds.append({"item": item.id, "stage": stage, "points": item.points_min})
        records.append({"id": rid, "video": f"videos/{rid}.mp4", "frames": [0, F], "action_code": code, "dd": dd,
                        "stages": {"takeoff": [0, a], "flight": [a, b], "landing": [b, F]},
                        "judges": judges, "final_score": final, "deductions": deds})
        centre = (np.arange(steps) * STEP + STEP // 2).astype(np.int64)
        stage = (centre >= a).astype(int) + (centre >= b).astype(int)
        qual = np.array([q[0] / 2.0, q[1] / 5.0, q[2] / 3.0])[stage]            # (T,) quality of each step's stage
        g = nrng.normal(scale=0.5, size=(steps, dim)) + qual[:, None] * 2.0 + proj[stage] * 2.0
        g[stage == 1] += code_proj[codes.index(code)]  # the flight shows which jump it is
        f = nrng.normal(scale=0.5, size=(steps, dim)) + qual[:, None] * proj[stage] * 3.0
        feats[rid] = {"global": g.astype(np.float32), "foreground": f.astype(np.float32), "frame_index": centre}
    ids = [r["id"] for r in records]
    n_tr, n_va = int(n * splits[0]), int(n * splits[1])
    meta = DatasetMeta(name="toy", fps=25.0, splits={"train": tuple(ids[:n_tr]), "val": tuple(ids[n_tr:n_tr + n_va]),
                                                     "test": tuple(ids[n_tr + n_va:])},
                       scoring="aerials5", synthetic=True, source="tests/report/toy_data.py",
                       description="toy features for tests")
    write_dataset(root, meta, records)
    cache = FeatureCache(root, features)
    cache.open_for_writing({"extractor": "toy", "steps": steps}, {"global": dim, "foreground": dim})
    for rid, t in feats.items():
        cache.save(rid, t)
    return root
