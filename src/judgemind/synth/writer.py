"""Writing a SynthAerials dataset: encoding, per-jump fragments, resuming, assembling the dataset files.

Layout while a run is in progress (and after it, for resuming)::

    OUT/.synth/settings.json            the settings of the run (n, seed, size, fps, codes, ...)
    OUT/.synth/annotations/<id>.json    one finished record per jump (written after its video)
    OUT/videos/<id>.mp4                 h264 videos
    OUT/skeletons/<id>.npy              per-frame skeleton (2D, visibility, 3D), written before the fragment
    OUT/annotations.jsonl, dataset.json assembled at the end from the fragments

Every file is written to a hidden ``.part`` temporary beside it and moved into place (``judgemind.utils.atomic``),
so an interrupted run leaves no half-written video or record; running the same command again skips the jumps that
have both a video and a fragment and finishes the rest. A run with other settings is refused.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing as mp
import os
import shutil
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Sequence

import cv2
import numpy as np

from judgemind.data.dataset import dumps_record, write_dataset
from judgemind.data.records import DatasetMeta
from judgemind.data.skeleton import SKELETON_DIR, SKELETON_POINTS, SkeletonLayout, save_array
from judgemind.errors import JudgemindError
from judgemind.rules import load_catalogue
from judgemind.rules.names import DEFAULT_FPS
from judgemind.synth.annotate import build_record, skeleton_array
from judgemind.synth.camera import view_jump
from judgemind.synth.render import render_frames
from judgemind.synth.spec import (
    CUT_MODES,
    DEFAULT_CUTS,
    GENERATOR_VERSION,
    SynthSettings,
    check_codes,
    jump_id,
    sample_spec,
)
from judgemind.utils.atomic import atomic_path, atomic_write_text
from judgemind.utils.optional import load_av
from judgemind.utils.progress import progress_bar
from judgemind.version import __version__

SYNTH_DIR = ".synth"
SETTINGS_FILE = "settings.json"
FRAGMENT_DIR = "annotations"
VIDEO_DIR = "videos"
MIN_SIZE = 64
MAX_SIZE = 1024
SPLIT_SHARES = (("train", 0.70), ("val", 0.15), ("test", 0.15))
# Entries of OUT that --overwrite removes (anything else is left alone).
_OWNED = ("dataset.json", "annotations.jsonl", VIDEO_DIR, SKELETON_DIR, SYNTH_DIR, "features")

# The SynthAerials benchmark: the data set every accuracy figure of the project is quoted on (docs/synth.md).
# 2000 jumps (1400 / 300 / 300), 160 px frames (the athlete's body is 50-110 px tall in follow shots), 25 fps.
PRESETS = {
    "bench": {"n": 2000, "seed": 2026, "size": 160, "fps": DEFAULT_FPS},
}

# The same frames must give the same bytes in any process. One thread is not enough: libx264's macroblock-tree
# rate control (mbtree, on by default) reads uninitialised memory in its SIMD code, so the quantiser of a
# macroblock - and the decoded pixels, by up to ~60 grey levels from frame 0 on - depended on what the process had
# allocated before (measured: 5 encodings of the same frames in one process gave 4 different files at 64-160 px).
# With mbtree off the output is identical across encodings, processes, worker counts and PYTHONHASHSEED
# (tests/synth/test_determinism.py); the cost is a few per cent more bits at the same CRF.
X264_OPTIONS = {"preset": "veryfast", "crf": "23", "threads": "1", "x264-params": "mbtree=0"}


# --------------------------------------------------------------------------------------------------------------
# encoding


def encode_video(frames: Iterable[np.ndarray], path: str | os.PathLike, fps: float) -> int:
    """Encode BGR frames (H, W, 3) uint8 to an h264 mp4 at ``path`` as they come (nothing is buffered beyond the
    encoder's look-ahead). Returns the number of frames."""
    av = load_av()

    rate = Fraction(fps).limit_denominator(1001)
    n = 0
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = None
        for frame in frames:
            if stream is None:
                h, w = frame.shape[:2]
                stream = container.add_stream("libx264", rate=rate, options=dict(X264_OPTIONS))
                stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
                stream.codec_context.thread_count = 1
            yuv = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)
            vf = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            vf.pts = n
            for packet in stream.encode(vf):
                container.mux(packet)
            n += 1
        if stream is None:
            raise JudgemindError(f"{path}: no frames to encode")
        for packet in stream.encode():
            container.mux(packet)
    return n


