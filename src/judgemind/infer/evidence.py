"""The judge sheet's evidence: which frames show each deduction item, and the pictures cut from them.

An item's evidence is its own: the time step of the item's evidence attention over its stage
(:func:`evidence_steps`), moved off a camera cut when the attention allows (the first frames after a cut are a
transition, a new exposure and a tracker that restarts: no place to look at a fault), with a short strip of the
neighbouring steps for items about motion (the catalogue's ``motion``: rotation and twist timing, landings).

The pictures come from the score's one pass over the video (:func:`sheet_frame_indices` says which frames it keeps
for the sheet, at :data:`SHEET_SHORT_SIDE`); :func:`sheet_thumbnails` cuts a square around the athlete from each
(``judgemind.video.crop``'s geometry, the one the pose network uses) -- the athlete's box from the score's box
track, else the skeleton's extent, else the whole frame -- and carries the skeleton's points into the crop, so
``judgemind.report`` only encodes and draws.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from judgemind.data.track import SkeletonTrack, point_extent
from judgemind.video.crop import apply_affine, crop_transform, invert_affine, warp_crop
from judgemind.video.cuts import shot_index

__all__ = [
    "SHEET_SHORT_SIDE",
    "STRIP_FRAMES",
    "MOTION_STRIP",
    "CROP_PX",
    "STRIP_CROP_PX",
    "evidence_steps",
    "near_cut",
    "sheet_frame_indices",
    "sheet_thumbnails",
]

SHEET_SHORT_SIDE = 480  # the sheet's frames are kept at this shorter side (never enlarged; an 8K video is not held)
STRIP_FRAMES = 12  # frames in the sheet's strip over the whole jump
MOTION_STRIP = 5  # steps in an item's strip when the fault is about motion
CUT_GUARD_S = 0.2  # seconds after a camera cut whose frames are not shown as evidence when the attention allows
ATTENTION_SHARE = 0.5  # ... i.e. when another step has at least this share of the peak's attention
CROP_PX = 200  # side of an evidence crop (pixels; the sheet asks for at least 160)
STRIP_CROP_PX = 160  # side of each crop of a motion strip
CROP_MARGIN = 1.4  # the crop's side over the athlete box's longer side


def near_cut(frames: np.ndarray, cuts: Sequence[int], guard: int) -> np.ndarray:
    """(T,) bool: the frame is a cut's first frame or one of the ``guard`` - 1 frames after it."""
    f = np.asarray(frames, np.int64)
    c = np.sort(np.asarray(list(cuts), np.int64))
    if not len(c) or not len(f):
        return np.zeros(len(f), bool)
    k = np.searchsorted(c, f, side="right") - 1  # the last cut at or before each frame
    return (k >= 0) & (f - c[np.maximum(k, 0)] < guard)


