"""Extraction: record -> decoded frames -> athlete boxes -> tokens -> feature cache.

    tensors = extract_record(get_extractor("tiny3d"), get_locator("annotation"), ds.video_path(rec), rec)
    summary = run_extract("data/synth", "tiny3d", split="train", shard=(0, 4), workers=2)

:func:`run_extract` is what ``judgemind extract`` calls: it resolves the locator, writes (or checks) the cache
manifest, skips finished records (resume), takes every n-th record for ``--shard i/n``, runs the remaining ones
in-process or in ``workers`` spawned processes (each with its own extractor, locator and torch thread count),
saves each record atomically, shows a tqdm bar with ETA, and returns the failures instead of stopping at them.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from judgemind.data import load_dataset
from judgemind.data.dataset import read_meta
from judgemind.data.track import PREFIX as TRACK_PREFIX
from judgemind.errors import JudgemindError
from judgemind.features.base import Extractor, Frames, Plan, get_extractor
from judgemind.features.cache import FeatureCache, check_file_names
from judgemind.utils.optional import load_cv2
from judgemind.utils.progress import progress_bar
from judgemind.video.decode import open_video
from judgemind.video.locators import Locator, boxes_array, get_locator, interpolate_boxes

OWN_LOCATOR = "none (the extractor finds the athlete)"

__all__ = ["load_frames", "extract_record", "run_extract", "resolve_locator", "ExtractSummary", "parse_shard"]


def load_frames(
    video_path: str | os.PathLike,
    plan: Plan,
    locator: Locator | None,
    *,
    record=None,
    short_side: int | None = 256,
    threads: int = 0,
    images: Mapping[int, np.ndarray] | None = None,
) -> Frames:
    """Decode ``plan.decode`` (shorter side scaled to ``short_side``), locate on ``plan.locate`` and give every
    decoded frame a box (interpolated between located frames of the same shot). ``locator`` None: no locating
    (the extractor finds the athlete itself); every box is the whole frame, flagged filled. ``images``: those
    frames already decoded at ``short_side`` by the caller's one pass over the video
    (:meth:`judgemind.video.decode.VideoReader.read_sets`), so nothing is decoded here."""
    video = open_video(video_path, threads=threads)
    rid = getattr(record, "id", "")
    if record is not None:
        start, end = record.frames
        if end > video.n_frames:
            raise JudgemindError(
                f"record {rid!r}: frames [{start}, {end}) lie outside {video_path}, which has "
                f"{video.n_frames} frames; fix the record's `frames`"
            )
    if images is None:
        images = dict(video.frames(plan.decode, short_side=short_side))
    elif set(images) != {int(i) for i in plan.decode}:
        raise JudgemindError(f"{video_path}: the frames handed in are not the plan's (a bug in the caller)")
    any_img = next(iter(images.values()))
    scale = any_img.shape[1] / float(video.size[0])
    cuts = tuple(getattr(record, "cuts", ()) or ())
    size = (any_img.shape[1], any_img.shape[0])
    if locator is None:  # an extractor that finds the athlete itself: no boxes from outside
        dec = [int(i) for i in plan.decode]
        return Frames(
            images=images,
            boxes={i: (0.0, 0.0, float(size[0]), float(size[1])) for i in dec},
            filled={i: True for i in dec},
            detections={},
            scale=scale,
            record_id=rid,
            fps=video.info.fps,
        )
    # annotated boxes cost nothing: read them for every decoded frame, not only where a detector would run
    where = plan.decode if locator.needs_record_boxes else plan.locate
    located = [int(i) for i in where]
    dets = locator.locate([(i, images[i]) for i in located], record=record, scale=scale, cuts=cuts)
    dec = [int(i) for i in plan.decode]
    # the located boxes (detected or already filled between detections) are the knots for the other frames
    boxes, _ = interpolate_boxes(located, boxes_array(dets), dec, size, cuts)
    was_located = dict(zip(located, dets))
    filled = {i: (was_located[i].filled if i in was_located else True) for i in dec}
    return Frames(
        images=images,
        boxes={i: tuple(float(v) for v in b) for i, b in zip(dec, boxes)},
        filled=filled,
        detections=was_located,
        scale=scale,
        record_id=rid,
        fps=video.info.fps,
    )


def extract_record(
    extractor: Extractor,
    locator: Locator,
    video_path: str | os.PathLike,
    record,
    *,
    threads: int = 0,
    images: Mapping[int, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """All cache tensors of one record: global, foreground, frame_index, box (video pixels), box_filled.
    ``images``: the plan's frames, already decoded (see :func:`load_frames`)."""
    if not extractor.needs_video:
        return extractor.encode_record(record)
    start, end = (int(v) for v in record.frames)
    plan = extractor.plan(start, end)
    frames = load_frames(
        video_path, plan, locator, record=record, short_side=extractor.short_side, threads=threads, images=images
    )
    out = extractor.encode(frames, plan)
    T = len(plan.steps)
    dims = extractor.dims()
    for k in ("global", "foreground"):
        if out[k].shape != (T, dims[k]):
            raise JudgemindError(
                f"extractor {extractor.name!r} gave {k} of shape {out[k].shape} for record "
                f"{record.id!r}, expected {(T, dims[k])} (a bug in the extractor)"
            )
    if "box" in out:  # an extractor that finds the athlete itself (aerialspose) gives its own step boxes
        box, filled = np.asarray(out["box"], np.float32), np.asarray(out["box_filled"], bool)
    else:
        box, filled = step_boxes(frames, plan.steps, tuple(getattr(record, "cuts", ()) or ()))
    tensors = {
        "global": out["global"].astype(np.float32),
        "foreground": out["foreground"].astype(np.float32),
        "frame_index": np.asarray(plan.steps, np.int64),
        "box": box / np.float32(frames.scale),
        "box_filled": filled.astype(np.uint8),
    }
    if "cuts" in out:  # camera cuts the extractor found in the video (frame indices)
        tensors["cuts"] = np.asarray(out["cuts"], np.int64)
    tensors.update({k: v for k, v in out.items() if k.startswith(TRACK_PREFIX)})  # the skeleton track, if any
    return tensors


