"""Training the temporal refiner (``judgemind pose train-refiner``).

Pairs: the skeleton track an estimator gave for a jump (a feature cache's ``track_*`` tensors, e.g. the
``aerialspose`` cache) and the same jump's annotated skeleton at the same frames (the truth). Half of every batch
are those real estimates, half are annotated tracks corrupted like an estimator would (:func:`corrupt`): i.i.d.
jitter, temporally correlated drift, heavy-tailed outlier frames, left/right swaps, dropped joints and frames,
missing skis (MediaPipe has none), no 3D or a noisy one, no trajectory. Real estimates are also stripped of their
skis or 3D now and then. So the refiner learns to clean tracks of any estimator, not the one it was trained on.

Losses (per step, on the points the truth has in the picture): L1 of the refined points in the input's normalised
frame, L1 of what a judge reads from them -- the 8 joint angles, the angles between the thighs and between the skis
(2D, from atan2 of cross and dot products: defined for every vector pair) and the same 11 angles in 3D --, the 3D
pose (L1, metres), the trajectory (L1 of position and of velocity, metres) and the visibility (cross-entropy).
The checkpoint with the lowest validation loss is kept; its validation figures go into the model card.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from judgemind.data import load_dataset
from judgemind.data.skeleton import JOINT_ANGLES, OUT_OF_FRAME, SKELETON_POINTS, load_skeleton
from judgemind.data.track import SkeletonTrack, track_from_skeleton
from judgemind.errors import JudgemindError
from judgemind.pose.net import FLIP
from judgemind.pose.refiner import IN_DIM, TRAJ_SCALE, Refiner, RefinerConfig, RefinerNet, input_features, save_refiner
from judgemind.utils import clean_json
from judgemind.utils.atomic import atomic_write_json
from judgemind.utils.progress import progress_bar

__all__ = ["load_pairs", "corrupt", "train_refiner", "track_errors"]

_P = {n: i for i, n in enumerate(SKELETON_POINTS)}
# (a, b, c, d): the angle between the vectors a->b and c->d
_PAIRS = [(_P[j], _P[a], _P[j], _P[b]) for a, j, b in JOINT_ANGLES] + [
    (_P["l_hip"], _P["l_knee"], _P["r_hip"], _P["r_knee"]),
    (_P["l_ski_tail"], _P["l_ski_tip"], _P["r_ski_tail"], _P["r_ski_tip"]),
]
_PA = torch.tensor(_PAIRS)
_SKIS = [_P[n] for n in ("l_ski_tip", "l_ski_tail", "r_ski_tip", "r_ski_tail")]
_PELVIS = _P["pelvis"]


# ---------------------------------------------------------------------------------------------------------------
# data


def load_pairs(root, ds, records, cache) -> list[tuple[SkeletonTrack, SkeletonTrack]]:
    """(estimate, truth) track pairs of ``records``: the estimate from ``cache`` (a feature cache of the data set at
    ``root`` whose files hold ``track_*`` tensors: ``load(id)``, ``missing(ids)``, ``path(id)``, ``dir``; pose/ sits
    below features/, so the caller opens it), the truth from the records' annotated skeletons at the same frames."""
    layout = ds.meta.skeleton
    idx = [layout.points.index(n) for n in SKELETON_POINTS] if layout is not None else []
    out = []
    missing = cache.missing([r.id for r in records])
    if missing:
        raise JudgemindError(
            f"{cache.dir}: no features for {len(missing)} records (e.g. {missing[0]!r}); run "
            f"`judgemind extract {root} --extractor aerialspose` (or the cache's extractor) first"
        )
    for rec in records:
        est = SkeletonTrack.from_tensors(cache.load(rec.id), f"{cache.path(rec.id)}")
        sk = load_skeleton(root, rec, layout)
        rows = np.asarray(est.frames, np.int64) - int(rec.frames[0])
        if rows.min() < 0 or rows.max() >= len(sk.uv):
            raise JudgemindError(f"{cache.path(rec.id)}: the track's frames lie outside record {rec.id!r}")
        truth = track_from_skeleton(
            sk.uv[rows][:, idx],
            sk.visibility[rows][:, idx],
            sk.world[rows][:, idx],
            est.frames,
            est.cuts,
            est.frame_size,
            est.fps,
        )
        out.append((est, truth))
    return out


