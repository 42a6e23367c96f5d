"""PCK of AerialsPose on a data set with skeletons (``judgemind pose eval``).

A predicted point is correct when it lies within ``alpha`` x the box height of the true point, the box being the
extent of the true in-picture points of that frame (PCK@0.05 and PCK@0.1 of box height; the same with the box's
longer side is reported too, because a horizontal body has a short box). Only points in the picture count; a
frame where the detector finds no athlete counts all its points as misses. Boxes come from the detector (the
whole predicted path), unless ``boxes="annotated"``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import torch

from judgemind.data.skeleton import OUT_OF_FRAME, SKELETON_POINTS
from judgemind.pose.data import load_samples, skeleton_box
from judgemind.pose.infer import AerialsPose
from judgemind.pose.net import AerialsPoseModel

__all__ = ["pck", "pck_report", "JOINT_GROUPS"]

JOINT_GROUPS = {
    "head & torso": ("pelvis", "neck", "head"),
    "shoulders": ("l_shoulder", "r_shoulder"),
    "elbows": ("l_elbow", "r_elbow"),
    "wrists": ("l_hand", "r_hand"),
    "hips": ("l_hip", "r_hip"),
    "knees": ("l_knee", "r_knee"),
    "ankles": ("l_ankle", "r_ankle"),
    "skis": ("l_ski_tip", "l_ski_tail", "r_ski_tip", "r_ski_tail"),
}


def pck(
    pred: np.ndarray, found: np.ndarray, uv: np.ndarray, vis: np.ndarray, alpha: float, ref: str = "height"
) -> tuple[np.ndarray, np.ndarray]:
    """(correct (N, 19) bool, counted (N, 19) bool) for predictions ``pred`` (N, 19, 2) against ``uv``."""
    dist, height, side = _distances(pred, uv, vis)
    counted = vis > OUT_OF_FRAME
    size = height if ref == "height" else side
    return counted & found[:, None] & (dist <= alpha * size[:, None]), counted


def _distances(pred: np.ndarray, uv: np.ndarray, vis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per point distance (N, 19) and per frame box height and longer side (N,) (at least 1 px; 0 where the frame
    shows no point, so nothing counts there)."""
    dist = np.linalg.norm(pred - uv, axis=-1)
    height, side = np.zeros(len(uv)), np.zeros(len(uv))
    for k in range(len(uv)):
        b = skeleton_box(uv[k], vis[k])
        if b is not None:
            height[k] = max(b[3] - b[1], 1.0)
            side[k] = max(b[2] - b[0], b[3] - b[1], 1.0)
    return dist, height, side


def pck_report(
    estimator,
    data: str | os.PathLike,
    *,
    split: str | None = "test",
    per_record: int = 8,
    seed: int = 0,
    boxes: str = "detected",
    progress: bool = True,
    limit: int | None = None,
) -> dict[str, Any]:
    """PCK per joint, per joint group and overall on ``per_record`` frames of each record of ``split``.

    ``estimator``: an :class:`judgemind.pose.infer.AerialsPose` or an ``AerialsPoseModel``."""

    if isinstance(estimator, AerialsPoseModel):
        estimator = AerialsPose(model=estimator)
    s = load_samples(
        data, None if split is None else split.split(","), per_record, seed=seed, progress=progress, limit=limit
    )
    given = None
    if boxes == "annotated":
        given = np.array(
            [b if b is not None else [np.nan] * 4 for b in (skeleton_box(u, v) for u, v in zip(s.uv, s.vis))],
            np.float32,
        )
    t0 = time.time()
    res = estimator(list(s.frames), given)
    secs = time.time() - t0

    out: dict[str, Any] = {
        "data": str(data),
        "split": split,
        "frames": int(len(s)),
        "boxes": boxes,
        "refine": bool(getattr(estimator, "refine", False)),
        "threads": torch.get_num_threads(),
    }
    summary: dict[str, float] = {}
    per_joint: dict[str, dict[str, float]] = {}
    groups: dict[str, dict[str, float]] = {}
    dist, height, side = _distances(res.uv, s.uv, s.vis)
    cnt = s.vis > OUT_OF_FRAME
    for ref in ("height", "longer side"):
        for alpha in (0.05, 0.1):
            key = f"pck@{alpha:g}" + ("" if ref == "height" else " (longer side)")
            size = height if ref == "height" else side
            corr = cnt & res.found[:, None] & (dist <= alpha * size[:, None])
            summary[key] = float(corr.sum() / max(cnt.sum(), 1))
            for j, name in enumerate(SKELETON_POINTS):
                per_joint.setdefault(name, {})[key] = float(corr[:, j].sum() / max(cnt[:, j].sum(), 1))
            for g, names in JOINT_GROUPS.items():
                ix = [SKELETON_POINTS.index(n) for n in names]
                groups.setdefault(g, {})[key] = float(corr[:, ix].sum() / max(cnt[:, ix].sum(), 1))
    has = (s.vis > OUT_OF_FRAME).any(-1)
    summary["detected"] = float((res.found & has).sum() / max(has.sum(), 1))
    summary["false_detections"] = float((res.found & ~has).sum() / max((~has).sum(), 1)) if (~has).any() else 0.0
    gt_in = s.vis > OUT_OF_FRAME
    summary["visibility_accuracy"] = float((res.vis[has] == s.vis[has]).mean()) if has.any() else 0.0
    summary["in_picture_accuracy"] = float(((res.vis > OUT_OF_FRAME) == gt_in)[has].mean()) if has.any() else 0.0
    ok = res.found & has & np.isfinite(s.world).all(axis=(1, 2))
    if ok.any():
        summary["world_mpjpe_m"] = float(np.linalg.norm(res.world[ok] - s.world[ok], axis=-1).mean())
    summary["frames_per_second"] = float(len(s) / max(secs, 1e-9))
    out.update(summary=summary, groups=groups, joints=per_joint)
    return out


def format_report(rep: dict) -> str:
    s = rep["summary"]
    lines = [
        f"AerialsPose on {rep['data']} (split {rep['split']}, {rep['frames']} frames, boxes {rep['boxes']})",
        f"  overall   PCK@0.05 {s['pck@0.05']:.3f}   PCK@0.1 {s['pck@0.1']:.3f}   (of box height; of the "
        f"longer side: {s['pck@0.05 (longer side)']:.3f} / {s['pck@0.1 (longer side)']:.3f})",
        f"  athlete found in {100 * s['detected']:.1f} % of frames that show it; visibility class right "
        f"{100 * s['visibility_accuracy']:.1f} %"
        + (f"; 3D error {100 * s['world_mpjpe_m']:.1f} cm" if "world_mpjpe_m" in s else ""),
        f"  {s['frames_per_second']:.0f} frames/s (detector + crop network"
        f"{' x2 (refined)' if rep.get('refine') else ''}, {rep.get('threads', '?')} torch threads)",
        "  group          PCK@0.05  PCK@0.1",
    ]
    for g, v in rep["groups"].items():
        lines.append(f"  {g:<14} {v['pck@0.05']:8.3f} {v['pck@0.1']:8.3f}")
    lines.append("  joint          PCK@0.05  PCK@0.1")
    for j, v in rep["joints"].items():
        lines.append(f"  {j:<14} {v['pck@0.05']:8.3f} {v['pck@0.1']:8.3f}")
    return "\n".join(lines)
