"""Broadcast-style cameras: shots from several viewpoints with hard cuts, panning and zooming to follow the athlete.

Each shot of a :class:`~judgemind.synth.spec.JumpSpec` is a fixed camera position that pans (and, except in wide
shots, zooms) to keep the athlete at a wanted size. The follow filter is causal (a frame depends only on the
athlete's past), so changing what the athlete does later never moves the camera earlier. A pinhole model
projects world points to pixels:

    u = cx + f * (p - C).right / (p - C).forward,    v = cy - f * (p - C).up / (p - C).forward
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from judgemind.synth.motion import Motion, compute_motion
from judgemind.synth.spec import JumpSpec, Timeline

NEAR = 0.3  # m: points closer to the camera plane than this are not drawn


@dataclass(frozen=True)
class CameraTrack:
    """Per-frame cameras. ``position`` (T, 3); ``axes`` (T, 3, 3) rows right, up, forward; ``focal`` (T,) pixels;
    ``shot`` (T,) index into ``spec.shots``; ``cuts`` the first frame of every shot after the first."""

    position: np.ndarray
    axes: np.ndarray
    focal: np.ndarray
    size: int
    shot: np.ndarray
    cuts: tuple[int, ...]

    def to_camera(self, pts: np.ndarray) -> np.ndarray:
        """World points (T, N, 3) -> camera coordinates (T, N, 3) (x right, y up, z forward/depth)."""
        d = pts - self.position[:, None, :]
        return np.einsum("tij,tnj->tni", self.axes, d)

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points (T, N, 3) -> pixels (T, N, 2) and depth (T, N). Points behind the camera get NaN."""
        c = self.to_camera(pts)
        z = c[..., 2]
        safe = np.where(z > 1e-6, z, np.nan)
        half = self.size / 2.0
        u = half + self.focal[:, None] * c[..., 0] / safe
        v = half - self.focal[:, None] * c[..., 1] / safe
        return np.stack([u, v], -1), z


def _smooth(x: np.ndarray, lag: float, dt: float) -> np.ndarray:
    """Causal exponential smoothing along axis 0 with time constant ``lag`` seconds."""
    alpha = 1.0 - math.exp(-dt / max(lag, 1e-3))
    out = np.empty_like(x)
    out[0] = x[0]
    for i in range(1, len(x)):
        out[i] = out[i - 1] + alpha * (x[i] - out[i - 1])
    return out


