"""Athlete locators: where is the athlete in each frame?

A locator sees the frames of one video in increasing index order and returns one :class:`Detection` per frame:
a box ``(x0, y0, x1, y1)`` in pixels of the frames it was given, a confidence in [0, 1] and, for pose-based
locators, 33 MediaPipe keypoints ``(33, 3)`` = (x, y, visibility). Frames where nothing was found get a box by
interpolation between the nearest detections of the same shot (or by holding the nearest one at the ends), and are
flagged ``filled=True`` with confidence 0; a shot with no detection at all gets the whole frame.

    loc = get_locator("hog", detect_every=5)
    dets = loc.locate([(i, frame) for i, frame in frames], cuts=record.cuts)

Registry (:data:`LOCATORS`, a :class:`judgemind.utils.registry.Registry`): :func:`register_locator` (a class
decorator), :func:`get_locator`, :func:`list_locators`. A new locator is a module of ``judgemind.video.locators``
with a ``@register_locator`` class; the registry finds it. Built-ins:

========== =====================================================================================================
annotation the record's ``boxes`` (scaled to the frames given)
mediapipe  MediaPipe Pose (legacy ``mp.solutions.pose``, bundled model complexity 1) on the whole frame; box from
           the segmentation mask and landmarks
hog        OpenCV HOG people detector every k frames, template tracking between, MediaPipe Pose on the crop;
           for small, distant athletes
motion     OpenCV MOG2 background subtraction (static camera), largest moving blob
aerialspose AerialsPose's learned detector refined by its predicted points (SynthAerials renders)
========== =====================================================================================================
"""

from __future__ import annotations

import bisect
import importlib
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Sequence

import numpy as np

from judgemind.errors import JudgemindError
from judgemind.utils.registry import Registry

Box = tuple[float, float, float, float]

__all__ = [
    "Box",
    "Detection",
    "Locator",
    "LocatorInfo",
    "LOCATORS",
    "register_locator",
    "get_locator",
    "list_locators",
    "fill_gaps",
    "interpolate_boxes",
    "boxes_array",
    "require_package",
    "N_KEYPOINTS",
]

N_KEYPOINTS = 33  # MediaPipe Pose landmarks


@dataclass(frozen=True)
class Detection:
    """The athlete in one frame. ``box`` (x0, y0, x1, y1) pixels or None; ``keypoints`` (33, 3) float32
    (x, y pixels, visibility 0..1) or None; ``filled`` = the box was interpolated or held, not detected."""

    box: Box | None
    confidence: float = 0.0
    keypoints: np.ndarray | None = field(default=None, compare=False)
    filled: bool = False


@dataclass(frozen=True)
class LocatorInfo:
    name: str
    description: str
    requires: tuple[str, ...]
    keypoints: bool
    needs_record_boxes: bool


