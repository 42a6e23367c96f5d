"""The public Python API: load a trained run once, score jump videos, write judge sheets, score rounds.

    import judgemind

    judge = judgemind.Judge.load("runs/x")                  # a run folder (best.pt) or RUN/best.pt, RUN/last.pt
    result = judge.score("jump.mp4", code="bFdFF")          # a frozen judgemind.ScoreResult
    result.final_score                                      # "94.69": an exact decimal, as a string
    result.write_sheet("out/jump")                          # result.json, sheet.html, timeline.png
    doc = judgemind.score_round(judge, ["a.mp4", "b.mp4"], "out/round", action_code="bLT")

``judgemind score`` (one video or a round), ``judgemind demo`` and ``judgemind serve`` call exactly these functions,
so a script, the command line and the web app give the same files for the same video. Documented with examples in
docs/api.md; the result's fields in docs/result.md.

Scoring is :mod:`judgemind.infer`, the files are rendered by :mod:`judgemind.report`; this module only wires them:
the frames a sheet shows are decoded while scoring and travel with the result (:meth:`ScoreResult.with_sheet`),
never serialised.
"""

from __future__ import annotations

import contextlib
import math
import os
from decimal import Decimal
from pathlib import Path
from typing import Sequence

import torch

from judgemind.data.result import ScoreResult
from judgemind.errors import JudgemindError
from judgemind.infer import round as infer_round
from judgemind.infer.round import ROUND_LOCK, plan_round
from judgemind.infer.run import LoadedRun, load_run
from judgemind.infer.score import score_video
from judgemind.report.round import write_round
from judgemind.report.score_outputs import JUMP_FILES, write_jump, write_score_outputs
from judgemind.utils import check_out_dir
from judgemind.utils.atomic import make_dirs, remove_made_dirs, remove_stale_part_files, remove_stale_parts
from judgemind.utils.lock import FileLock

__all__ = ["Judge", "score_round", "check_out", "out_lock"]

CHECKPOINTS = ("best", "last")


class Judge:
    """A trained run (``judgemind train``'s folder), loaded once, that scores jump videos.

    Build it with :meth:`load`; :attr:`run` is the :class:`judgemind.infer.LoadedRun` (model, config, feature
    manifest, calibration) for anyone who needs more than scoring."""

    def __init__(self, run: LoadedRun):
        self.run = run

    @classmethod
    def load(
        cls,
        run: str | os.PathLike,
        checkpoint: str | None = None,
        device: str = "cpu",
        threads: int | None = None,
    ) -> Judge:
        """The run at ``run``: a run folder (its ``checkpoint``, ``best`` by default, or ``last``) or a checkpoint
        file ``RUN/best.pt`` / ``RUN/last.pt`` (then ``checkpoint`` may only repeat its name). ``device``: where
        the model runs (``cpu``, ``cuda``, ``cuda:1``); ``threads``: torch CPU threads for this process (None:
        torch's default). Raises :class:`judgemind.errors.CheckpointError` / :class:`JudgemindError` saying what
        is wrong with the run."""
        if checkpoint is not None and checkpoint not in CHECKPOINTS:
            raise JudgemindError(f"checkpoint must be one of {', '.join(CHECKPOINTS)}, got {checkpoint!r}")
        if threads is not None:
            if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
                raise JudgemindError(f"threads must be a whole number >= 1, got {threads!r}")
            torch.set_num_threads(threads)
        path = Path(run)
        if path.is_dir():
            return cls(load_run(path, checkpoint or "best", device))
        if checkpoint is not None and path.stem != checkpoint:
            raise JudgemindError(f"{path} is the {path.stem!r} checkpoint; checkpoint={checkpoint!r} contradicts it")
        return cls(load_run(run, None, device))

    @property
    def checkpoint(self) -> Path:
        """The checkpoint file scored with (``RUN/best.pt`` or ``RUN/last.pt``)."""
        return self.run.run_dir / f"{self.run.checkpoint}.pt"

    def __repr__(self) -> str:
        return f"Judge({str(self.checkpoint)!r}, model={self.run.cfg.model_name!r}, device={str(self.run.device)!r})"

    def score(
        self,
        video: str | os.PathLike,
        *,
        code: str | None = None,
        dd: str | Decimal | None = None,
        start: int | None = None,
        end: int | None = None,
        perception: str | None = None,
        locator: str | None = None,
        weights: str | os.PathLike | None = None,
        threshold: float | None = None,
        use_dataset: bool = True,
    ) -> ScoreResult:
        """Score one jump: decode -> find the athlete -> features -> model -> the rules engine. Returns a frozen
        :class:`judgemind.ScoreResult` whose marks and scores are exact decimals as strings (``result.final_score
        == "94.69"``; ``Decimal(result.final_score)`` to compute with it) and whose
        :meth:`~judgemind.ScoreResult.write_sheet` writes the judge sheet.

        ``code``: the declared jump code (e.g. ``"bFdFF"``; sets the DD), needed unless the video is a record of a
        FineSkiing data set; ``dd``: the degree of difficulty when it differs from judgemind's table; ``start`` /
        ``end``: the jump's frames [start, end) (default: the whole video); ``perception``: how a skeleton-based
        run reads the video (``"aerialspose"`` for SynthAerials renders, ``"mediapipe"`` for real footage;
        default: what the run was trained with); ``locator``: the athlete locator for a video outside a data set
        (``"mediapipe"``, ``"hog"``, ``"motion"``, ``"annotation"``); ``weights``: the backbone weights file when
        the run's features were made with one; ``threshold``: list every deduction item at or above this
        probability instead of each item's calibrated threshold; ``use_dataset``: use the boxes and cuts of the
        video's data set record when it has one. Bad input raises :class:`JudgemindError` naming it."""
        if threshold is not None:
            check_threshold(threshold)
        for name, value in (("start", start), ("end", end)):
            check_frame_index(value, name)
        result, assets = score_video(
            self.run,
            video,
            action_code=code,
            dd=None if dd is None else str(dd),
            start=start,
            end=end,
            locator=locator,
            weights=None if weights is None else str(weights),
            threshold=threshold,
            use_dataset=use_dataset,
            perception=perception,
        )
        return result.with_sheet(SheetWriter(assets))

    def score_round(
        self, videos: str | os.PathLike | Sequence[str | os.PathLike], out: str | os.PathLike, **kw
    ) -> dict:
        """:func:`score_round` with this judge."""
        return score_round(self, videos, out, **kw)