def look_at(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(T, 3, 3) camera axes (rows right, up, forward) looking from ``position`` to ``target`` (both (T, 3)),
    level (no roll)."""
    fw = target - position
    fw /= np.linalg.norm(fw, axis=1, keepdims=True)
    up_w = np.array([0.0, 0.0, 1.0])
    right = np.cross(fw, up_w)
    right /= np.maximum(np.linalg.norm(right, axis=1, keepdims=True), 1e-9)
    up = np.cross(right, fw)
    return np.stack([right, up, fw], axis=1)


def shot_frames(spec: JumpSpec, tl: Timeline) -> list[tuple[int, int, int]]:
    """(shot index, first frame, end frame) of every shot that gets at least one frame."""
    starts = [0] + [int(math.ceil(s.start * tl.fps - 1e-9)) for s in spec.shots[1:]]
    out = []
    for i, a in enumerate(starts):
        b = starts[i + 1] if i + 1 < len(starts) else tl.n_frames
        a, b = max(a, 0), min(b, tl.n_frames)
        if b > a:
            out.append((i, a, b))
    return out


def camera_track(spec: JumpSpec, root: np.ndarray, tl: Timeline, size: int) -> CameraTrack:
    """Cameras for every frame, following the pelvis trajectory ``root`` (T, 3)."""
    T = tl.n_frames
    dt = 1.0 / tl.fps
    t = tl.times
    pos = np.zeros((T, 3))
    target = np.zeros((T, 3))
    focal = np.zeros(T)
    shot_idx = np.zeros(T, dtype=np.int64)
    aim = root + np.array([0.0, 0.0, 0.15])
    vel = np.zeros_like(aim)
    vel[1:] = np.diff(aim, axis=0) / dt  # backward difference: causal
    vel[0] = vel[1] if T > 1 else 0.0
    spans = shot_frames(spec, tl)
    for i, a, b in spans:
        shot = spec.shots[i]
        c = np.asarray(shot.position, dtype=np.float64)
        seg = slice(a, b)
        # lead the athlete by the filter's lag so that a steady motion is followed without drifting
        follow = _smooth(aim[seg] + shot.lag * vel[seg], shot.lag, dt)
        tt = t[seg] - t[a]
        if shot.target is not None:
            look = 0.65 * np.asarray(shot.target) + 0.35 * follow
        else:
            look = follow
        dist = np.linalg.norm(follow - c, axis=1)
        shake = shot.shake * np.stack(
            [
                np.zeros_like(tt),
                np.sin(2 * math.pi * 0.9 * tt + shot.phase),
                np.sin(2 * math.pi * 1.3 * tt + 2 * shot.phase),
            ],
            -1,
        )
        look = look + shake * dist[:, None]
        if shot.target is not None:
            d0 = float(np.linalg.norm(aim[a] - c))
            f = np.full(b - a, shot.frac * size * d0 / 1.8)
        else:
            d_s = _smooth(dist, 2.0 * shot.lag, dt)
            zoom = np.clip(1.0 + shot.zoom_rate * tt, 0.7, 1.3)
            f = shot.frac * size * d_s / 1.8 * zoom
        pos[seg] = c
        target[seg] = look
        focal[seg] = np.clip(f, 0.35 * size, 40.0 * size)
        shot_idx[seg] = i
    axes = look_at(pos, target)
    cuts = tuple(a for _, a, _ in spans[1:])
    return CameraTrack(position=pos, axes=axes, focal=focal, size=size, shot=shot_idx, cuts=cuts)


# --------------------------------------------------------------------------------------------------------------
# a jump seen through its cameras

LIMB_RADIUS = 0.09  # m: padding of the athlete box around the joints


@dataclass(frozen=True)
class JumpView:
    """A jump ready to draw or annotate: its motion, its cameras, and the athlete's projection.
    ``uv`` (T, 19, 2) pixels and ``depth`` (T, 19) of ``motion.points``."""

    spec: JumpSpec
    size: int
    motion: Motion
    camera: CameraTrack
    uv: np.ndarray
    depth: np.ndarray

    @property
    def timeline(self) -> Timeline:
        return self.motion.timeline


def view_jump(spec: JumpSpec, size: int, fps: float) -> JumpView:
    motion = compute_motion(spec, fps)
    cam = camera_track(spec, motion.root, motion.timeline, size)
    uv, depth = cam.project(motion.points)
    return JumpView(spec, size, motion, cam, uv, depth)


def athlete_boxes(view: JumpView) -> dict[int, tuple[float, float, float, float]]:
    """Per-frame athlete box [x0, y0, x1, y1] in pixels (joints and skis plus a limb radius, clipped to the frame);
    frames where the athlete is not in the picture get no box."""
    size = view.size
    ok = view.depth > NEAR
    pad = LIMB_RADIUS * view.camera.focal[:, None] / np.where(ok, view.depth, 1.0)
    u, v = np.nan_to_num(view.uv[..., 0]), np.nan_to_num(view.uv[..., 1])
    inf = np.inf
    x0 = np.clip(np.min(np.where(ok, u - pad, inf), axis=1), 0, size)
    y0 = np.clip(np.min(np.where(ok, v - pad, inf), axis=1), 0, size)
    x1 = np.clip(np.max(np.where(ok, u + pad, -inf), axis=1), 0, size)
    y1 = np.clip(np.max(np.where(ok, v + pad, -inf), axis=1), 0, size)
    good = ok.any(axis=1) & (x1 - x0 >= 0.5) & (y1 - y0 >= 0.5)
    return {
        int(k): (round(float(x0[k]), 2), round(float(y0[k]), 2), round(float(x1[k]), 2), round(float(y1[k]), 2))
        for k in np.flatnonzero(good)
    }
