"""Training AerialsPose on a data set with skeletons (``judgemind pose train``).

Both networks learn from the same frames (``per_record`` frames of every training jump, decoded once):

- PoseNet on crops around the annotated box, jittered in scale (log-normal, s.d. ``aug_scale``) and position
  (normal, s.d. ``aug_shift`` of the crop side) so that it tolerates the detector's errors; 30 % of them down-
  and up-sampled (smaller renders, distant athletes); half of them mirrored (left and right points exchanged, the
  3D target left out); brightness, contrast and pixel noise jittered.
  Loss: cross-entropy of each heatmap against a Gaussian around the true point (s.d. 1 cell) + 20 x the L1 error
  of the soft-argmax position (in crop sides), for points in the picture and inside the crop; cross-entropy of
  the 3 visibility classes; L1 of the pelvis-relative 3D points (metres).
- BoxNet on letterboxed frames (half mirrored): presence (BCE), the centre cell (cross-entropy over the grid),
  the centre's offset in its cell and the log box size (L1), the last three where an athlete is in the picture.

AdamW with a one-cycle schedule; a checkpoint (weights + optimiser + step + RNG) is written atomically every
``save_every`` steps to ``OUT/train_state.pt`` so an interrupted run resumes where it stopped; the final weights go
to ``OUT/aerialspose.safetensors`` and the model card to ``OUT/model_card.json``.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from judgemind.data import load_dataset
from judgemind.data.skeleton import OUT_OF_FRAME
from judgemind.errors import JudgemindError
from judgemind.pose.data import PoseSamples, load_samples, skeleton_box
from judgemind.pose.evaluate import pck_report
from judgemind.pose.net import FLIP, AerialsPoseModel, PoseConfig, load_weights, save_weights, to_tensor
from judgemind.utils import clean_json
from judgemind.utils.atomic import atomic_path, atomic_write_json, make_dirs, remove_made_dirs
from judgemind.utils.optional import load_cv2
from judgemind.utils.progress import progress_bar
from judgemind.video.crop import apply_affine, crop_transform, letterbox_transform, warp_crop, warp_letterbox

__all__ = ["PoseTrainConfig", "train_pose", "pose_batch", "box_batch"]


_RUNTIME = ("threads", "save_every")  # settings that do not change the result: a run may resume with others


@dataclass
class PoseTrainConfig:
    steps: int = 2500
    batch: int = 64
    box_batch: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    per_record: int = 16
    split: str = "train"
    seed: int = 0
    width: int = 24
    box_width: int = 16
    crop: int = 64
    margin: float = 1.3
    aug_scale: float = 0.12
    aug_shift: float = 0.06
    save_every: int = 250
    threads: int = 0
    init: str = ""  # start from these weights (same layout) instead of a random initialisation


def _photometric(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 (B, h, w, 3) -> float32 (B, 3, h, w) in [0, 1] with brightness/contrast/noise jitter."""
    x = x.astype(np.float32) / 255.0
    B = len(x)
    gain = rng.uniform(0.75, 1.25, (B, 1, 1, 1)).astype(np.float32)
    bias = rng.uniform(-0.08, 0.08, (B, 1, 1, 1)).astype(np.float32)
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    x = (x - mean) * gain + mean + bias + rng.normal(0, 0.02, x.shape).astype(np.float32)
    return np.clip(x, 0, 1).transpose(0, 3, 1, 2)