class Locator:
    """Base class. Subclasses set the class attributes and implement :meth:`detect` (and :meth:`reset` when they
    keep state between frames, e.g. a tracker or a background model)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()  # Python packages (import names)
    gives_keypoints: ClassVar[bool] = False
    needs_record_boxes: ClassVar[bool] = False

    def __init__(self, **options: Any):
        if options:
            raise JudgemindError(
                f"locator {self.name!r} has no option {', '.join(sorted(options))}; its options are none"
            )

    def config(self) -> dict[str, Any]:
        """Everything that changes the boxes (goes into a feature cache's manifest)."""
        return {"name": self.name}

    def reset(self) -> None:
        """Forget state carried between frames (new video or a camera cut)."""

    def detect(self, frame: np.ndarray, index: int) -> Detection:
        """One frame ``(H, W, 3) uint8`` RGB -> raw detection (``box=None`` when nothing is found)."""
        raise NotImplementedError

    def locate(
        self, frames: Iterable[tuple[int, np.ndarray]], *, record=None, scale: float = 1.0, cuts: Sequence[int] = ()
    ) -> list[Detection]:
        """Detections for ``frames`` = ``(index, rgb)`` in increasing index order, gaps filled and flagged.

        ``record`` and ``scale`` (frames' size / video size) are for locators that read the record; ``cuts`` are
        camera cuts (frame indices where a new shot starts): state is reset there and no box is interpolated
        across them.
        """
        self.reset()
        cut_list = sorted(int(c) for c in cuts)
        indices: list[int] = []
        dets: list[Detection] = []
        size = (1, 1)
        prev = None
        for i, frame in frames:
            if prev is not None and _shot(cut_list, prev) != _shot(cut_list, i):
                self.reset()
            size = (frame.shape[1], frame.shape[0])
            indices.append(int(i))
            dets.append(self.detect(frame, int(i)))
            prev = i
        return fill_gaps(indices, dets, size, cut_list)

    def close(self) -> None:
        """Release native resources (MediaPipe graphs)."""


def _shot(cuts: Sequence[int], index: int) -> int:
    return bisect.bisect_right(cuts, index)


def boxes_array(dets: Sequence[Detection]) -> np.ndarray:
    """``(N, 4) float32`` boxes; NaN rows for missing boxes."""
    out = np.full((len(dets), 4), np.nan, np.float32)
    for k, d in enumerate(dets):
        if d.box is not None:
            out[k] = d.box
    return out


def interpolate_boxes(
    indices: Sequence[int],
    boxes: np.ndarray,
    query: Sequence[int],
    frame_size: tuple[int, int],
    cuts: Sequence[int] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes at ``query`` frames from boxes known at ``indices`` (NaN rows = unknown), shot by shot.

    Inside a shot a query between two known frames is linearly interpolated, outside them the nearest known box is
    held; a shot with no known box gets the whole frame. Returns ``(boxes (Q, 4) float32, filled (Q,) bool)``,
    ``filled`` = not a known box at that exact frame.
    """
    cuts = sorted(int(c) for c in cuts)
    idx = np.asarray(indices, np.int64)
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    known = ~np.isnan(boxes).any(axis=1)
    q = np.asarray(query, np.int64)
    out = np.empty((len(q), 4), np.float32)
    filled = np.ones(len(q), bool)
    w, h = frame_size
    shots_known = np.array([_shot(cuts, i) for i in idx], np.int64) if len(idx) else np.zeros(0, np.int64)
    for k, f in enumerate(q):
        s = _shot(cuts, int(f))
        sel = known & (shots_known == s)
        if not sel.any():
            out[k] = (0.0, 0.0, float(w), float(h))
            continue
        xi, bi = idx[sel], boxes[sel]
        exact = np.nonzero(xi == f)[0]
        if len(exact):
            out[k] = bi[exact[0]]
            filled[k] = False
            continue
        j = int(np.searchsorted(xi, f))
        if j == 0:
            out[k] = bi[0]
        elif j == len(xi):
            out[k] = bi[-1]
        else:
            t = (f - xi[j - 1]) / float(xi[j] - xi[j - 1])
            out[k] = (1 - t) * bi[j - 1] + t * bi[j]
    return out, filled


def fill_gaps(
    indices: Sequence[int], dets: Sequence[Detection], frame_size: tuple[int, int], cuts: Sequence[int] = ()
) -> list[Detection]:
    """Give every detection a box (see :func:`interpolate_boxes`); filled ones get ``filled=True``, confidence 0."""
    if not len(dets):
        return []
    boxes, _ = interpolate_boxes(indices, boxes_array(dets), indices, frame_size, cuts)
    out = []
    for d, b in zip(dets, boxes):
        if d.box is not None:
            out.append(d)
        else:
            out.append(Detection(tuple(float(v) for v in b), 0.0, None, True))
    return out


# ---------------------------------------------------------------------------------------------------------------
# registry

LOCATORS = Registry(
    "locator",
    package="judgemind.video.locators",
    skip=("base",),
    modules={
        "annotation": "judgemind.video.locators.annotation",
        "mediapipe": "judgemind.video.locators.mp_pose",
        "hog": "judgemind.video.locators.hog",
        "motion": "judgemind.video.locators.motion",
        "aerialspose": "judgemind.pose.locator",  # lives with the networks it runs; video never imports pose
    },
)


def register_locator(cls: type[Locator]) -> type[Locator]:
    """Class decorator: make ``cls`` available as ``get_locator(cls.name)``."""
    return LOCATORS.register(cls.name, cls, description=cls.description)


def get_locator(name: str, **options: Any) -> Locator:
    """A new locator; ``options`` are its keyword arguments (see each class)."""
    return LOCATORS.create(name, **options)


def list_locators() -> list[LocatorInfo]:
    return [
        LocatorInfo(c.name, c.description, tuple(c.requires), c.gives_keypoints, c.needs_record_boxes)
        for c in (e.obj for e in LOCATORS.entries())
    ]


def require_package(package: str, what: str) -> Any:
    """Import an optional package or raise a JudgemindError saying how to install it."""
    try:
        return importlib.import_module(package)
    except ImportError as e:
        hint = {
            "mediapipe": "pip install 'mediapipe==0.10.21' (or `pip install judgemind[pose]`)",
            "cv2": "pip install 'opencv-python-headless<5' (or `pip install judgemind[video]`)",
        }.get(package, "")
        raise JudgemindError(f"{what} needs the Python package {package!r} ({e}); {hint}") from e
