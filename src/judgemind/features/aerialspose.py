"""``aerialspose``: skeleton tokens from the video alone (learned perception).

The same token layout as the ``skeleton`` extractor (:mod:`judgemind.features.skeleton`), so a model reads
annotated and predicted skeletons alike; here every input is predicted from the decoded frames and nothing of the
record is used (no annotated boxes, cuts or joints):

1. camera cuts from colour-histogram jumps between consecutive frames (:func:`judgemind.video.cuts.find_cuts`);
2. the athlete's box in every frame by AerialsPose's detector, its 19 points, their visibility and the
   pelvis-relative 3D pose by AerialsPose's crop network (:class:`judgemind.pose.infer.AerialsPose`);
3. frames where no athlete is found are flagged and filled by interpolation inside their shot (a shot without any
   detection holds the nearest found frame's pose; a record without any -> a clear error);
4. optionally (``smooth``) points, 3D pose and visibility smoothed over time inside each shot (Gaussian; off by
   default); only the step frames are estimated unless ``dense``;
5. the tokens of :func:`judgemind.features.skeleton.skeleton_tokens` at the step frames. The 3D block holds the
   predicted pelvis-relative pose (joint angles, spine, thigh and ski separation, body axes); the pelvis position
   and velocity entries are 0 (a crop does not show where on the hill the athlete is).

``estimator=mediapipe`` uses MediaPipe Pose (real footage) instead: its 33 landmarks map onto the layout
(:data:`MEDIAPIPE_MAP`), the skis are flagged out of picture and the 3D block is left empty.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from judgemind.data.skeleton import SKELETON_POINTS, VISIBLE
from judgemind.data.track import SkeletonTrack
from judgemind.errors import JudgemindError
from judgemind.features.base import Extractor, Frames, Plan, register_extractor
from judgemind.features.skeleton import FG_DIM, GLOBAL_DIM, track_tokens
from judgemind.pose.infer import AerialsPose, default_weights, shipped_weights
from judgemind.pose.refiner import check_points, load_refiner, refiner_sha256
from judgemind.rules.names import DEFAULT_FPS
from judgemind.utils.atomic import sha256_file
from judgemind.video.cuts import find_cuts, shot_index
from judgemind.video.decode import sample_indices
from judgemind.video.locators import get_locator
from judgemind.video.motion import camera_motion

__all__ = ["AerialsPoseExtractor", "MEDIAPIPE_MAP", "fill_and_smooth", "mediapipe_to_layout"]

MAX_STEPS = 4096

# MediaPipe Pose landmark index (or two indices whose mean is taken) for each point of the layout; None = the
# point does not exist in MediaPipe's 33 landmarks (the skis): flagged out of picture.
MEDIAPIPE_MAP: dict[str, tuple[int, ...] | None] = {
    "pelvis": (23, 24),
    "neck": (11, 12),
    "head": (0,),
    "l_shoulder": (11,),
    "r_shoulder": (12,),
    "l_elbow": (13,),
    "r_elbow": (14,),
    "l_hand": (15,),
    "r_hand": (16,),
    "l_hip": (23,),
    "r_hip": (24,),
    "l_knee": (25,),
    "r_knee": (26,),
    "l_ankle": (27,),
    "r_ankle": (28,),
    "l_ski_tip": None,
    "l_ski_tail": None,
    "r_ski_tip": None,
    "r_ski_tail": None,
}


def mediapipe_to_layout(kp: np.ndarray | None, min_visibility: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe keypoints (33, 3) = (x px, y px, visibility 0..1) or None -> (uv (19, 2), visibility (19,) 0/2)."""
    uv = np.zeros((len(SKELETON_POINTS), 2), np.float32)
    vis = np.zeros(len(SKELETON_POINTS), np.int8)
    if kp is None:
        return uv, vis
    for j, name in enumerate(SKELETON_POINTS):
        src = MEDIAPIPE_MAP[name]
        if src is None:
            continue
        pts = kp[list(src)]
        if float(pts[:, 2].min()) >= min_visibility:
            uv[j] = pts[:, :2].mean(0)
            vis[j] = VISIBLE
    return uv, vis