def evidence_steps(
    attention: np.ndarray | None,
    peak: int,
    frames: np.ndarray,
    cuts: Sequence[int],
    fps: float | None,
    motion: bool,
) -> tuple[int, list[int]]:
    """(the step to show, the steps of its strip) for one item.

    attention: (T,) the item's evidence attention over the steps (0 outside its stage), or None for a model that
    gives only the peak step ``peak``; frames: (T,) the steps' frames. The step is the attention's peak unless the
    peak's frame lies at or just after a cut (:data:`CUT_GUARD_S`); then the step of highest attention away from
    cuts, if it has at least :data:`ATTENTION_SHARE` of the peak's. The strip (``motion``): up to
    :data:`MOTION_STRIP` consecutive steps around it, inside its camera shot and its stage (the steps its attention
    covers), away from the cut when the shot has enough steps; else the step alone."""
    T = len(frames)
    step = min(max(int(peak), 0), T - 1)
    guard = max(1, int(round(CUT_GUARD_S * (fps or 25.0))))
    bad = near_cut(frames, cuts, guard)
    att = None if attention is None else np.asarray(attention, np.float64)
    if att is not None and bad[step]:
        ok = ~bad & (att >= ATTENTION_SHARE * att[step]) & (att > 0)
        if ok.any():
            step = int(np.argmax(np.where(ok, att, -np.inf)))
    if not motion:
        return step, [step]
    # the strip: steps of the item's stage (where its attention is not masked) in this step's camera shot, away from
    # the cut that starts the shot when there are enough of them
    shot = shot_index(list(cuts), frames)
    mine = (shot == shot[step]) & (att > 0 if att is not None else True)
    mine[step] = True
    pool = np.flatnonzero(mine & ~bad)
    if len(pool) < MOTION_STRIP or step not in pool:
        pool = np.flatnonzero(mine)
    i = int(np.searchsorted(pool, step))
    lo = min(max(i - MOTION_STRIP // 2, 0), max(len(pool) - MOTION_STRIP, 0))
    return step, [int(t) for t in pool[lo : lo + MOTION_STRIP]]


def sheet_frame_indices(frames: Sequence[int], steps) -> tuple[list[int], list[int]]:
    """(the strip's frames over the jump ``frames`` [start, end), every frame the sheet may show: the strip and
    every step frame, any of which can be an item's evidence) -- decoded in the score's one pass."""
    s, e = (int(v) for v in frames)
    strip = sorted(set(np.linspace(s, e - 1, STRIP_FRAMES).astype(int).tolist()))
    return strip, sorted(set(strip) | {int(f) for f in np.asarray(steps).tolist()})


def sheet_thumbnails(
    images: Mapping[int, np.ndarray],
    scale: float,
    result: dict,
    boxes: Mapping[int, Any] | None = None,
    track: SkeletonTrack | None = None,
) -> dict:
    """What the judge sheet shows, cut from the frames the score decoded (``images`` {frame: RGB at the sheet's
    size}; ``scale``: their pixels per video pixel): ``strip`` (frame numbers over the jump), ``images`` {frame: RGB}
    of the strip, ``scale``, and ``evidence`` {item: {"frame", "kind" ("frame" | "strip"), "crops": [one per
    evidence frame: {"frame", "image" (S, S, 3) uint8, "points" (19, 2) crop pixels or None, "inside" (19,) bool
    or None, "box_from" ("athlete box" | "skeleton" | "whole frame")}], "large": {"image" (H, W, 3) the whole
    frame, "window" (x0, y0, x1, y1) the crop in it, "points" (19, 2) or None, "inside"}}}.
    ``boxes``: {frame: athlete box, video pixels} (the score's box track); ``track``: the skeleton the score
    read (video pixels), or None."""

    strip, _ = sheet_frame_indices(result["frames"], [])
    out_images = {f: images[f] for f in strip}
    evidence = {}
    for d in result["deductions"]:
        main = int(d["evidence_frame"])
        frames = [int(f) for f in d.get("evidence_frames") or [main]]
        px = STRIP_CROP_PX if len(frames) > 1 else CROP_PX
        cut = {f: _crop(images[f], f, scale, boxes, track, px) for f in dict.fromkeys(frames + [main])}
        crop, window, uv = cut[main]
        evidence[d["item"]] = {
            "frame": main,
            "kind": "strip" if len(frames) > 1 else "frame",
            "crops": [cut[f][0] for f in frames],
            "large": {
                "image": images[main],
                "window": window,
                "points": None if uv is None else uv[0],
                "inside": None if uv is None else uv[1],
            },
        }
    return {"strip": strip, "images": out_images, "scale": scale, "evidence": evidence}


def _skeleton_at(track: SkeletonTrack | None, frame: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(uv (19, 2) video pixels, in picture (19,)) of the track at ``frame`` (its nearest row within 2 frames)."""
    if track is None or not len(track):
        return None
    fr = np.asarray(track.frames, np.int64)
    r = int(np.argmin(np.abs(fr - frame)))
    if abs(int(fr[r]) - frame) > 2:
        return None
    inside = np.asarray(track.in_picture[r], bool)
    return (np.asarray(track.uv[r], np.float64), inside) if inside.any() else None


def _usable(box) -> bool:
    b = np.asarray(box, np.float64) if box is not None else None
    return b is not None and b.shape == (4,) and bool(np.all(np.isfinite(b))) and b[2] - b[0] > 1 and b[3] - b[1] > 1


def _crop(img: np.ndarray, frame: int, scale: float, boxes, track, px: int):
    """(the crop of :func:`sheet_thumbnails` at ``frame``: a ``px`` square around the athlete, its window
    (x0, y0, x1, y1) in ``img``, (the skeleton's points in ``img``, in picture) or None)."""
    H, W = img.shape[:2]
    skel = _skeleton_at(track, frame)
    box, source = None, "whole frame"
    if boxes:
        near = min(boxes, key=lambda k: abs(int(k) - frame))
        if abs(int(near) - frame) <= 2 and _usable(boxes[near]):
            box, source = np.asarray(boxes[near], np.float64) * scale, "athlete box"
    if box is None and skel is not None:
        ext = point_extent(skel[0][None], skel[1][None])[0] * scale
        if _usable(ext):
            box, source = ext, "skeleton"
    if box is None:  # the whole frame, letterboxed into the square
        M = crop_transform((0, 0, W, H), 1.0, px, inside=(W, H))
    else:
        M = crop_transform(box, CROP_MARGIN, px, inside=(W, H))
    corners = apply_affine(invert_affine(M), np.array([[0.0, 0.0], [px, px]]))
    crop = {"frame": int(frame), "image": warp_crop(img, M, px), "points": None, "inside": None, "box_from": source}
    uv = None
    if skel is not None:
        uv = (skel[0] * scale, skel[1])
        crop["points"], crop["inside"] = apply_affine(M.astype(np.float64), uv[0]), skel[1]
    return crop, tuple(float(v) for v in corners.reshape(4)), uv
