"""Feature extractors: the shared base class, the data handed to them, and the registry.

An extractor turns one record (a jump inside a video) into ``T`` time steps of two tokens:

    global       float32 (T, Dg)   from the whole frame
    foreground   float32 (T, Df)   from a square, padded crop around the athlete (locator box)
    frame_index  int64   (T,)      absolute frame at the centre of each step

It works in three calls, so that decoding and locating are shared by every extractor
(:func:`judgemind.features.pipeline.extract_record` runs them):

1. ``plan(start, end) -> Plan``: which frames to decode, which of them the locator sees, the step centres;
2. the pipeline decodes those frames at the extractor's working size (``short_side``), runs the locator and
   interpolates boxes to every decoded frame -> :class:`Frames`;
3. ``encode(frames, plan) -> {"global", "foreground"}``.

Registry (:data:`EXTRACTORS`, a :class:`judgemind.utils.registry.Registry`): :func:`register_extractor` (class
decorator), :func:`get_extractor`, :func:`list_extractors`; the built-in modules are imported on first use so that
``import judgemind.features`` stays light. A new extractor is a module of ``judgemind.features`` with a
``@register_extractor`` class; the registry finds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import numpy as np

from judgemind.rules.names import DEFAULT_FPS
from judgemind.utils.registry import Registry

__all__ = [
    "Plan",
    "Frames",
    "Extractor",
    "ExtractorInfo",
    "EXTRACTORS",
    "register_extractor",
    "get_extractor",
    "list_extractors",
    "clip_frames",
]


@dataclass(frozen=True)
class Plan:
    """What one record needs. All arrays hold absolute frame indices (int64).

    ``steps`` (T,): centre frame of each time step; ``decode``: sorted unique frames to decode; ``locate``: sorted
    unique frames the locator runs on (a subset of ``decode``); ``extra``: extractor-specific index arrays
    (e.g. ``clips`` (T, L))."""

    steps: np.ndarray
    decode: np.ndarray
    locate: np.ndarray
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Frames:
    """Decoded frames of one record at the working size, with the athlete box of every one of them.

    ``images`` {frame: (H, W, 3) uint8 RGB}; ``boxes`` {frame: (x0, y0, x1, y1)} in working pixels (interpolated
    where the locator did not run or found nothing); ``filled`` {frame: bool} = box not detected at that frame;
    ``detections`` {frame: Detection} for the located frames (keypoints in working pixels); ``scale`` = working
    size / video size; ``record_id`` for error messages; ``fps`` the video's frame rate.
    """

    images: dict[int, np.ndarray]
    boxes: dict[int, tuple[float, float, float, float]]
    filled: dict[int, bool]
    detections: dict[int, Any]
    scale: float = 1.0
    record_id: str = ""
    fps: float = DEFAULT_FPS

    @property
    def size(self) -> tuple[int, int]:
        h, w = next(iter(self.images.values())).shape[:2]
        return w, h


@dataclass(frozen=True)
class ExtractorInfo:
    """What ``judgemind extractors`` shows: ``weights`` is None (no file), "optional file", "required file" or
    "required folder"; ``requires`` lists Python packages; ``dims`` describes the token sizes."""

    name: str
    description: str
    weights: str | None
    requires: tuple[str, ...]
    dims: str
    default_steps: str
    keypoints: bool


class Extractor:
    """Base class; see the module docstring. Subclasses set the class attributes below."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    weights_kind: ClassVar[str | None] = None
    requires: ClassVar[tuple[str, ...]] = ("torch",)
    dims_text: ClassVar[str] = ""
    steps_text: ClassVar[str] = "32"
    wants_keypoints: ClassVar[bool] = False

    #: shorter side of the frames the locator and the extractor see (never enlarged)
    short_side: int = 256
    #: False for extractors that read annotations instead of pixels (``skeleton``): the pipeline calls
    #: ``bind(root, meta, records)`` once and ``encode_record(record)`` per record, and decodes nothing
    needs_video: ClassVar[bool] = True
    #: True for extractors that find the athlete (and the cuts) in the frames themselves (``aerialspose``): the
    #: pipeline runs no locator and takes the step boxes from ``encode``'s output
    finds_athlete: ClassVar[bool] = False

    @classmethod
    def shipped_weights_sha256(cls) -> str | None:
        """sha256 of the weights that ship inside judgemind and are used when no ``weights`` is given (None: the
        extractor ships none)."""
        return None

    def config(self) -> dict[str, Any]:
        """Everything that changes the numbers (without locator and fps, which the pipeline adds)."""
        raise NotImplementedError

    def dims(self) -> dict[str, int]:
        """``{"global": Dg, "foreground": Df}``."""
        raise NotImplementedError

    def plan(self, start: int, end: int) -> Plan:
        raise NotImplementedError

    def encode(self, frames: Frames, plan: Plan) -> dict[str, np.ndarray]:
        """-> ``{"global": (T, Dg) float32, "foreground": (T, Df) float32}``."""
        raise NotImplementedError

    def close(self) -> None:
        """Release native resources."""

    @classmethod
    def info(cls) -> ExtractorInfo:
        return ExtractorInfo(
            cls.name,
            cls.description,
            cls.weights_kind,
            tuple(cls.requires),
            cls.dims_text,
            cls.steps_text,
            cls.wants_keypoints,
        )