def pose_batch(
    s: PoseSamples,
    idx: np.ndarray,
    cfg: PoseConfig,
    rng: np.random.Generator | None,
    aug_scale: float = 0.0,
    aug_shift: float = 0.0,
) -> dict[str, torch.Tensor]:
    """Crops and targets for the samples ``idx`` (each must have a point in the picture); ``rng`` None = no
    augmentation (evaluation)."""

    C = cfg.crop
    crops = np.zeros((len(idx), C, C, 3), np.uint8)
    xy = np.zeros((len(idx), 19, 2), np.float32)
    vis = np.zeros((len(idx), 19), np.int64)
    world = np.zeros((len(idx), 19, 3), np.float32)
    world_ok = np.zeros(len(idx), bool)
    for k, i in enumerate(idx):
        box = skeleton_box(s.uv[i], s.vis[i])
        scale, shift, flip = 1.0, (0.0, 0.0), False
        if rng is not None:
            scale = float(math.exp(rng.normal(0, aug_scale)))
            shift = tuple(rng.normal(0, aug_shift, 2))
            flip = bool(rng.random() < 0.5)
        M = crop_transform(box, cfg.margin, C, scale, shift)
        img = warp_crop(s.frames[i], M, C)
        p = apply_affine(M, s.uv[i])
        v = s.vis[i].astype(np.int64)
        w = s.world[i]
        if rng is not None and rng.random() < 0.3:  # a smaller render or a distant athlete: fewer pixels
            cv2 = load_cv2()

            lo = max(8, int(round(C * rng.uniform(0.35, 0.8))))
            img = cv2.resize(
                cv2.resize(img, (lo, lo), interpolation=cv2.INTER_AREA), (C, C), interpolation=cv2.INTER_LINEAR
            )
        if flip:
            img = img[:, ::-1]
            p = p[FLIP]
            p[:, 0] = C - p[:, 0]
            v = v[FLIP]
        crops[k] = img
        xy[k], vis[k] = p, v
        if not flip and np.isfinite(w).all():
            world[k], world_ok[k] = w, True
    x = torch.from_numpy(_photometric(crops, rng)) if rng is not None else to_tensor(crops)
    inside = (vis > OUT_OF_FRAME) & (xy >= 0).all(-1) & (xy < C).all(-1)
    return {
        "image": x,
        "xy": torch.from_numpy(xy),
        "vis": torch.from_numpy(vis),
        "mask": torch.from_numpy(inside),
        "world": torch.from_numpy(world),
        "world_ok": torch.from_numpy(world_ok),
    }


def box_batch(
    s: PoseSamples, idx: np.ndarray, lb: np.ndarray, cfg: PoseConfig, rng: np.random.Generator | None
) -> dict[str, torch.Tensor]:
    """Letterboxed frames ``lb`` (N, S, S, 3) of the samples and the box targets (input pixels)."""
    S = cfg.box_input
    imgs = lb[idx].copy()
    present = np.zeros(len(idx), np.float32)
    boxes = np.zeros((len(idx), 4), np.float32)
    for k, i in enumerate(idx):
        b = skeleton_box(s.uv[i], s.vis[i])
        h, w = s.frames[i].shape[:2]
        if b is not None:
            M = letterbox_transform(w, h, S)
            boxes[k] = apply_affine(M, b.reshape(2, 2)).reshape(4)
            present[k] = 1.0
        if rng is not None and rng.random() < 0.5:
            imgs[k] = imgs[k][:, ::-1]
            boxes[k] = (S - boxes[k, 2], boxes[k, 1], S - boxes[k, 0], boxes[k, 3])
    x = torch.from_numpy(_photometric(imgs, rng)) if rng is not None else to_tensor(imgs)
    return {"image": x, "present": torch.from_numpy(present), "box": torch.from_numpy(boxes)}


def pose_loss(out: dict, b: dict, cfg: PoseConfig) -> tuple[torch.Tensor, dict[str, float]]:
    heat = out["heatmap"]
    B, P, h, w = heat.shape
    stride = cfg.crop / w
    gt = b["xy"] / stride  # heatmap cells
    xs = torch.arange(w, dtype=torch.float32) + 0.5
    ys = torch.arange(h, dtype=torch.float32) + 0.5
    g = torch.exp(
        -((xs.view(1, 1, 1, w) - gt[..., 0, None, None]) ** 2 + (ys.view(1, 1, h, 1) - gt[..., 1, None, None]) ** 2)
        / 2.0
    )
    g = g / g.flatten(2).sum(-1).clamp_min(1e-9)[..., None, None]
    logp = heat.flatten(2).log_softmax(-1).view(B, P, h, w)
    m = b["mask"].float()
    n = m.sum().clamp_min(1.0)
    ce = -((g * logp).flatten(2).sum(-1) * m).sum() / n
    l1 = ((out["xy"] - b["xy"]).abs().sum(-1) / cfg.crop * m).sum() / n
    vis = F.cross_entropy(out["visibility"].reshape(-1, 3), b["vis"].reshape(-1))
    wm = b["world_ok"].float()[:, None, None]
    world = ((out["world"] - b["world"]).abs() * wm).sum() / (wm.sum() * P * 3).clamp_min(1.0)
    loss = ce + 20.0 * l1 + vis + world
    parts = {"heat": ce, "xy": l1, "vis": vis, "world": world}
    return loss, {k: float(v.detach()) for k, v in parts.items()}