class SheetWriter:
    """What :meth:`ScoreResult.write_sheet` calls for a freshly scored result: holds the frames decoded while
    scoring (``assets`` of :func:`judgemind.infer.score.score_video`) and writes the three files with
    :func:`judgemind.report.score_outputs.write_score_outputs` into a folder held under its lock."""

    def __init__(self, assets: dict):
        self.assets = assets

    def __call__(self, result: ScoreResult, out_dir: Path) -> dict[str, Path]:
        out = Path(out_dir)
        check_out(out)
        with out_lock(out):
            remove_stale_part_files(out, JUMP_FILES)  # what a killed writer left (nobody else writes while locked)
            return write_score_outputs(result, self.assets, out)


def check_frame_index(value, name: str) -> None:
    """A frame index (``start`` / ``end``) or None, else an error naming it (``name``: the argument or option)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise JudgemindError(f"{name} must be a frame index (a whole number >= 0), got {value!r}")
    if not 0 <= value < (1 << 62):
        raise JudgemindError(f"{name} must be a frame index >= 0, got {value}")


def check_threshold(threshold, name: str = "threshold") -> float:
    """A deduction listing threshold: a probability in [0, 1], else an error naming it (``name``: the option)."""
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0)
    ):
        raise JudgemindError(f"{name} must be a probability in [0, 1], got {threshold!r}")
    return float(threshold)


def check_out(out: Path) -> None:
    """An output folder judgemind may write a sheet or a round into (not the root, the home folder or a data set's
    folder; a folder if it exists)."""
    check_out_dir(out)
    if (out.exists() or out.is_symlink()) and not out.is_dir():
        raise JudgemindError(f"--out {out} exists and is not a folder")


def out_lock(out: Path):
    """A context holding ``OUT``'s lock (made with its folder when missing), so that two writers never write one
    output folder at once: the second is refused with a clear message. A writer that fails before writing anything
    leaves no folder it made."""

    @contextlib.contextmanager
    def held():
        made = make_dirs(out)
        try:
            with FileLock(out / ROUND_LOCK, what=f"--out {out}"):
                yield
        except BaseException:
            if made and [p.name for p in out.iterdir()] == [ROUND_LOCK]:
                (out / ROUND_LOCK).unlink()
                remove_made_dirs(made)
            raise

    return held()


def score_round(
    judge: Judge | str | os.PathLike,
    videos: str | os.PathLike | Sequence[str | os.PathLike] = (),
    out: str | os.PathLike = "judgemind_round",
    *,
    codes: str | os.PathLike | None = None,
    action_code: str | None = None,
    locator: str | None = None,
    weights: str | os.PathLike | None = None,
    threshold: float | None = None,
    perception: str | None = None,
    use_dataset: bool = True,
    progress: bool = False,
) -> dict:
    """Score a round: every video (files, or folders of videos) or the videos a codes file lists, one folder per
    jump in ``out`` (result.json, sheet.html, timeline.png) plus ``out/index.html`` (the ranking) and
    ``out/round.json``; the same files as ``judgemind score VIDEOS... --out OUT``. Returns the round document
    (what round.json holds: ``n``, ``failed``, ``not_in_distribution``, ``elapsed_s``, ``checkpoint`` and
    ``jumps``, ranked, each with ``name``, ``status``, ``final_score`` (an exact decimal as a string), ``sheet``
    ...; docs/api.md).

    ``judge``: a :class:`Judge`, or a run folder / checkpoint file (loaded after every check that needs no model).
    ``codes``: a codes file (one ``VIDEO CODE`` line per jump; :mod:`judgemind.infer.round`); ``action_code``:
    the code of every video the codes file does not list. Everything that can be checked before scoring (videos
    exist, none twice, every code known, every video has a code) is checked first: a bad round scores nothing. A
    video that fails while scoring is listed with its reason and the round goes on; a round run again keeps the
    jumps whose inputs did not change. The other options are :meth:`Judge.score`'s."""
    if threshold is not None:
        check_threshold(threshold)
    if isinstance(videos, (str, os.PathLike)):
        videos = [videos]
    jumps = plan_round([str(v) for v in videos], None if codes is None else str(codes), action_code)
    out = Path(out)
    check_out(out)
    if not isinstance(judge, Judge):
        judge = Judge.load(judge)
    with out_lock(out):
        for j in jumps:  # what a killed round left behind (nobody else writes here while the lock is held)
            remove_stale_parts(out / j.name)
            if (out / j.name).is_dir() and not (out / j.name).is_symlink():
                remove_stale_part_files(out / j.name, JUMP_FILES)
        remove_stale_part_files(out, ("index.html", "round.json"))
        doc = infer_round.score_round(
            jumps,
            judge.run,
            out,
            write_jump,
            progress=progress,
            locator=locator,
            weights=None if weights is None else str(weights),
            threshold=threshold,
            perception=perception,
            use_dataset=use_dataset,
        )
        write_round(out, doc)
    return doc