def step_boxes(frames: Frames, steps, cuts=()) -> tuple[np.ndarray, np.ndarray]:
    """Box (working pixels) and filled flag at each step centre; a centre that was not decoded (e.g. an I3D clip
    midpoint) is interpolated between the decoded frames and counts as filled."""
    dec = sorted(frames.boxes)
    known = np.array([frames.boxes[i] for i in dec], np.float32)
    boxes, _ = interpolate_boxes(dec, known, [int(i) for i in steps], frames.size, cuts)
    filled = np.array([frames.filled.get(int(i), True) for i in steps], bool)
    return boxes, filled


# ---------------------------------------------------------------------------------------------------------------
# the dataset loop


@dataclass
class ExtractSummary:
    cache_dir: Path
    selected: int = 0
    skipped: int = 0
    done: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    config: dict = field(default_factory=dict)


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"i/n"`` -> (i, n) with 0 <= i < n."""
    if not text:
        return 0, 1
    try:
        i, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise JudgemindError(f"--shard must look like i/n (e.g. 0/4), got {text!r}") from None
    if n < 1 or not 0 <= i < n:
        raise JudgemindError(f"--shard {text}: need 0 <= i < n")
    return i, n


def resolve_locator(name: str | None, records: Sequence) -> str:
    """``auto`` -> ``annotation`` when every record has boxes (e.g. SynthAerials), else ``mediapipe``."""
    if name and name != "auto":
        return name
    return "annotation" if records and all(r.boxes for r in records) else "mediapipe"


def _config(extractor: Extractor, locator: Locator | None, fps: float) -> dict[str, Any]:
    cfg = dict(extractor.config())
    cfg["extractor"] = extractor.name
    cfg["short_side"] = extractor.short_side
    cfg["locator"] = locator.name if locator is not None else OWN_LOCATOR
    cfg["locator_config"] = locator.config() if locator is not None else {}
    cfg["fps"] = float(fps)
    return cfg


# Worker state (one extractor + locator per process, built once by _init_worker).
_WORKER: dict[str, Any] = {}


def _init_worker(spec: dict) -> None:

    torch.set_num_threads(max(1, spec["threads"]))
    try:
        cv2 = load_cv2()

        cv2.setNumThreads(max(1, spec["threads"]))
    except ImportError:
        pass
    _WORKER["extractor"] = get_extractor(spec["extractor"], **spec["options"])
    if not _WORKER["extractor"].needs_video:
        _WORKER["extractor"].bind(spec["root"], read_meta(spec["root"])[0])
    _WORKER["locator"] = (
        None if spec["locator"] == OWN_LOCATOR else get_locator(spec["locator"], **spec["locator_options"])
    )
    _WORKER["cache"] = FeatureCache(spec["root"], spec["name"])
    _WORKER["threads"] = spec["threads"]


def _process(task) -> tuple[str, str | None, float]:
    """Extract and save one record; never raises (the error message is returned)."""
    record, video_path = task
    t0 = time.perf_counter()
    try:
        tensors = extract_record(
            _WORKER["extractor"], _WORKER["locator"], video_path, record, threads=_WORKER["threads"]
        )
        _WORKER["cache"].save(record.id, tensors)
    except JudgemindError as e:
        return record.id, str(e), time.perf_counter() - t0
    except Exception as e:  # noqa: BLE001 -- one broken video must not stop the others; reported by name
        return record.id, f"{type(e).__name__}: {e}", time.perf_counter() - t0
    return record.id, None, time.perf_counter() - t0


def run_extract(
    root: str | os.PathLike,
    extractor: str,
    *,
    locator: str | None = "auto",
    weights: str | None = None,
    steps: int | None = None,
    split: str | None = None,
    shard: tuple[int, int] = (0, 1),
    workers: int = 1,
    threads: int | None = None,
    name: str | None = None,
    options: dict | None = None,
    locator_options: dict | None = None,
    progress: bool = True,
) -> ExtractSummary:
    """Extract features for a dataset's records into ``root/features/<name>`` (see the module docstring).

    Raises :class:`JudgemindError` for problems that concern every record (unknown extractor, missing weights, a
    cache made with other settings); per-record problems end up in ``summary.failed``.
    """

    ds = load_dataset(root)
    records = ds.split(split) if split else list(ds.records)
    i, n = shard
    selected = records[i::n]
    opts = dict(options or {})
    if weights is not None:
        opts["weights"] = str(weights)
    if steps is not None:
        opts["steps"] = int(steps)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 256:
        raise JudgemindError(f"--workers must be an integer from 1 to 256, got {workers!r}")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= 1024):
        raise JudgemindError(
            f"--threads must be an integer from 1 to 1024 (0 or absent: cores / workers), got {threads!r}"
        )
    threads = int(threads) if threads else max(1, (os.cpu_count() or 1) // workers)
    check_file_names([r.id for r in ds.records], str(ds.root / "annotations.jsonl"))

    ext = get_extractor(extractor, **opts)
    if not ext.needs_video:
        ext.bind(ds.root, ds.meta, records)
    if ext.finds_athlete:
        if locator not in (None, "auto"):
            raise JudgemindError(
                f"the {ext.name} extractor finds the athlete itself (boxes and cuts from the "
                f"video); drop --locator {locator}"
            )
        loc_name, loc = OWN_LOCATOR, None
    else:
        loc_name = resolve_locator(locator, list(ds.records))
        loc = get_locator(loc_name, **(locator_options or {}))
    config = _config(ext, loc, ds.meta.fps)
    cache = FeatureCache(ds.root, name or extractor)
    try:
        return _extract_into(
            cache,
            ds,
            selected,
            ext,
            loc,
            config,
            extractor,
            opts,
            loc_name,
            locator_options,
            workers,
            threads,
            progress,
        )
    finally:
        cache.close()
        ext.close()
        if loc is not None:
            loc.close()


def _extract_into(
    cache, ds, selected, ext, loc, config, extractor, opts, loc_name, locator_options, workers, threads, progress
) -> ExtractSummary:
    cache.open_for_writing(config, ext.dims())
    summary = ExtractSummary(cache.dir, selected=len(selected), config=config)
    # resume: a file that exists is complete (atomic writes), but it is still checked -- a file damaged or made
    # by another version (NaN, other dimensions) is extracted again instead of being skipped forever
    todo = [r for r in selected if not cache.has(r.id) or cache.verify(r.id) is not None]
    summary.skipped = len(selected) - len(todo)
    tasks = [(r, str(ds.video_path(r))) for r in todo]
    spec = dict(
        extractor=extractor,
        options=opts,
        locator=loc_name,
        locator_options=locator_options or {},
        root=str(ds.root),
        name=cache.name,
        threads=threads,
    )
    t0 = time.perf_counter()
    bar = _bar(len(tasks), f"extract {cache.name}", progress)
    try:
        if workers == 1 or len(tasks) <= 1:
            _WORKER.update(extractor=ext, locator=loc, cache=cache, threads=threads)
            old = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                for task in tasks:
                    _record(summary, _process(task), bar)
            finally:
                torch.set_num_threads(old)
                _WORKER.clear()
        else:
            ext.close()
            if loc is not None:
                loc.close()
            ctx = mp.get_context("spawn")  # fork after torch/MediaPipe threads started is unsafe
            with ctx.Pool(workers, initializer=_init_worker, initargs=(spec,)) as pool:
                for result in pool.imap_unordered(_process, tasks):
                    _record(summary, result, bar)
    finally:
        bar.close()
    summary.seconds = time.perf_counter() - t0
    return summary


def _record(summary: ExtractSummary, result, bar) -> None:
    rid, err, _ = result
    if err is None:
        summary.done += 1
    else:
        summary.failed.append((rid, err))
        bar.set_postfix(failed=len(summary.failed))
    bar.update(1)


def _bar(total: int, desc: str, enabled: bool):

    return progress_bar(total=total, desc=desc, unit="video", enabled=enabled)