def box_loss(out: dict, b: dict, cfg: PoseConfig) -> tuple[torch.Tensor, dict[str, float]]:
    S, G = cfg.box_input, cfg.box_input // 8
    pres = F.binary_cross_entropy_with_logits(out["present"], b["present"])
    box = b["box"]
    c = (box[:, :2] + box[:, 2:]) / 2 / 8.0  # grid units
    cell_xy = c.clamp(0, G - 1e-4).floor().long()
    cell = cell_xy[:, 1] * G + cell_xy[:, 0]
    m = b["present"]
    n = m.sum().clamp_min(1.0)
    ce = (F.cross_entropy(out["cell"], cell, reduction="none") * m).sum() / n
    ar = torch.arange(len(box))
    off = out["offset"][ar, :, cell_xy[:, 1], cell_xy[:, 0]]
    size = out["size"][ar, :, cell_xy[:, 1], cell_xy[:, 0]]
    wh = (box[:, 2:] - box[:, :2]).clamp_min(1.0) / S
    reg = (((off - (c - cell_xy.float())).abs().sum(-1) + (size - wh.log()).abs().sum(-1)) * m).sum() / n
    parts = {"present": pres, "cell": ce, "reg": reg}
    return pres + ce + reg, {k: float(v.detach()) for k, v in parts.items()}