def _box_side(track: SkeletonTrack) -> np.ndarray:
    b = np.asarray(track.box, np.float64)
    return np.maximum(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]), 4.0)


def corrupt(truth: SkeletonTrack, rng: np.random.Generator, camera: np.ndarray | None = None) -> SkeletonTrack:
    """An annotated track made to look like an estimator's (see the module docstring); ``camera`` (T, 4): the
    camera's motion measured from the video, when known."""
    T = len(truth)
    uv = np.asarray(truth.uv, np.float64).copy()
    vis = np.asarray(truth.visibility).copy()
    s = _box_side(truth)[:, None, None]
    uv += rng.normal(size=uv.shape) * rng.uniform(0.0, 0.06) * s  # jitter
    drift = np.cumsum(rng.normal(size=uv.shape), axis=0) / np.sqrt(np.arange(1, T + 1))[:, None, None]
    uv += drift * rng.uniform(0.0, 0.04) * s  # drift
    bad = rng.random(T) < rng.uniform(0.0, 0.12)  # outliers
    hit = bad[:, None] & (rng.random((T, uv.shape[1])) < 0.4)
    uv += hit[..., None] * rng.standard_t(2, size=uv.shape).clip(-8, 8) * 0.25 * s
    sw = rng.random(T) < rng.uniform(0.0, 0.05)  # swaps
    uv[sw], vis[sw] = uv[sw][:, FLIP], vis[sw][:, FLIP]
    vis = np.where(rng.random(vis.shape) < rng.uniform(0.0, 0.1), OUT_OF_FRAME, vis)  # dropped
    if rng.random() < 0.3:
        vis[:, _SKIS] = OUT_OF_FRAME  # no skis
    found = rng.random(T) >= rng.uniform(0.0, 0.08)  # lost frames
    for t in np.flatnonzero(~found):
        k = t - 1 if t > 0 else t + 1
        if 0 <= k < T:
            uv[t], vis[t] = uv[k], vis[k]
    world_rel = None
    if truth.world_rel is not None and rng.random() < 0.6:
        w = np.asarray(truth.world_rel, np.float64)
        world_rel = (w + rng.normal(size=w.shape) * rng.uniform(0.03, 0.3)).astype(np.float32)
        world_rel[:, _PELVIS] = 0.0
    traj = None
    if truth.trajectory is not None and rng.random() < 0.3:
        traj = (np.asarray(truth.trajectory) + rng.normal(size=(T, 3)) * rng.uniform(0.1, 1.0)).astype(np.float32)
    conf = np.clip((vis > OUT_OF_FRAME) * rng.uniform(0.6, 1.0, size=vis.shape), 0, 1)
    cam = np.zeros((T, 4), np.float32) if camera is None or rng.random() < 0.3 else np.asarray(camera, np.float32)
    return replace(
        truth,
        uv=uv.astype(np.float32),
        visibility=vis.astype(np.int8),
        confidence=conf.astype(np.float32),
        found=found,
        detector=found.astype(np.float32) * rng.uniform(0.7, 1.0),
        camera=cam,
        world_rel=world_rel,
        trajectory=traj,
        source="simulated estimator",
    )


def _strip(est: SkeletonTrack, rng: np.random.Generator) -> SkeletonTrack:
    """A real estimate, now and then without its skis or its 3D (what another estimator would not give)."""
    if rng.random() < 0.2:
        vis = np.asarray(est.visibility).copy()
        vis[:, _SKIS] = OUT_OF_FRAME
        conf = np.asarray(est.confidence).copy()
        conf[:, _SKIS] = 0.0
        est = replace(est, visibility=vis, confidence=conf)
    if rng.random() < 0.2:
        est = replace(est, world_rel=None)
    return est