# --------------------------------------------------------------------------------------------------------------
# one jump


def _paths(root: Path, index: int) -> tuple[Path, Path]:
    jid = jump_id(index)
    return root / VIDEO_DIR / f"{jid}.mp4", root / SYNTH_DIR / FRAGMENT_DIR / f"{jid}.json"


def resolve_preset(name: str | None, **overrides) -> dict:
    """Settings of preset ``name`` (None: no preset) with the user's non-None ``overrides`` on top."""
    if name is None:
        base = {}
    elif name not in PRESETS:
        raise JudgemindError(
            f"unknown --preset {name!r}; presets: "
            + "; ".join(f"{k} ({', '.join(f'{a} {b}' for a, b in v.items())})" for k, v in PRESETS.items())
        )
    else:
        base = dict(PRESETS[name])
    base.update({k: v for k, v in overrides.items() if v is not None})
    return base


def make_jump(settings: SynthSettings, index: int, root: Path | None = None) -> str:
    """Sample, (render and encode) and annotate jump ``index``; with ``root`` write its video then its fragment
    (both atomically) and return the fragment text."""

    spec = sample_spec(settings.seed, index, settings.codes, settings.cuts)
    view = view_jump(spec, settings.size, settings.fps)
    record = build_record(spec, view)
    text = dumps_record(record) + "\n"
    if root is not None:
        video, fragment = _paths(root, index)
        if settings.render:
            with atomic_path(video) as tmp:
                n = encode_video(render_frames(view), tmp, settings.fps)
            if n != view.timeline.n_frames:  # pragma: no cover - guards the renderer/annotation contract
                raise JudgemindError(f"{video}: encoded {n} frames, the annotation has {view.timeline.n_frames}")
        save_array(root / record.skeleton, skeleton_array(view))
        atomic_write_text(fragment, text)
    return text


def _mp_context():
    """Spawn, never fork: the caller may already run threads (the progress bar's monitor, pytest-xdist, torch),
    and a child forked while another thread holds a lock deadlocks. The workers' tasks are module-level and
    picklable, so scripts calling :func:`generate` need the usual ``if __name__ == "__main__"`` guard."""
    return mp.get_context("spawn")


def _init_worker() -> None:

    cv2.setNumThreads(1)


def _job(args: tuple[dict, str, int]) -> int:
    settings_d, root, index = args
    make_jump(settings_from_dict(settings_d), index, Path(root))
    return index


# --------------------------------------------------------------------------------------------------------------
# the run


def settings_from_dict(d: dict) -> SynthSettings:
    """The settings stored in a data set's `.synth/settings.json`, back as :class:`SynthSettings`."""
    d = dict(d)
    d["codes"] = tuple(d["codes"]) if d.get("codes") is not None else None
    return SynthSettings(**d)


