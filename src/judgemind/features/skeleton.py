"""``skeleton``: tokens from a data set's per-frame skeletons ("annotated skeletons": perception made perfect).

No video is decoded: the tokens come from the records' skeleton arrays (FineSkiing schema v2, written by
``judgemind synth`` or by a user's pose estimator; :mod:`judgemind.data.skeleton`). Results computed on them are
labelled "annotated skeletons" (like FineParser's annotated masks): they measure the judge with perfect
perception, not a video pipeline. Optional simulated pose-estimator noise (seeded per record) draws the
robustness curve: ``jitter`` (s.d. in % of the skeleton's box height), ``dropout`` (share of in-frame points
lost), ``swaps`` (share of frames with left and right exchanged).

The layout must hold the 19 points of ``judgemind.data.skeleton.SKELETON_POINTS`` (15 joints, both skis' tips and
tails). Per step (``steps`` frames spread uniformly over the record), with the box = the extent of the points in
the frame (centre c, side s = its longer side):

FOREGROUND (``FG_DIM`` = 144)

    0:38     (u - cx) / s, (v - cy) / s of the 19 points (0 where out of the picture)
    38:57    in the picture (visibility > 0)      57:76   visible (visibility 2)
    76:84    2D joint angles / pi: knees (hip-knee-ankle), hips (shoulder-hip-knee), elbows (shoulder-elbow-hand),
             shoulders (elbow-shoulder-hip), left then right
    84:87    leg separation: angle between the thighs / pi, ankle distance / s, knee distance / s
    87:90    ski separation: angle between the skis / pi, tip distance / s, tail distance / s
    90:94    body axis (pelvis -> neck) and head (neck -> head) unit vectors (image y up)
    94:132   velocity: change of the 38 normalised coordinates since the previous step
    132:141  change of the 8 joint angles and of the body axis angle (/ pi) since the previous step
    141:144  box height / H, box width / H, share of the 19 points in the picture
    144:177  WORLD block, from the 3D coordinates where the data set has them (``world=True`` and finite x, y, z;
             zeros and a 0 flag otherwise, e.g. for a 2D pose estimator): 3D joint angles / pi (the 8 above),
             spine flexion, angle between the thighs, angle between the skis (/ pi), body axis (pelvis -> neck)
             and lateral axis (right hip -> left hip) as world unit vectors, the change of the 11 angles since
             the previous step, pelvis position x / 10 m, z / 10 m and velocity / 10 m/s (x, z), world flag

GLOBAL (``GLOBAL_DIM`` = 14): box centre motion dx / W, dy / H and log size ratio since the previous step, box
centre x / W, y / H, side / H, a cut between the previous step and this one, the step's position in the record
(0..1), steps since the last cut / T, seconds between steps, seconds since the record's start / 10 (so that
stage durations - the flight time - can be read); the camera's motion since the previous step (background shift
dx / W, dy / H, from :mod:`judgemind.video.motion`) and its confidence (0 where not measured, e.g. annotated
skeletons without their video).

Every perception gives a :class:`judgemind.data.track.SkeletonTrack`; :func:`track_tokens` turns one into these
tokens, so annotated, predicted and refined skeletons are read alike.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np

from judgemind.data.skeleton import JOINT_ANGLES, OUT_OF_FRAME, SKELETON_POINTS, VISIBLE, load_skeleton
from judgemind.data.track import point_extent, track_from_skeleton
from judgemind.errors import JudgemindError
from judgemind.features.base import Extractor, Plan, register_extractor, step_seconds
from judgemind.rules.names import DEFAULT_FPS
from judgemind.video.decode import sample_indices

__all__ = ["SkeletonExtractor", "skeleton_tokens", "track_tokens", "FG_DIM", "GLOBAL_DIM"]

FG_DIM = 177
GLOBAL_DIM = 14
WORLD = slice(144, 177)
_P = {n: i for i, n in enumerate(SKELETON_POINTS)}
_ANG = np.array([[_P[a], _P[j], _P[b]] for a, j, b in JOINT_ANGLES])
_SWAP = np.array(
    [_P[("r_" if n.startswith("l_") else "l_") + n[2:]] if n[:2] in ("l_", "r_") else _P[n] for n in SKELETON_POINTS]
)
MAX_JITTER = 50.0  # % of the box height
MAX_STEPS = 4096


def _angle(uv: np.ndarray, a: int, j: int, b: int) -> np.ndarray:
    u, v = uv[:, a] - uv[:, j], uv[:, b] - uv[:, j]
    nu, nv = np.linalg.norm(u, axis=-1), np.linalg.norm(v, axis=-1)
    c = np.einsum("td,td->t", u, v) / np.maximum(nu * nv, 1e-9)
    return np.where((nu > 1e-6) & (nv > 1e-6), np.arccos(np.clip(c, -1.0, 1.0)), 0.0)


def _between(d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Angle (0..pi) between two direction arrays (T, 2) or (T, 3)."""
    n1, n2 = np.linalg.norm(d1, axis=-1), np.linalg.norm(d2, axis=-1)
    c = np.einsum("td,td->t", d1, d2) / np.maximum(n1 * n2, 1e-9)
    return np.where((n1 > 1e-6) & (n2 > 1e-6), np.arccos(np.clip(c, -1.0, 1.0)), 0.0)