# ---------------------------------------------------------------------------------------------------------------
# image helpers shared by the extractors


def step_seconds(steps, fps: float) -> float:
    """The time step of a plan, read one way by every extractor: the mean spacing of the step frames ``steps``
    over ``fps`` (1 / fps for a single step). ``fps``: the data set's rate (dataset.json) for annotation-based
    extractors, the container's for extractors that decode the video (equal for a valid data set)."""
    return float(np.mean(np.diff(steps))) / fps if len(steps) > 1 else 1.0 / fps


def clip_frames(steps: np.ndarray, start: int, end: int, clip_len: int, frame_step: int) -> np.ndarray:
    """Frames of a clip of ``clip_len`` around each step centre, ``frame_step`` apart, clamped into
    ``[start, end)``: int64 ``(T, clip_len)``. The centre frame sits at position ``clip_len // 2``."""
    offsets = (np.arange(clip_len) - clip_len // 2) * int(frame_step)
    return np.clip(np.asarray(steps, np.int64)[:, None] + offsets[None, :], start, end - 1).astype(np.int64)


# ---------------------------------------------------------------------------------------------------------------
# registry

EXTRACTORS = Registry(
    "extractor",
    package="judgemind.features",
    skip=("base", "cache", "pipeline", "i3d"),
    hint="`judgemind extractors` lists them",
    modules={
        "tiny3d": "judgemind.features.tiny3d",
        "pose": "judgemind.features.pose",
        "i3d": "judgemind.features.i3d_extractor",
        "videomae": "judgemind.features.videomae",
        "pixels": "judgemind.features.pixels",
        "skeleton": "judgemind.features.skeleton",
        "aerialspose": "judgemind.features.aerialspose",
        "refined": "judgemind.features.refined",
    },
)


def register_extractor(cls: type[Extractor]) -> type[Extractor]:
    """Class decorator: make ``cls`` available as ``get_extractor(cls.name, **kw)``."""
    return EXTRACTORS.register(cls.name, cls, description=cls.description)


def extractor_class(name: str) -> type[Extractor]:
    return EXTRACTORS.get(name).obj


def get_extractor(name: str, **options: Any) -> Extractor:
    """A ready extractor. Common options: ``weights`` (file or folder), ``steps`` (T), ``short_side``; the rest
    are the extractor's own (see its class). Unknown options and bad values -> JudgemindError."""
    return EXTRACTORS.create(name, **options)


def list_extractors() -> list[ExtractorInfo]:
    return [e.obj.info() for e in EXTRACTORS.entries()]