def _gauss(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing along axis 0 (edges padded with the nearest value)."""
    if sigma <= 0 or len(x) < 2:
        return x
    from scipy.ndimage import gaussian_filter1d  # noqa: PLC0415 -- start-up time (scipy)

    return gaussian_filter1d(x, sigma, axis=0, mode="nearest", truncate=3.0)


def fill_and_smooth(
    indices: np.ndarray, found: np.ndarray, arrays: list[np.ndarray], cuts, sigma: float, where: str = ""
) -> list[np.ndarray]:
    """Fill frames without a detection (linear inside a shot between found frames, the nearest found frame at a
    shot's ends, the nearest found frame of the record for a shot without any) and smooth each shot over time
    (Gaussian, s.d. ``sigma`` rows of the arrays).
    ``arrays``: (N, ...) float arrays aligned with ``indices``. Raises when no frame has the athlete."""
    if not found.any():
        raise JudgemindError(
            f"{where}: AerialsPose found no athlete in any of the {len(indices)} frames; check "
            f"the segment (--start/--end) or try another perception (--set estimator=mediapipe)"
        )
    shot = shot_index(cuts, indices)
    out = [a.astype(np.float64).copy() for a in arrays]
    fidx = np.flatnonzero(found)
    for s in np.unique(shot):
        rows = np.flatnonzero(shot == s)
        have = rows[found[rows]]
        if not len(have):
            near = fidx[np.argmin(np.abs(fidx[:, None] - rows[None, :]), axis=0)]
            for a in out:
                a[rows] = a[near]
            continue
        for a in out:
            flat = a.reshape(len(a), -1)
            for c in range(flat.shape[1]):
                flat[rows, c] = np.interp(indices[rows], indices[have], flat[have, c])
            if sigma > 0:
                a[rows] = _gauss(a[rows], sigma)
    return out


@register_extractor
class AerialsPoseExtractor(Extractor):
    """``aerialspose``: predicted skeletons from the video -> the ``skeleton`` extractor's tokens.

    Options: ``steps`` (T, default 48), ``dense`` (estimate every frame of the record, not only the step frames;
    default false; every frame is decoded either way, for the camera cuts), ``smooth`` (temporal smoothing s.d. in
    frames, default 0 = off: on SynthAerials the body turns
    too fast between frames and smoothing lowers PCK at the steps, 0.834 -> 0.801 for 1 frame),
    ``refine`` (second crop around the predicted points, default true), ``world`` (fill
    the 3D block from the predicted 3D pose, default true), ``estimator`` (``aerialspose`` or ``mediapipe``),
    ``short_side`` (decoding size, default 320 px; smaller videos are not enlarged), ``--weights FILE`` (AerialsPose
    weights; default: the weights shipped with judgemind), ``refiner`` (``none``, ``shipped`` or a refiner weights
    file: the track goes through the temporal refiner before the tokens; the cache keeps the raw track either way),
    ``points`` (with a refiner: ``refined`` 2D points, or the estimator's ``raw`` ones beside the refined 3D pose
    and trajectory), ``trajectory`` (with a refiner: its pelvis trajectory in the tokens, default true).
    """

    name = "aerialspose"
    description = (
        "predicted skeletons (AerialsPose: detector + 19-point crop network, or MediaPipe) -> the "
        "skeleton extractor's tokens; cuts, boxes and joints all from the video"
    )
    weights_kind = "optional file"
    requires = ("torch", "cv2")
    dims_text = f"{GLOBAL_DIM} / {FG_DIM}"
    steps_text = "48"
    finds_athlete = True

    def __init__(
        self,
        steps: int | None = None,
        dense: bool = False,
        smooth: float = 0.0,
        refine: bool = True,
        world: bool = True,
        estimator: str = "aerialspose",
        short_side: int = 320,
        weights: str | None = None,
        refiner: str = "none",
        points: str = "refined",
        trajectory: bool = True,
    ):
        self.steps = 48 if steps is None else int(steps)
        if not 1 <= self.steps <= MAX_STEPS:
            raise JudgemindError(f"aerialspose: steps must be 1-{MAX_STEPS}, got {steps!r}")
        self.dense, self.smooth = bool(dense), float(smooth)
        if not 0.0 <= self.smooth <= 25.0:
            raise JudgemindError(f"aerialspose: smooth is a s.d. in frames, 0-25; got {smooth!r}")
        if estimator not in ("aerialspose", "mediapipe"):
            raise JudgemindError(f"aerialspose: estimator must be 'aerialspose' or 'mediapipe', got {estimator!r}")
        if estimator == "mediapipe" and weights:
            raise JudgemindError("aerialspose: --weights is for AerialsPose; MediaPipe uses its bundled model")
        self.short_side = int(short_side)
        if not 32 <= self.short_side <= 4096:
            raise JudgemindError(f"aerialspose: short_side must be 32-4096 px, got {short_side!r}")
        self.refine, self.world, self.estimator = bool(refine), bool(world), estimator
        self.weights = weights
        self.refiner = None if refiner in (None, "", "none") else str(refiner)
        self.points, self.trajectory = check_points(points, "aerialspose"), bool(trajectory)
        self._refiner = None
        self._est = None
        self._sha = None

    def _estimator(self):
        if self._est is None:
            if self.estimator == "mediapipe":
                self._est = get_locator("mediapipe")
            else:
                self._est = AerialsPose(self.weights, refine=self.refine)
        return self._est

    @classmethod
    def shipped_weights_sha256(cls) -> str | None:

        path = shipped_weights()
        return sha256_file(path) if path.is_file() else None

    def weights_sha256(self) -> str | None:
        if self.estimator != "aerialspose":
            return None
        if self._sha is None:
            self._sha = sha256_file(default_weights(self.weights))
        return self._sha

    def config(self) -> dict[str, Any]:
        return {
            "extractor": self.name,
            "steps": self.steps,
            "sampling": "linspace",
            "perception": f"predicted skeletons ({self.estimator}{', refined' if self.refiner else ''})",
            "dense": self.dense,
            "smooth": self.smooth,
            "refine": self.refine,
            "world": self.world,
            "estimator": self.estimator,
            "weights_sha256": self.weights_sha256(),
            **self._refiner_config(),
        }

    def _refiner_config(self) -> dict[str, Any]:
        if self.refiner is None:
            return {}
        return {
            "refiner_sha256": refiner_sha256(self.refiner),
            "points": self.points,
            "trajectory": self.trajectory,
            "refiner_file": None if self.refiner == "shipped" else self.refiner,
        }

    def dims(self) -> dict[str, int]:
        return {"global": GLOBAL_DIM, "foreground": FG_DIM}

    def plan(self, start: int, end: int) -> Plan:
        steps = sample_indices(start, end, self.steps)
        # every frame is decoded (cheap) so that camera cuts are found between consecutive frames -- between step
        # frames a fast pan looks like a cut; the pose is estimated on the step frames only unless ``dense``
        decode = np.arange(start, end, dtype=np.int64)
        return Plan(steps=steps, decode=decode, locate=np.zeros(0, np.int64))

    def perceive(self, frames: Frames, plan: Plan) -> dict[str, np.ndarray]:
        """Per estimated frame (every decoded frame with ``dense``, else the step frames): ``indices`` (N,), uv
        (N, 19, 2), vis_prob (N, 19, 3), world (N, 19, 3), box (N, 4), found (N,), detector (N,); the camera cuts
        found between consecutive decoded frames; and the camera's motion (``decoded`` (M,) frames, ``camera``
        (M, 4), :func:`judgemind.video.motion.camera_motion`) with the athlete's boxes masked out."""

        dec = np.asarray(plan.decode, np.int64)
        all_images = [frames.images[int(i)] for i in dec]
        cuts = find_cuts(all_images, dec)
        idx = dec if self.dense else np.unique(np.asarray(plan.steps, np.int64))
        images = [frames.images[int(i)] for i in idx]
        est = self._estimator()
        if self.estimator == "mediapipe":
            dets = est.locate(list(zip(idx.tolist(), images)), cuts=cuts)
            found = np.array([not d.filled and d.keypoints is not None for d in dets])
            pairs = [mediapipe_to_layout(d.keypoints if ok else None) for d, ok in zip(dets, found)]
            uv = np.stack([p[0] for p in pairs]) if pairs else np.zeros((0, 19, 2), np.float32)
            vis = np.stack([p[1] for p in pairs]) if pairs else np.zeros((0, 19), np.int8)
            vp = np.eye(3, dtype=np.float32)[vis]
            world = np.full((len(idx), 19, 3), np.nan, np.float32)
            box = np.array([d.box for d in dets], np.float32).reshape(-1, 4)
            detector = np.array([d.confidence for d in dets], np.float32).reshape(-1)
        else:
            res = est(images)
            uv, vp, world, box, found = res.uv, res.vis_prob, res.world, res.box, res.found
            detector = np.asarray(res.confidence, np.float32)
        camera = self._camera(all_images, dec, idx, box, found, cuts)
        return {
            "indices": idx,
            "uv": uv,
            "vis_prob": vp,
            "world": world,
            "box": box,
            "found": found,
            "detector": detector,
            "cuts": np.asarray(cuts, np.int64),
            "decoded": dec,
            "camera": camera,
        }

    @staticmethod
    def _camera(images, dec: np.ndarray, idx: np.ndarray, box: np.ndarray, found: np.ndarray, cuts) -> np.ndarray:
        """The camera's motion at every decoded frame, the athlete's box (interpolated between the estimated
        frames) masked out."""

        b = np.full((len(dec), 4), np.nan)
        ok = np.asarray(found, bool) & np.isfinite(box).all(axis=1)
        if ok.any():
            for k in range(4):
                b[:, k] = np.interp(dec, idx[ok], np.asarray(box, np.float64)[ok, k])
        return camera_motion(images, dec, b, cuts)

    def track(self, frames: Frames, plan: Plan, p: dict[str, np.ndarray]) -> SkeletonTrack:
        """The skeleton track at the step frames, in video pixels: frames without a detection filled inside their
        shot (``found`` False there), the camera's motion summed between consecutive steps."""
        idx, found, cuts = p["indices"], p["found"], tuple(int(c) for c in p["cuts"])
        box = np.where(found[:, None], np.nan_to_num(p["box"]), 0.0)
        world = np.nan_to_num(p["world"])
        spacing = float(np.mean(np.diff(idx))) if len(idx) > 1 else 1.0
        uv, vp, world, box = fill_and_smooth(
            idx,
            found,
            [p["uv"], p["vis_prob"], world, box],
            cuts,
            self.smooth / spacing,
            where=f"record {frames.record_id!r}",
        )
        steps = np.asarray(plan.steps, np.int64)
        rows = np.searchsorted(idx, steps)
        scale = float(frames.scale or 1.0)
        W, H = frames.size
        has3d = self.estimator == "aerialspose"
        return SkeletonTrack(
            frames=steps,
            uv=(uv[rows] / scale).astype(np.float32),
            visibility=vp[rows].argmax(-1).astype(np.int8),
            confidence=(1.0 - vp[rows][..., 0]).astype(np.float32),
            box=(box[rows] / scale).astype(np.float32),
            found=found[rows].astype(bool),
            detector=p["detector"][rows].astype(np.float32),
            camera=step_motion(p["camera"], p["decoded"], steps),
            cuts=cuts,
            frame_size=(int(round(W / scale)), int(round(H / scale))),
            fps=float(getattr(frames, "fps", 0.0) or DEFAULT_FPS),
            source=self.estimator,
            world_rel=world[rows].astype(np.float32) if has3d else None,
        )

    def encode(self, frames: Frames, plan: Plan) -> dict[str, np.ndarray]:
        raw = self.track(frames, plan, self.perceive(frames, plan))
        track = self._refine(raw)
        g, fg, _, _ = track_tokens(track, self.world)
        scale = np.float32(frames.scale or 1.0)
        # the cache stores the estimator's raw track (``track_*``): a refiner is trained and re-applied from it
        # without decoding the video again
        return {
            "global": g,
            "foreground": fg,
            "box": raw.box * scale,
            "box_filled": ~raw.found,
            "cuts": np.asarray(raw.cuts, np.int64),
            **raw.to_tensors(),
        }

    def _refine(self, track: SkeletonTrack) -> SkeletonTrack:
        if self.refiner in (None, "", "none"):
            return track
        if self._refiner is None:
            self._refiner = load_refiner(self.refiner)
        return self._refiner(track, points=self.points, trajectory=self.trajectory)


def step_motion(camera: np.ndarray, decoded: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """(T, 4) the camera's motion between consecutive steps from the per-frame motion ``camera`` (M, 4) at the
    ``decoded`` frames: shifts summed over the frames after the previous step up to this one (frames that were not
    measured count as the mean of the measured ones), log zoom summed, confidence = share of measured frames."""
    out = np.zeros((len(steps), 4), np.float32)
    cam = np.asarray(camera, np.float64)
    dec = np.asarray(decoded, np.int64)
    for t in range(1, len(steps)):
        sel = (dec > steps[t - 1]) & (dec <= steps[t])
        if not sel.any():
            continue
        c = cam[sel]
        measured = c[:, 3] > 0
        if measured.any():
            out[t, :3] = c[measured, :3].mean(0) * sel.sum()
            out[t, 3] = measured.mean()
    return out