def _unit(d: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(d, axis=-1, keepdims=True)
    return np.where(n > 1e-6, d / np.maximum(n, 1e-9), 0.0)


def _boxes(uv: np.ndarray, inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 4) box of the in-picture points per step, and whether it had to be filled from neighbours."""
    T = len(uv)
    box = point_extent(uv, inside)
    any_in = inside.any(axis=1)
    if not any_in.any():
        return box, ~any_in
    idx = np.arange(T)
    for k in range(4):
        box[:, k] = np.interp(idx, idx[any_in], box[any_in, k])
    return box, ~any_in


def _angles3(x: np.ndarray) -> np.ndarray:
    """(T, 11) 3D angles (radians) of world points ``x`` (T, 19, 3): the 8 joint angles, spine flexion, thigh and
    ski separation."""
    p = lambda n: x[:, _P[n]]  # noqa: E731
    a = [_angle(x, a, j, b) for a, j, b in _ANG]
    hipmid = (p("l_hip") + p("r_hip")) / 2
    a.append(_between(p("neck") - p("pelvis"), p("pelvis") - hipmid))
    a.append(_between(p("l_knee") - p("l_hip"), p("r_knee") - p("r_hip")))
    a.append(_between(p("l_ski_tip") - p("l_ski_tail"), p("r_ski_tip") - p("r_ski_tail")))
    return np.stack(a, -1)


def world_block(world: np.ndarray | None, dt: float) -> np.ndarray:
    """(T, 33) WORLD block (see the module docstring); zeros when ``world`` is None or not finite."""
    if world is None:
        return np.zeros((0, 33))
    T = len(world)
    out = np.zeros((T, 33))
    ok = np.isfinite(world).all(axis=(1, 2))
    if not ok.any():
        return out
    x = np.where(ok[:, None, None], np.nan_to_num(world), 0.0)
    ang = _angles3(x)
    prev = np.concatenate([[0], np.arange(T - 1)])
    p = lambda n: x[:, _P[n]]  # noqa: E731
    out[:, 0:11] = ang / np.pi
    out[:, 11:14] = _unit(p("neck") - p("pelvis"))
    out[:, 14:17] = _unit(p("l_hip") - p("r_hip"))
    out[:, 17:28] = (ang - ang[prev]) / np.pi
    pel = p("pelvis")
    vel = (pel - pel[prev]) / max(dt, 1e-6)
    out[:, 28] = pel[:, 0] / 10.0
    out[:, 29] = pel[:, 2] / 10.0
    out[:, 30] = vel[:, 0] / 10.0
    out[:, 31] = vel[:, 2] / 10.0
    out[:, 32] = 1.0
    return np.where(ok[:, None], out, 0.0)


def skeleton_tokens(
    uv: np.ndarray,
    vis: np.ndarray,
    frame_size: tuple[int, int],
    cut_before: np.ndarray,
    world: np.ndarray | None = None,
    dt: float = 0.04,
    camera: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tokens of T steps: ``uv`` (T, 19, 2) pixels, ``vis`` (T, 19) flags, ``frame_size`` (W, H), ``cut_before``
    (T,) bool, ``world`` (T, 19, 3) metres or None, ``dt`` seconds between steps, ``camera`` (T, 3) the camera's
    motion since the previous step (dx / W, dy / H, confidence) or None. Returns (global (T, 14), foreground
    (T, 177), box (T, 4) pixels, box filled (T,))."""
    T = len(uv)
    W, H = (float(v) for v in frame_size)
    inside = vis > OUT_OF_FRAME
    uv = np.where(inside[..., None], np.nan_to_num(uv, nan=0.0), 0.0)
    box, filled = _boxes(uv, inside)
    c = np.stack([(box[:, 0] + box[:, 2]) / 2, (box[:, 1] + box[:, 3]) / 2], -1)
    bw, bh = np.maximum(box[:, 2] - box[:, 0], 1.0), np.maximum(box[:, 3] - box[:, 1], 1.0)
    s = np.maximum(bw, bh)
    norm = np.where(inside[..., None], (uv - c[:, None]) / s[:, None, None], 0.0)
    norm[..., 1] *= -1.0  # image y down -> up
    fg = np.zeros((T, FG_DIM), np.float64)
    fg[:, 0:38] = norm.reshape(T, -1)
    fg[:, 38:57] = inside
    fg[:, 57:76] = vis == VISIBLE
    ang = np.stack([_angle(norm, a, j, b) for a, j, b in _ANG], -1)
    fg[:, 76:84] = ang / np.pi
    p = lambda n: norm[:, _P[n]]  # noqa: E731
    fg[:, 84] = _between(p("l_knee") - p("l_hip"), p("r_knee") - p("r_hip")) / np.pi
    fg[:, 85] = np.linalg.norm(p("l_ankle") - p("r_ankle"), axis=-1)
    fg[:, 86] = np.linalg.norm(p("l_knee") - p("r_knee"), axis=-1)
    fg[:, 87] = _between(p("l_ski_tip") - p("l_ski_tail"), p("r_ski_tip") - p("r_ski_tail")) / np.pi
    fg[:, 88] = np.linalg.norm(p("l_ski_tip") - p("r_ski_tip"), axis=-1)
    fg[:, 89] = np.linalg.norm(p("l_ski_tail") - p("r_ski_tail"), axis=-1)
    axis = _unit(p("neck") - p("pelvis"))
    fg[:, 90:92] = axis
    fg[:, 92:94] = _unit(p("head") - p("neck"))
    prev = np.concatenate([[0], np.arange(T - 1)])
    fg[:, 94:132] = (norm - norm[prev]).reshape(T, -1)
    axis_ang = np.arctan2(axis[:, 0], axis[:, 1])
    d_axis = np.angle(np.exp(1j * (axis_ang - axis_ang[prev])))
    fg[:, 132:140] = (ang - ang[prev]) / np.pi
    fg[:, 140] = d_axis / np.pi
    fg[:, 141:144] = np.stack([bh / H, bw / H, inside.mean(axis=1)], -1)
    wb = world_block(world, dt)
    if len(wb):
        fg[:, WORLD] = wb
    g = np.zeros((T, GLOBAL_DIM), np.float64)
    g[:, 0] = (c[:, 0] - c[prev, 0]) / W
    g[:, 1] = (c[:, 1] - c[prev, 1]) / H
    g[:, 2] = np.log(s / s[prev])
    g[:, 3], g[:, 4], g[:, 5] = c[:, 0] / W, c[:, 1] / H, s / H
    g[:, 6] = cut_before
    g[:, 7] = np.arange(T) / max(T - 1, 1)
    since = np.zeros(T)
    for t in range(1, T):
        since[t] = 0 if cut_before[t] else since[t - 1] + 1
    g[:, 8] = since / T
    g[:, 9] = dt
    g[:, 10] = np.arange(T) * dt / 10.0
    if camera is not None:
        g[:, 11:14] = np.asarray(camera, np.float64).reshape(T, 3)
    fg = np.clip(np.nan_to_num(fg), -10.0, 10.0)
    g = np.clip(np.nan_to_num(g), -10.0, 10.0)
    return g.astype(np.float32), fg.astype(np.float32), box.astype(np.float32), filled


def step_camera(track) -> np.ndarray:
    """(T, 3) the camera's motion between consecutive rows of ``track`` (whose ``camera`` already sums the frames
    between them): dx / W, dy / H, confidence."""
    cam = np.asarray(track.camera, np.float64)
    return np.concatenate([cam[:, :2], cam[:, 3:4]], axis=1)


def track_tokens(track, world: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tokens of a :class:`~judgemind.data.track.SkeletonTrack` whose rows are the steps: (global (T, 14),
    foreground (T, 177), box (T, 4), box filled (T,)). ``world=False`` leaves the 3D block empty."""
    frames = np.asarray(track.frames, np.int64)
    dt = step_seconds(frames, float(track.fps or DEFAULT_FPS))
    w = track.world() if world else None
    return skeleton_tokens(
        np.asarray(track.uv, np.float64),
        np.asarray(track.visibility),
        track.frame_size,
        track.cut_before(),
        w,
        dt,
        step_camera(track),
    )


@register_extractor
class SkeletonExtractor(Extractor):
    """``skeleton``: annotated skeletons -> joint geometry tokens; no video decoding. See the module docstring.

    Options: ``steps`` (T, default 48), ``world`` (use the 3D coordinates where the data set has them, default
    true; false = 2D only, what a 2D pose estimator gives), ``jitter`` (simulated estimator noise: s.d. in % of
    the box height, default 0; it also jitters the 3D points by the same share of the body height), ``dropout``
    (share of in-picture points lost, 0..0.9), ``swaps`` (share of frames with left/right exchanged, 0..1),
    ``noise_seed`` (seed of the simulated noise; the record id is mixed in).
    """

    name = "skeleton"
    description = (
        "annotated skeletons (dataset field, schema v2) -> box-normalised joints, angles, leg/ski "
        "separation, body axis, velocities; box motion; optional simulated estimator noise"
    )
    weights_kind = None
    requires = ("numpy",)
    dims_text = f"{GLOBAL_DIM} / {FG_DIM}"
    steps_text = "48"
    needs_video = False

    def __init__(
        self,
        steps: int | None = None,
        world: bool = True,
        jitter: float = 0.0,
        dropout: float = 0.0,
        swaps: float = 0.0,
        noise_seed: int = 0,
        weights: str | None = None,
    ):
        if weights:
            raise JudgemindError("the skeleton extractor takes no --weights (it reads the data set's skeletons)")
        self.steps = 48 if steps is None else int(steps)
        if not 1 <= self.steps <= MAX_STEPS:
            raise JudgemindError(f"skeleton: steps must be 1-{MAX_STEPS}, got {steps!r}")
        self.jitter, self.dropout, self.swaps = float(jitter), float(dropout), float(swaps)
        if not 0.0 <= self.jitter <= MAX_JITTER:
            raise JudgemindError(
                f"skeleton: jitter is the noise s.d. in % of the box height, 0-{MAX_JITTER:g}; got {jitter!r}"
            )
        if not 0.0 <= self.dropout <= 0.9:
            raise JudgemindError(f"skeleton: dropout is the share of points lost, 0-0.9; got {dropout!r}")
        if not 0.0 <= self.swaps <= 1.0:
            raise JudgemindError(
                f"skeleton: swaps is the share of frames with left/right exchanged, 0-1; got {swaps!r}"
            )
        self.noise_seed = int(noise_seed)
        self.world = bool(world)
        self.short_side = 0
        self._fps = DEFAULT_FPS
        self._root: Path | None = None
        self._layout = None

    def config(self) -> dict[str, Any]:
        return {
            "extractor": self.name,
            "steps": self.steps,
            "sampling": "linspace",
            "perception": "annotated skeletons",
            "world": self.world,
            "jitter_pct": self.jitter,
            "dropout": self.dropout,
            "swaps": self.swaps,
            "noise_seed": self.noise_seed,
            "weights_sha256": None,
        }

    def dims(self) -> dict[str, int]:
        return {"global": GLOBAL_DIM, "foreground": FG_DIM}

    def plan(self, start: int, end: int) -> Plan:
        steps = sample_indices(start, end, self.steps)
        return Plan(steps=steps, decode=np.zeros(0, np.int64), locate=np.zeros(0, np.int64))

    # ---- the data set
    def bind(self, root, meta, records=()) -> None:
        """Use the data set at ``root`` (its ``meta.skeleton`` layout); every record must carry a skeleton."""
        layout = getattr(meta, "skeleton", None)
        missing = [r.id for r in records if r.skeleton is None]
        if layout is None or missing:
            which = f" ({len(missing)} records have none, e.g. {missing[0]!r})" if missing and layout else ""
            raise JudgemindError(
                f"{root}: the skeleton extractor needs per-frame skeletons in the data set{which}. They are an "
                f"optional field of the FineSkiing format (schema v2): `judgemind synth` writes them; for your "
                f"own footage fill skeletons/<id>.npy from a pose estimator (docs/data.md, 'Skeletons')"
            )
        absent = [n for n in SKELETON_POINTS if n not in layout.points]
        if absent:
            raise JudgemindError(
                f"{root}: the skeleton layout lacks {', '.join(absent)}; the skeleton extractor "
                f"needs the 19 points {', '.join(SKELETON_POINTS)}"
            )
        if layout.frame_size is None:
            raise JudgemindError(
                f"{root}: dataset.json's skeleton layout has no frame_size [width, height]; the "
                f"skeleton extractor needs it to normalise positions"
            )
        self._root, self._layout = Path(root), layout
        self._fps = float(getattr(meta, "fps", 0.0) or DEFAULT_FPS)

    def _noisy(self, uv: np.ndarray, vis: np.ndarray, world: np.ndarray, rid: str):
        if not (self.jitter or self.dropout or self.swaps):
            return uv, vis, world
        rng = np.random.default_rng(np.random.SeedSequence([self.noise_seed, zlib.crc32(rid.encode("utf-8"))]))
        uv, vis = uv.copy(), vis.copy()
        inside = vis > OUT_OF_FRAME
        if self.jitter:
            ys = np.where(inside, np.nan_to_num(uv[..., 1]), np.nan)
            with np.errstate(all="ignore"):
                h = np.nanmax(ys, axis=1) - np.nanmin(ys, axis=1)
            h = np.nan_to_num(h, nan=0.0)
            uv = uv + rng.normal(size=uv.shape) * (self.jitter / 100.0) * h[:, None, None]
            world = world + rng.normal(size=world.shape) * (self.jitter / 100.0) * 1.75
        if self.dropout:
            lost = inside & (rng.random(vis.shape) < self.dropout)
            vis = np.where(lost, OUT_OF_FRAME, vis)
        if self.swaps:
            sw = rng.random(len(uv)) < self.swaps
            uv[sw] = uv[sw][:, _SWAP]
            vis[sw] = vis[sw][:, _SWAP]
            world[sw] = world[sw][:, _SWAP]
        return uv, vis, world

    def encode_record(self, record) -> dict[str, np.ndarray]:

        if self._layout is None:
            raise JudgemindError("skeleton extractor: no data set bound (a bug: the pipeline binds it)")
        sk = load_skeleton(self._root, record, self._layout)
        idx = [self._layout.points.index(n) for n in SKELETON_POINTS]
        start, end = (int(v) for v in record.frames)
        steps = self.plan(start, end).steps
        rows = steps - start
        world = sk.world[rows][:, idx].astype(np.float64)
        uv, vis, world = self._noisy(
            sk.uv[rows][:, idx].astype(np.float64), sk.visibility[rows][:, idx], world, record.id
        )
        track = track_from_skeleton(
            uv,
            vis,
            world if self.world else None,
            steps,
            record.cuts or (),
            self._layout.frame_size,
            self._fps,
            source=self._source(),
        )
        g, fg, box, filled = track_tokens(track, self.world)
        return {
            "global": g,
            "foreground": fg,
            "frame_index": np.asarray(steps, np.int64),
            "box": box,
            "box_filled": filled.astype(np.uint8),
            **track.to_tensors(),
        }

    def _source(self) -> str:
        noise = [
            f"{k} {v:g}" for k, v in (("jitter %", self.jitter), ("dropout", self.dropout), ("swaps", self.swaps)) if v
        ]
        return "annotated" + (f" + simulated noise ({', '.join(noise)})" if noise else "")

    def encode(self, frames, plan):  # pragma: no cover - the pipeline calls encode_record for this extractor
        raise JudgemindError("the skeleton extractor reads skeletons, not frames")