def check_settings(
    n: int, seed: int, size: int, fps: float, workers: int, codes, cuts: str = DEFAULT_CUTS
) -> SynthSettings:
    """Validate the user's settings (bad input -> JudgemindError naming the option)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise JudgemindError(f"--n must be a positive number of jumps, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise JudgemindError(f"--seed must be a non-negative integer, got {seed!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < MIN_SIZE:
        raise JudgemindError(
            f"--size {size!r} is too small to draw an athlete: use at least {MIN_SIZE} (pixels, square frames)"
        )
    if size > MAX_SIZE or size % 2:
        raise JudgemindError(f"--size {size} must be even (h264 with 4:2:0 colour) and at most {MAX_SIZE}")
    try:
        fps_f = float(fps)
    except (TypeError, ValueError):
        raise JudgemindError(f"--fps must be a number, got {fps!r}") from None
    if not 5.0 <= fps_f <= 120.0:
        raise JudgemindError(f"--fps {fps} is outside 5-120 frames per second")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise JudgemindError(f"--workers must be at least 1, got {workers!r}")
    if isinstance(codes, str):
        codes = codes.split(",")
    codes_t = check_codes(list(codes)) if codes is not None else None
    if cuts not in CUT_MODES:
        raise JudgemindError(f"--cuts {cuts!r} is not a cut pattern; choose one of {', '.join(CUT_MODES)}")
    return SynthSettings(n=int(n), seed=int(seed), size=int(size), fps=fps_f, codes=codes_t, cuts=cuts)


def _describe_diff(stored: dict, current: dict) -> str:
    keys = sorted(set(stored) | set(current))
    return ", ".join(f"{k} {stored.get(k)!r} (now {current.get(k)!r})" for k in keys if stored.get(k) != current.get(k))


def _prepare_out(out: Path, settings: SynthSettings, overwrite: bool) -> None:
    """Make ``out`` ready: a new or empty folder, or a resumable run of the same settings (or wipe with
    ``overwrite``). Writes ``.synth/settings.json``."""
    if out.exists() and not out.is_dir():
        raise JudgemindError(f"{out} exists and is not a folder; choose a folder for the dataset")
    sfile = out / SYNTH_DIR / SETTINGS_FILE
    current = settings.to_dict()
    if out.is_dir() and overwrite:
        for name in _OWNED:
            p = out / name
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            elif p.exists() or p.is_symlink():
                p.unlink()
        _remove_temps(out)
    elif out.is_dir() and any(out.iterdir()):
        if not sfile.is_file():
            listing = ", ".join(sorted(p.name for p in out.iterdir())[:5])
            raise JudgemindError(
                f"{out} is not empty ({listing}) and holds no SynthAerials run to resume; choose "
                f"an empty or new folder, or pass --overwrite to replace the dataset files in it"
            )
        try:
            stored = json.loads(sfile.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise JudgemindError(
                f"{sfile}: unreadable settings of an earlier run ({e}); pass --overwrite to start again"
            ) from None
        if stored != current:
            raise JudgemindError(
                f"{out} holds a SynthAerials run with other settings: "
                f"{_describe_diff(stored, current)}; re-run with the same settings to resume it, "
                f"choose another folder, or pass --overwrite to start again"
            )
    try:
        (out / SYNTH_DIR / FRAGMENT_DIR).mkdir(parents=True, exist_ok=True)
        if settings.render:
            (out / VIDEO_DIR).mkdir(exist_ok=True)
        if not sfile.is_file():
            atomic_write_text(sfile, json.dumps(current, indent=2) + "\n")
    except OSError as e:
        raise JudgemindError(
            f"cannot write the dataset to {out}: {e.strerror or e}; choose a writable folder"
        ) from None


def _remove_temps(out: Path) -> None:
    """Delete hidden ``.part`` files left by an interrupted run."""
    for folder in (out, out / VIDEO_DIR, out / SKELETON_DIR, out / SYNTH_DIR, out / SYNTH_DIR / FRAGMENT_DIR):
        if folder.is_dir():
            for p in folder.iterdir():
                if p.name.startswith(".") and ".part" in p.name:
                    if p.is_dir():
                        shutil.rmtree(p, ignore_errors=True)
                    else:
                        p.unlink(missing_ok=True)


def _done(root: Path, index: int, render: bool) -> bool:
    video, fragment = _paths(root, index)
    skeleton = root / SKELETON_DIR / f"{jump_id(index)}.npy"
    return fragment.is_file() and skeleton.is_file() and (not render or video.is_file())


def split_ids(n: int, seed: int) -> dict[str, list[str]]:
    """Seeded 70/15/15 train/val/test split of the jump ids (every split non-empty when n >= 3)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3,)))
    perm = rng.permutation(n)
    n_val = int(round(SPLIT_SHARES[1][1] * n))
    n_test = int(round(SPLIT_SHARES[2][1] * n))
    if n >= 3:
        n_val, n_test = max(1, n_val), max(1, n_test)
    n_train = n - n_val - n_test
    parts = {"train": perm[:n_train], "val": perm[n_train : n_train + n_val], "test": perm[n_train + n_val :]}
    return {k: [jump_id(int(i)) for i in sorted(v)] for k, v in parts.items()}


