"""The jump to score: a video (or a segment of it), its action code and DD, camera cuts and athlete boxes.

:func:`resolve_target` checks the inputs of ``judgemind score`` before anything heavy runs. When the video belongs
to a FineSkiing data set (a ``dataset.json`` in a parent folder lists it), the record's code, DD, frames, boxes and
cuts are used; otherwise the action code must be given and camera cuts are found by a frame-difference detector.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Mapping

import numpy as np

from judgemind import rules
from judgemind.data.dataset import read_records
from judgemind.errors import JudgemindError
from judgemind.video.cuts import CUT_THRESHOLD, find_cuts
from judgemind.video.decode import iter_frames
from judgemind.video.probe import probe_video


@dataclass
class Target:
    """The jump to score: what an extractor and a locator need of a record."""

    id: str
    video: str
    frames: tuple[int, int]
    action_code: str
    dd: Decimal
    cuts: tuple[int, ...] = ()
    boxes: dict | None = None
    source: str = "video"  # "video" or "dataset <root>"
    extra: dict = field(default_factory=dict)


_DATASETS: dict = {}  # (kind, root) -> (stamp, value): a round scores many videos of one data set


def cached(kind: str, root: Path, load):
    """``load(root)`` once per process while the data set's files are unchanged (size and mtime)."""
    stamp = tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in (root / "dataset.json", root / "annotations.jsonl"))
    hit = _DATASETS.get((kind, root))
    if hit is None or hit[0] != stamp:
        hit = _DATASETS[(kind, root)] = (stamp, load(root))
    return hit[1]


def find_dataset_record(video: Path, start: int | None, end: int | None):
    """The FineSkiing record of ``video`` if a parent folder is a dataset that lists it, else None."""

    vreal = os.path.realpath(video)
    for parent in list(video.resolve().parents)[:6]:
        if (parent / "dataset.json").is_file() and (parent / "annotations.jsonl").is_file():
            records, _ = cached("records", parent, read_records)
            hits = [r for r in records if os.path.realpath(parent / r.video) == vreal]
            if start is not None:
                hits = [r for r in hits if r.frames[0] <= start < r.frames[1]] or hits
            if hits:
                return parent, hits[0]
    return None


CUT_SHORT_SIDE = 64  # frames for the cut detector are decoded this small


def cuts_of(images: Mapping[int, np.ndarray], threshold: float = CUT_THRESHOLD) -> tuple[int, ...]:
    """Hard camera cuts among consecutive frames ``images`` {index: RGB at :data:`CUT_SHORT_SIDE`}: frames whose
    colour histogram differs from the previous frame's by more than ``threshold`` (total variation distance, 0..1)
    and stands out from its neighbours."""
    order = sorted(images)
    return find_cuts([images[i] for i in order], order, threshold)


def detect_cuts(video: Path, start: int, end: int, threshold: float = CUT_THRESHOLD) -> tuple[int, ...]:
    """:func:`cuts_of` the frames [start, end) of ``video``, decoded for it (a score decodes them in its one pass
    instead)."""
    return cuts_of(dict(iter_frames(video, start, end, short_side=CUT_SHORT_SIDE)), threshold)


def resolve_target(
    video: str | os.PathLike,
    action_code: str | None,
    dd: str | None,
    start: int | None,
    end: int | None,
    use_dataset: bool = True,
    cuts: bool = True,
) -> Target:
    """The jump of ``video`` (arguments as ``judgemind score`` takes them). A code given here must be an aerials
    jump code; a data-set record's own code is trusted as the data set was validated (a FineDiving record's dive
    number, e.g. ``107B``, scores with its record's DD)."""

    path = Path(video)
    info = probe_video(path)  # missing / empty / not a video -> VideoError naming the file
    found = find_dataset_record(path, start, end) if use_dataset else None
    rec = found[1] if found else None
    code = action_code or (rec.action_code if rec else None)
    if not code:
        raise JudgemindError(
            f"{path}: the jump's action code is needed (it sets the DD and the model's prior "
            f"knowledge); pass --action-code, e.g. --action-code bFdFF"
        )
    own = rec is not None and rec.action_code == code
    if not own:
        rules.parse_jump_code(code)  # bad code -> UnknownJumpCode
    if dd is not None:
        ddv = rules.to_decimal(dd, "--dd")
        if not Decimal(0) < ddv <= Decimal("5.5"):
            raise JudgemindError(f"--dd {dd} is outside (0, 5.5]")
    elif own:
        ddv = rec.dd
    else:
        ddv = rules.dd_for(code)  # unknown code -> error listing close codes
    s = start if start is not None else (rec.frames[0] if rec else 0)
    e = end if end is not None else (rec.frames[1] if rec else info.n_frames)
    if not (0 <= s < e <= info.n_frames):
        raise JudgemindError(
            f"{path}: segment [{s}, {e}) lies outside the video, which has {info.n_frames} frames "
            f"(frames 0..{info.n_frames - 1}); fix --start/--end"
        )
    if e - s < 8:
        raise JudgemindError(f"{path}: segment [{s}, {e}) is too short to score (need at least 8 frames)")
    if rec is not None:
        return Target(
            rec.id,
            str(path),
            (s, e),
            code,
            ddv,
            tuple(c for c in rec.cuts if s <= c < e),
            {k: v for k, v in (rec.boxes or {}).items() if s <= k < e} or None,
            f"dataset {found[0]}",
            {"fps": info.fps, "record": rec},
        )
    # ``cuts=False``: the extractor finds the cuts itself (aerialspose); no second pass over the video
    found_cuts = detect_cuts(path, s, e) if cuts else ()
    return Target(path.stem, str(path), (s, e), code, ddv, found_cuts, None, "video", {"fps": info.fps})