def _targets(est: SkeletonTrack, truth: SkeletonTrack, c: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
    inside = truth.in_picture
    norm = np.where(inside[..., None], (np.asarray(truth.uv, np.float64) - c[:, None]) / s[:, None, None], 0.0)
    has3d = truth.world_rel is not None
    return {
        "uv": norm.astype(np.float32),
        "inside": inside.astype(np.float32),
        "vis": np.asarray(truth.visibility, np.int64),
        "world": np.zeros((len(truth), 19, 3), np.float32) if not has3d else np.asarray(truth.world_rel, np.float32),
        "has3d": np.float32(has3d),
        "traj": np.zeros((len(truth), 3), np.float32)
        if truth.trajectory is None
        else np.asarray(truth.trajectory, np.float32),
        "hastraj": np.float32(truth.trajectory is not None),
    }


def _batch(samples) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Tracks of different lengths padded to the longest (``mask`` 1 on real steps)."""
    T = max(len(e) for e, _ in samples)
    B = len(samples)
    x = np.zeros((B, T, IN_DIM), np.float32)
    mask = np.zeros((B, T), np.float32)
    tg = {
        "uv": np.zeros((B, T, 19, 2), np.float32),
        "inside": np.zeros((B, T, 19), np.float32),
        "vis": np.zeros((B, T, 19), np.int64),
        "world": np.zeros((B, T, 19, 3), np.float32),
        "has3d": np.zeros(B, np.float32),
        "traj": np.zeros((B, T, 3), np.float32),
        "hastraj": np.zeros(B, np.float32),
        "in_uv": np.zeros((B, T, 19, 2), np.float32),
    }
    for b, (est, truth) in enumerate(samples):
        n = len(est)
        xi, c, s = input_features(est)
        x[b, :n], mask[b, :n] = xi, 1.0
        t = _targets(est, truth, c, s)
        for k in ("uv", "inside", "vis", "world", "traj"):
            tg[k][b, :n] = t[k]
        tg["has3d"][b], tg["hastraj"][b] = t["has3d"], t["hastraj"]
        tg["in_uv"][b, :n] = xi[:, :38].reshape(n, 19, 2)
    out = {k: torch.from_numpy(v) for k, v in tg.items()}
    out["mask"] = torch.from_numpy(mask)
    return torch.from_numpy(x), out


# ---------------------------------------------------------------------------------------------------------------
# losses


def _pair_angles(p: torch.Tensor) -> torch.Tensor:
    """(..., 19, D) points -> (..., 10) angles between the vector pairs of ``_PAIRS`` (atan2 of |cross| and dot:
    smooth and defined for every pair)."""
    u = p[..., _PA[:, 1], :] - p[..., _PA[:, 0], :]
    v = p[..., _PA[:, 3], :] - p[..., _PA[:, 2], :]
    dot = (u * v).sum(-1)
    if p.shape[-1] == 2:
        cross = (u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]).abs()
    else:
        cross = torch.sqrt(torch.linalg.cross(u, v).pow(2).sum(-1) + 1e-8)
    return torch.atan2(cross, dot)


def losses(out: dict[str, torch.Tensor], x: torch.Tensor, tg: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    m = tg["mask"]
    ins = tg["inside"] * m[..., None]
    uv = tg["in_uv"] + out["d_uv"]
    l_uv = ((uv - tg["uv"]).abs().sum(-1) * ins).sum() / ins.sum().clamp(min=1)
    pin = ins[..., _PA]  # (B, T, 10, 4): all four points in the picture
    am = pin.prod(-1)
    l_ang = ((_pair_angles(uv) - _pair_angles(tg["uv"])).abs() * am).sum() / am.sum().clamp(min=1)
    ce = torch.nn.functional.cross_entropy(out["vis"].reshape(-1, 3), tg["vis"].reshape(-1), reduction="none")
    l_vis = (ce.reshape(m.shape + (19,)) * m[..., None]).sum() / (m.sum() * 19).clamp(min=1)
    m3 = m * tg["has3d"][:, None]
    l_w = ((out["world"] - tg["world"]).abs().sum(-1).mean(-1) * m3).sum() / m3.sum().clamp(min=1)
    l_w_ang = ((_pair_angles(out["world"]) - _pair_angles(tg["world"])).abs().mean(-1) * m3).sum() / m3.sum().clamp(
        min=1
    )
    mt = m * tg["hastraj"][:, None]
    l_tr = ((out["traj"] - tg["traj"]).abs().sum(-1) * mt).sum() / mt.sum().clamp(min=1) / TRAJ_SCALE
    dv = (out["traj"][:, 1:] - out["traj"][:, :-1]) - (tg["traj"][:, 1:] - tg["traj"][:, :-1])
    mv = mt[:, 1:] * mt[:, :-1]
    l_trv = (dv.abs().sum(-1) * mv).sum() / mv.sum().clamp(min=1)
    total = 10 * l_uv + l_ang + 0.2 * l_vis + 2 * l_w + l_w_ang + 0.5 * (l_tr + l_trv)
    return {
        "total": total,
        "uv": l_uv,
        "angles": l_ang,
        "vis": l_vis,
        "world": l_w,
        "world_angles": l_w_ang,
        "traj": l_tr,
        "traj_vel": l_trv,
    }


# ---------------------------------------------------------------------------------------------------------------
# evaluation


def track_errors(pairs, refiner=None) -> dict[str, float]:
    """Point accuracy of estimate tracks (refined by ``refiner`` when given) against their truth: PCK@0.05 / 0.1
    of the true box height, left/right swap rate (frames whose points sit closer to the mirrored truth), 2D joint
    angle error (degrees), 3D error (cm, pelvis-relative, mean per joint), trajectory error (m, median)."""
    hits05 = hits10 = n = 0
    swaps = frames = 0
    ang, e3, etr = [], [], []
    for est, truth in pairs:
        tr = refiner(est) if refiner is not None else est
        tuv, puv = np.asarray(truth.uv, np.float64), np.asarray(tr.uv, np.float64)
        tin = truth.in_picture
        ys = np.where(tin, tuv[..., 1], np.nan)
        with np.errstate(all="ignore"):
            h = np.nan_to_num(np.nanmax(ys, 1) - np.nanmin(ys, 1), nan=1.0)
        h = np.maximum(h, 1.0)
        d = np.linalg.norm(puv - tuv, axis=-1) / h[:, None]
        d = np.where(tr.in_picture, d, np.inf)  # a point the estimate lost counts as a miss
        hits05 += int((d[tin] <= 0.05).sum())
        hits10 += int((d[tin] <= 0.1).sum())
        n += int(tin.sum())
        dm = np.linalg.norm(puv - tuv[:, FLIP], axis=-1) / h[:, None]
        both = tin & tin[:, FLIP] & tr.in_picture
        for t in range(len(tr)):
            if both[t].sum() >= 6:
                frames += 1
                swaps += int(np.median(dm[t, both[t]]) < 0.5 * np.median(d[t, both[t]]))
        with torch.no_grad():
            a_p = _pair_angles(torch.from_numpy(puv)).numpy()
            a_t = _pair_angles(torch.from_numpy(tuv)).numpy()
        am = tin[:, _PA.numpy()].all(-1) & tr.in_picture[:, _PA.numpy()].all(-1)
        ang.extend(np.degrees(np.abs(a_p - a_t))[am].tolist())
        if tr.world_rel is not None and truth.world_rel is not None:
            e3.append(float(np.linalg.norm(np.asarray(tr.world_rel) - np.asarray(truth.world_rel), axis=-1).mean()))
        if tr.trajectory is not None and truth.trajectory is not None:
            etr.extend(np.linalg.norm(np.asarray(tr.trajectory) - np.asarray(truth.trajectory), axis=-1).tolist())
    return {
        "pck05": hits05 / max(n, 1),
        "pck10": hits10 / max(n, 1),
        "swap_rate": swaps / max(frames, 1),
        "angle_error_deg": float(np.mean(ang)) if ang else None,
        "error_3d_cm": 100 * float(np.mean(e3)) if e3 else None,
        "trajectory_error_m_median": float(np.median(etr)) if etr else None,
    }


# ---------------------------------------------------------------------------------------------------------------
# training


def _val_loss(net, pairs, batch: int) -> float:
    net.eval()
    tot, n = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(pairs), batch):
            x, tg = _batch(pairs[i : i + batch])
            tot += float(losses(net(x), x, tg)["total"]) * len(pairs[i : i + batch])
            n += len(pairs[i : i + batch])
    net.train()
    return tot / max(n, 1)


def train_refiner(
    root,
    out,
    cache,
    *,
    steps: int = 3000,
    batch: int = 32,
    lr: float = 2e-3,
    width: int = 128,
    seed: int = 0,
    threads: int = 0,
    simulated: float = 0.5,
    eval_every: int = 250,
    limit: int = 0,
    progress: bool = True,
    log=print,
) -> dict:
    """Train a refiner on the data set at ``root`` (its ``train`` split; ``val`` picks the checkpoint) from the
    estimate tracks of ``cache`` (see :func:`load_pairs`); write ``out/refiner.safetensors`` and
    ``out/model_card.json``. Returns the model card."""
    if threads:
        torch.set_num_threads(int(threads))
    if not 0.0 <= simulated <= 1.0:
        raise JudgemindError(f"--simulated is the share of simulated estimates in a batch, 0-1; got {simulated}")
    t0 = time.time()
    ds = load_dataset(root)
    tr_recs, va_recs = ds.split("train"), ds.split("val")
    if limit:
        tr_recs, va_recs = tr_recs[:limit], va_recs[: max(limit // 4, 2)]
    if not tr_recs or not va_recs:
        raise JudgemindError(f"{root}: the refiner needs a train and a val split with records")
    train = load_pairs(root, ds, tr_recs, cache)
    val = load_pairs(root, ds, va_recs, cache)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    val_sim = [(corrupt(t, np.random.default_rng([seed, 1, i]), e.camera), t) for i, (e, t) in enumerate(val)]
    net = RefinerNet(RefinerConfig(width=width))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    # one-cycle: warm up over the first tenth, then anneal (a constant rate for very short runs, e.g. tests)
    sched = (
        torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
        if steps >= 20
        else torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    best, best_state, history = float("inf"), None, []
    bar = progress_bar(total=steps, desc="train-refiner", unit="step", enabled=progress)
    for step in range(1, steps + 1):
        pick = rng.integers(0, len(train), size=batch)
        samples = []
        for i in pick:
            est, truth = train[int(i)]
            samples.append(
                (corrupt(truth, rng, est.camera), truth) if rng.random() < simulated else (_strip(est, rng), truth)
            )
        x, tg = _batch(samples)
        loss = losses(net(x), x, tg)
        opt.zero_grad()
        loss["total"].backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        bar.update(1)
        if step % eval_every == 0 or step == steps:
            v = 0.5 * (_val_loss(net, val, 64) + _val_loss(net, val_sim, 64))
            history.append({"step": step, "train_loss": float(loss["total"].detach()), "val_loss": v})
            if v < best:
                best, best_state = v, {k: t.detach().clone() for k, t in net.state_dict().items()}
    bar.close()
    net.load_state_dict(best_state)
    net.eval()
    ref = Refiner(net)
    card = {
        "format": "judgemind-refiner-1",
        "data": str(root),
        "source": Path(str(cache.dir)).name,
        "steps": steps,
        "batch": batch,
        "lr": lr,
        "width": width,
        "seed": seed,
        "simulated_share": simulated,
        "train_records": len(train),
        "val_records": len(val),
        "parameters": int(sum(p.numel() for p in net.parameters())),
        "minutes": round((time.time() - t0) / 60, 1),
        "history": history,
        "best_val_loss": best,
        "val_before": track_errors(val),
        "val_after": track_errors(val, ref),
        "val_simulated_before": track_errors(val_sim),
        "val_simulated_after": track_errors(val_sim, ref),
    }
    card = clean_json(card)  # strict JSON: an undefined figure is null
    save_refiner(net, out / "refiner.safetensors", card)
    atomic_write_json(out / "model_card.json", card)
    log(
        json.dumps(
            {k: card[k] for k in ("val_before", "val_after", "val_simulated_before", "val_simulated_after", "minutes")},
            indent=1,
        )
    )
    return card