def _assemble(out: Path, settings: SynthSettings) -> None:

    def records():  # one at a time: the assembly's memory does not grow with n
        for i in range(settings.n):
            _, fragment = _paths(out, i)
            yield json.loads(fragment.read_text(encoding="utf-8"), parse_float=Decimal)

    gen = settings.to_dict()
    meta = DatasetMeta(
        name="SynthAerials",
        fps=settings.fps,
        splits=split_ids(settings.n, settings.seed),
        scoring="aerials5",
        catalogue_version=str(load_catalogue().version),
        synthetic=True,
        source=f"judgemind {__version__} synth: SynthAerials procedural generator v{GENERATOR_VERSION} "
        f"(seed {settings.seed}, cuts {settings.cuts})",
        description="SYNTHETIC aerials jumps rendered procedurally (a stick-figure athlete with skis on a "
        "drawn site), with faults sampled from the deduction catalogue and a simulated panel of 5 "
        "judges. It is a test bed for the pipeline, not footage of real jumps: numbers measured on it "
        "say nothing about real competitions.",
        extra={"generator": gen, "videos": settings.render},
        skeleton=SkeletonLayout(SKELETON_POINTS, (settings.size, settings.size)),
    )
    write_dataset(out, meta, records())


def generate(
    out: str | os.PathLike,
    n: int = 300,
    seed: int = 0,
    size: int = 128,
    fps: float = 25,
    workers: int = 2,
    codes: Sequence[str] | str | None = None,
    overwrite: bool = False,
    progress: bool = True,
    render: bool = True,
    cuts: str = DEFAULT_CUTS,
) -> Path:
    """Write (or finish) a SynthAerials dataset of ``n`` jumps in ``out`` and return its path.

    ``codes``: restrict the jump codes (uniform over them); ``cuts``: the camera switches (``CUT_MODES``: the
    same jumps, other shots; recorded in dataset.json's ``extra.generator.cuts``); ``render=False`` writes the
    annotations only (the same records as a rendered run; the videos are absent). Re-running with the same
    settings resumes an interrupted run; other settings are refused unless ``overwrite``. Bad input raises
    :class:`JudgemindError`.
    """

    settings = dataclasses.replace(check_settings(n, seed, size, fps, workers, codes, cuts), render=bool(render))
    root = Path(out)
    _prepare_out(root, settings, overwrite)
    _remove_temps(root)
    todo = [i for i in range(settings.n) if not _done(root, i, settings.render)]
    _run(root, settings, todo, workers, progress)
    _assemble(root, settings)
    return root


def _run(root: Path, settings: SynthSettings, todo: list[int], workers: int, progress: bool) -> None:
    bar = progress_bar(total=settings.n, initial=settings.n - len(todo), desc="synth", unit="jump", enabled=progress)
    try:
        if workers <= 1 or len(todo) <= 1:
            _init_worker()
            for i in todo:
                make_jump(settings, i, root)
                bar.update(1)
        else:
            ctx = _mp_context()
            jobs = [(settings.to_dict(), str(root), i) for i in todo]
            pool = ctx.Pool(min(workers, len(todo)), initializer=_init_worker)
            try:
                for _ in pool.imap_unordered(_job, jobs, chunksize=1):
                    bar.update(1)
                pool.close()
            except BaseException:
                pool.terminate()
                raise
            finally:
                pool.join()
    except BaseException:
        _remove_temps(root)  # a killed worker cannot clean up its own temporary file
        raise
    finally:
        bar.close()
