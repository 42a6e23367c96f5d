"""The scoring workers of ``judgemind serve``: each is a process that loads the run once, then takes the oldest
queued job (:class:`judgemind.serve.jobs.JobQueue`), scores it with :func:`score_clip` -- the one place the server
scores a clip, through the public API (:class:`judgemind.Judge`) -- writes the jump's files (the same as
``judgemind score``), marks it done, and rewrites its round's ``index.html`` and ``round.json`` (the same as a
``judgemind score VIDEOS`` round).

A worker dies with the server, however the server ends (``kill -9`` included: the parent-death signal on Linux,
and a check of its parent otherwise), so a job is never scored by a worker nobody listens to.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from judgemind.api import Judge
from judgemind.data.result import ScoreResult
from judgemind.errors import JudgemindError
from judgemind.infer.round import ROUND_LOCK, ranked, summary_row
from judgemind.infer.score import build_extractor, scoring_manifest
from judgemind.report.round import write_round
from judgemind.report.score_outputs import JUMP_FILES
from judgemind.serve.jobs import ROUNDS, Job, JobQueue, job_dir
from judgemind.utils import display_text
from judgemind.utils.lock import FileLock

IDLE_POLL_S = 0.2  # how often an idle worker looks for a queued job


@dataclass(frozen=True)
class ScoreOptions:
    """What ``judgemind serve`` passes on to every scoring (the options of ``judgemind score``)."""

    checkpoint: str
    locator: str | None = None
    weights: str | None = None
    perception: str | None = None
    threshold: float | None = None
    threads: int = 1
    extra: dict = field(default_factory=dict)


def load_scorer(opts: ScoreOptions) -> Judge:
    """The run loaded once (:meth:`judgemind.Judge.load`), checked to be able to score a video (a checkpoint that
    cannot -- an end-to-end run, a missing feature manifest, a perception it cannot build -- is a
    :class:`JudgemindError` saying why)."""
    judge = Judge.load(opts.checkpoint, threads=max(1, opts.threads))
    build_extractor(scoring_manifest(judge.run), opts.weights, opts.perception)
    judge.run.calibration  # read (or made) now, not while the first clip waits
    return judge


def score_clip(
    judge: Judge, opts: ScoreOptions, video: Path, code: str | None, out: Path, name: str, use_dataset: bool
):
    """Score one clip with the public API (:meth:`judgemind.Judge.score`) and write its result.json, sheet.html and
    timeline.png into ``out`` (:meth:`judgemind.ScoreResult.write_sheet`: the bytes of ``judgemind score``);
    returns the round row of the jump (:func:`judgemind.infer.round.summary_row`). The one scoring call of the
    server."""
    result = judge.score(
        video,
        code=code,
        locator=opts.locator,
        weights=opts.weights,
        perception=opts.perception,
        threshold=opts.threshold,
        use_dataset=use_dataset,
    )
    result = result.with_(video_name=name)
    result.write_sheet(out)
    return summary_row(result)


def stored_summary(root: Path, job: Job) -> dict | None:
    """The round row of a job whose three files are all in place (written before a kill could mark it done)."""
    out = job_dir(root, job)
    if not all((out / n).is_file() and not (out / n).is_symlink() for n in JUMP_FILES):
        return None
    try:
        doc = json.loads((out / "result.json").read_text(encoding="utf-8"))
        res = ScoreResult.from_json(doc, str(out / "result.json"))
    except (OSError, ValueError, JudgemindError):
        return None
    return summary_row(res)


def round_doc(queue: JobQueue, round_id: str, checkpoint: str) -> dict:
    """A round's document as ``judgemind score VIDEOS`` writes it (``round.json``), from its finished jobs; jobs
    still queued or running are counted in ``pending``."""
    rows, pending, elapsed = [], 0, 0.0
    for job in queue.jobs(round_id):
        row = {"name": job.name, "video": job.name, "sheet": f"{job.id}/sheet.html", "job": job.id}
        if job.status == "done":
            rows.append({**row, **(job.summary or {}), "status": "scored"})
            elapsed += (job.finished or 0) - (job.started or 0)
        elif job.status == "failed":
            rows.append({**row, "status": "failed", "reason": job.reason})
        else:
            pending += 1
    return {
        "checkpoint": checkpoint,
        "n": len(rows),
        "pending": pending,
        "elapsed_s": round(elapsed, 2),
        "failed": sum(r["status"] == "failed" for r in rows),
        "not_in_distribution": sum(r.get("in_distribution") is False for r in rows),
        "jumps": ranked(rows),
    }


def write_round_files(root: Path, queue: JobQueue, round_id: str, checkpoint: str) -> None:
    """FOLDER/rounds/<round>/index.html and round.json, under the round folder's lock."""
    out = root / ROUNDS / round_id
    out.mkdir(parents=True, exist_ok=True)
    with FileLock(out / ROUND_LOCK, blocking=True, what=f"round folder {out}"):
        write_round(out, round_doc(queue, round_id, checkpoint))


def failure_reason(exc: BaseException, video: Path, name: str) -> str:
    """What the page shows for a clip that could not be scored (the stored file's path replaced by its name)."""
    text = str(exc) if isinstance(exc, JudgemindError) else f"{type(exc).__name__}: {exc}"
    return display_text(text.replace(str(video), name))[:2000]


def run_job(root: Path, queue: JobQueue, scorer, opts: ScoreOptions, job: Job, owner: str, data: Path | None) -> None:
    """Score one claimed job; it ends done (files first) or failed with its reason; its round's files follow."""
    if job.source == "upload":
        video = root / job.video
    elif data is not None:
        video = data / job.video
    else:
        video = Path(job.video)
    try:
        if job.source == "dataset" and data is None:
            raise JudgemindError("the server was started without the data set this clip belongs to (--data)")
        queue.set_stage(job.id, owner, "scoring")
        summary = score_clip(scorer, opts, video, job.code, job_dir(root, job), job.name, job.source == "dataset")
        queue.finish(job.id, owner, summary)
    except Exception as e:  # noqa: BLE001 -- one clip that cannot be scored is a failed job, the queue goes on
        queue.fail(job.id, owner, failure_reason(e, video, job.name))
    write_round_files(root, queue, job.round_id, display_text(opts.checkpoint))


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass


def worker_main(root: str, opts: ScoreOptions, owner: str, data: str | None, parent: int, ready) -> None:
    """A worker process: load the run once, tell the server (``ready``: a pipe end) ``("ready", None)`` or
    ``("error", message)``, then score queued jobs until the server goes away."""
    _die_with_parent()
    if os.getppid() != parent:  # the server died before the signal was armed
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops its workers
    try:
        scorer = load_scorer(opts)
    except Exception as e:  # noqa: BLE001 -- any failure to load is reported to the server, which refuses to start
        msg = str(e) if isinstance(e, JudgemindError) else f"{type(e).__name__}: {e}"
        ready.send(("error", display_text(msg)))
        return
    ready.send(("ready", None))
    ready.close()
    queue = JobQueue(root)
    rootp, datap = Path(root), Path(data) if data else None
    while os.getppid() == parent:
        job = queue.claim(owner) if queue.has_queued() else None
        if job is None:
            time.sleep(IDLE_POLL_S)
            continue
        run_job(rootp, queue, scorer, opts, job, owner, datap)