def _lr(step: int, total: int, peak: float) -> float:
    warm = max(1, total // 20)
    if step < warm:
        return peak * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return peak * 0.5 * (1 + math.cos(math.pi * t))


STATE_KEYS = ("config", "model", "optim", "step", "seconds", "rng", "torch_rng")


def train_pose(
    data: str | os.PathLike, out: str | os.PathLike, cfg: PoseTrainConfig, *, progress: bool = True, log=print
) -> dict[str, Any]:
    """Train both networks on ``data``'s ``cfg.split``; resumable from ``out/train_state.pt``. Returns the model
    card (also written to ``out/model_card.json``). A run that fails leaves no empty ``out`` folder that it made
    (a saved training state is kept: the same command resumes from it)."""

    out = Path(out)
    made = make_dirs(out)
    try:
        return _train(data, out, cfg, progress, log)
    except BaseException:
        remove_made_dirs(made)
        raise


def _train(data, out: Path, cfg: PoseTrainConfig, progress: bool, log) -> dict[str, Any]:
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    pcfg = PoseConfig(crop=cfg.crop, margin=cfg.margin, width=cfg.width, box_width=cfg.box_width)
    t0 = time.time()
    log(f"reading {cfg.per_record} frames of every {cfg.split!r} jump of {data} ...")
    s = load_samples(data, cfg.split.split(","), cfg.per_record, seed=cfg.seed, progress=progress)
    lb = np.stack([warp_letterbox(f, pcfg.box_input) for f in s.frames])
    has = np.flatnonzero((s.vis > OUT_OF_FRAME).any(-1))
    if not len(has):
        raise JudgemindError(f"{data}: no frame of split {cfg.split!r} shows the athlete")
    log(f"{len(s)} frames ({len(has)} with the athlete) in {time.time() - t0:.0f} s")
    torch.manual_seed(cfg.seed)
    model = AerialsPoseModel(pcfg)
    if cfg.init:
        start, _ = load_weights(cfg.init)
        if start.cfg != pcfg:
            raise JudgemindError(
                f"{cfg.init}: weights of layout {start.cfg.to_dict()}, but this run trains "
                f"{pcfg.to_dict()}; pass the same --width (and crop) or drop --init"
            )
        model.load_state_dict(start.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed + 1)
    state_path = out / "train_state.pt"
    step, seconds, losses = 0, 0.0, []
    if state_path.exists():
        step, seconds, losses = load_state(state_path, cfg, model, opt, rng)
        log(f"resuming at step {step}/{cfg.steps}")
    seconds = _steps(model, opt, s, has, lb, pcfg, cfg, rng, step, seconds, losses, state_path, progress)
    model.eval()
    bad = [k for k, v in model.state_dict().items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise JudgemindError(
            f"training diverged: {len(bad)} tensors hold NaN or infinite values ({bad[0]}, ...); "
            f"lower --lr, delete {state_path} and train again"
        )
    card = _card(data, out, cfg, pcfg, model, s, losses, seconds)
    weights = save_weights(model, out / "aerialspose.safetensors", card)
    card["weights_bytes"] = weights.stat().st_size  # the JSON card only: the size includes the header's card
    atomic_write_json(out / "model_card.json", clean_json(card))
    return card


def _steps(
    model,
    opt,
    s,
    has,
    lb,
    pcfg,
    cfg: PoseTrainConfig,
    rng,
    step: int,
    seconds: float,
    losses: list,
    state_path: Path,
    progress: bool,
) -> float:
    """Optimisation steps ``step`` .. ``cfg.steps``, saving the resumable state every ``cfg.save_every``;
    returns the training time in seconds (resumed runs included)."""
    bar = None
    if progress:
        bar = progress_bar(total=cfg.steps, initial=step, desc="pose train", unit="step")
    model.train()
    t_start = time.time() - seconds
    while step < cfg.steps:
        for gparam in opt.param_groups:
            gparam["lr"] = _lr(step, cfg.steps, cfg.lr)
        pb = pose_batch(s, rng.choice(has, cfg.batch), pcfg, rng, cfg.aug_scale, cfg.aug_shift)
        lp, parts = pose_loss(model.pose(pb["image"]), pb, pcfg)
        bb = box_batch(s, rng.choice(len(s), cfg.box_batch), lb, pcfg, rng)
        lbx, bparts = box_loss(model.box(bb["image"]), bb, pcfg)
        opt.zero_grad(set_to_none=True)
        (lp + lbx).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(float(lp.detach()) + float(lbx.detach()))
        step += 1
        if bar is not None:
            bar.update(1)
            if step % 10 == 0:
                bar.set_postfix(
                    xy=f"{parts['xy']:.3f}",
                    vis=f"{parts['vis']:.2f}",
                    w=f"{parts['world']:.3f}",
                    cell=f"{bparts['cell']:.2f}",
                )
        if step % cfg.save_every == 0 or step == cfg.steps:
            with atomic_path(state_path) as tmp:
                torch.save(
                    {
                        "config": asdict(cfg),
                        "model": model.state_dict(),
                        "optim": opt.state_dict(),
                        "step": step,
                        "seconds": time.time() - t_start,
                        "rng": json.dumps(rng.bit_generator.state),
                        "torch_rng": torch.get_rng_state(),
                        "losses": losses,
                    },
                    tmp,
                )
    if bar is not None:
        bar.close()
    return time.time() - t_start


def _card(data, out: Path, cfg: PoseTrainConfig, pcfg: PoseConfig, model, s, losses: list, seconds: float) -> dict:
    """The model card: what was trained on what, how long, its losses and its validation PCK."""
    card: dict[str, Any] = {
        "name": "AerialsPose",
        "format": "judgemind-aerialspose-1",
        "trained_on": str(data),
        "split": cfg.split,
        "train_frames": int(len(s)),
        "train_config": asdict(cfg),
        "layout": pcfg.to_dict(),
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "train_seconds": round(seconds, 1),
        "threads": torch.get_num_threads(),
        "loss_first": round(float(np.mean(losses[: max(1, len(losses) // 10)])), 4) if losses else None,
        "loss_last": round(float(np.mean(losses[-max(1, len(losses) // 10) :])), 4) if losses else None,
        "command": " ".join(
            [
                "judgemind pose train",
                f"--data {data} --out {out} --steps {cfg.steps}",
                f"--lr {cfg.lr:g} --width {cfg.width} --per-record {cfg.per_record}",
                f"--seed {cfg.seed}",
            ]
            + ([f"--init {cfg.init}"] if cfg.init else [])
        ),
    }

    try:
        meta = load_dataset(data).meta
        card["data_source"] = getattr(meta, "source", "")
    except JudgemindError:
        pass
    val_split = "val"
    try:
        rep = pck_report(model, data, split=val_split, per_record=4, seed=cfg.seed + 99, progress=False)
        card["val"] = {"split": val_split, **rep["summary"]}
    except JudgemindError as e:
        card["val"] = {"error": str(e)}
    return card


def load_state(path: Path, cfg: PoseTrainConfig, model, opt, rng: np.random.Generator) -> tuple[int, float, list]:
    """Restore ``model``, ``opt``, ``rng`` and torch's generator from a saved training state; ``(step, seconds,
    losses)``. Everything is checked before it is used (a file of another run, a missing key, a tensor of another
    shape or type, NaN weights, a non-integer step, an RNG state that is not numpy's JSON): a
    :class:`JudgemindError` naming the file and what is wrong, never a crash later or NaN weights written."""
    try:
        st = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 -- torch raises many types for a damaged file
        raise JudgemindError(
            f"{path}: cannot read the saved training state ({type(e).__name__}); delete it to start again"
        ) from None

    def damaged(what: str) -> JudgemindError:
        return JudgemindError(f"{path}: the saved training state is damaged ({what}); delete it to start again")

    if not isinstance(st, dict):
        raise damaged(f"a {type(st).__name__}, not a dict")
    missing = [k for k in STATE_KEYS if k not in st]
    if missing:
        raise damaged(f"no {', '.join(missing)}")
    saved = st["config"]
    same = {k: v for k, v in asdict(cfg).items() if k not in _RUNTIME}
    if not isinstance(saved, dict) or {k: v for k, v in saved.items() if k not in _RUNTIME} != same:
        raise JudgemindError(
            f"{path}: an interrupted run with other settings ({repr(saved)[:300]}); "
            f"use another --out or delete the file to start again"
        )
    step, seconds, losses = st["step"], st["seconds"], st.get("losses", [])
    if type(step) is not int or not 0 <= step <= cfg.steps:
        raise damaged(f"step {str(step)[:40]!r} is not a whole number 0-{cfg.steps}")
    if type(seconds) not in (int, float) or not 0 <= seconds < 1e9:
        raise damaged(f"seconds {str(seconds)[:40]!r} is not a duration")
    if not isinstance(losses, list) or len(losses) > step or any(type(x) not in (int, float) for x in losses):
        raise damaged("losses is not a list of numbers, one per step")
    _check_tensors(st["model"], model.state_dict(), "model", damaged)
    rng_state = _rng_state(st["rng"], damaged)
    trng = st["torch_rng"]
    if not (isinstance(trng, torch.Tensor) and trng.dtype == torch.uint8 and trng.shape == torch.get_rng_state().shape):
        raise damaged("torch_rng is not torch's generator state")
    model.load_state_dict(st["model"])
    _load_optimizer(opt, st["optim"], damaged)
    rng.bit_generator.state = rng_state
    torch.set_rng_state(trng)
    return step, float(seconds), [float(x) for x in losses]


def _check_tensors(got: Any, want: dict, what: str, damaged) -> None:
    """``got`` is a dict of tensors with ``want``'s names, shapes and types, finite where floating."""
    if not isinstance(got, dict) or set(got) != set(want):
        raise damaged(f"{what} does not hold this run's tensors")
    for k, w in want.items():
        t = got[k]
        if not isinstance(t, torch.Tensor) or t.shape != w.shape or t.dtype != w.dtype:
            raise damaged(
                f"{what} tensor {k!r} is {tuple(t.shape) if isinstance(t, torch.Tensor) else type(t)}"
                f" {getattr(t, 'dtype', '')}, expected {tuple(w.shape)} {w.dtype}"
            )
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise damaged(f"{what} tensor {k!r} holds NaN or infinite values")


def _rng_state(text: Any, damaged) -> dict:
    """numpy's generator state from its JSON text, checked by setting it on a scratch generator."""
    try:
        state = json.loads(text)
        np.random.default_rng().bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError, RecursionError):
        raise damaged("rng is not numpy's generator state as JSON") from None
    return state


def _load_optimizer(opt, state: Any, damaged) -> None:
    """The optimiser's saved state, checked: its moments have the shapes of the parameters and are finite, its
    hyper-parameters are finite numbers."""
    try:
        opt.load_state_dict(state)
    except (ValueError, KeyError, TypeError, RuntimeError, IndexError, AttributeError) as e:
        raise damaged(f"optim: {type(e).__name__}") from None
    for group in opt.param_groups:
        # the run's settings were compared already: every hyper-parameter but the scheduled lr is the optimiser's
        odd = [
            k
            for k, v in group.items()
            if k in opt.defaults and k != "lr" and (type(v) is not type(opt.defaults[k]) or v != opt.defaults[k])
        ]
        if odd:
            raise damaged(
                f"optim hyper-parameter {odd[0]!r} is {repr(group[odd[0]])[:40]}, this run uses {opt.defaults[odd[0]]}"
            )
        for p in group["params"]:
            for k, v in opt.state.get(p, {}).items():
                if not isinstance(v, torch.Tensor):
                    raise damaged(f"optim state {k!r} is not a tensor")
                if (v.dim() > 0 and v.shape != p.shape) or (v.is_floating_point() and not torch.isfinite(v).all()):
                    raise damaged(f"optim state {k!r} does not fit its parameter {tuple(p.shape)} or is not finite")
