"""The server's persistent job queue (SQLite) and its folder.

    FOLDER/
      jobs.sqlite          rounds and jobs (this module); WAL mode, shared by the web process and the workers
      uploads/<job>.<ext>  uploaded clips, named by job id (never by the client's file name)
      rounds/<round>/      a round as ``judgemind score VIDEOS --out`` writes it: index.html, round.json and one
                           folder per jump, <job>/ (result.json, sheet.html, timeline.png)
      .serve.lock          held by the running server (a second server on the same folder is refused)
      .secret              the key of the forms' CSRF tokens (private to the user)

A job is ``queued`` -> ``running`` (claimed by one worker, :meth:`JobQueue.claim`) -> ``done`` (its three files
written first, atomically) or ``failed`` (with its reason). A job left ``running`` by a server that was killed is
resumed (queued again) at the next start, or failed with its reason when it was already resumed once
(:meth:`JobQueue.recover`): a clip that kills the scorer cannot stop the queue for good.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from judgemind.errors import JudgemindError
from judgemind.infer.round import folder_names

DB_FILE = "jobs.sqlite"
UPLOADS = "uploads"
ROUNDS = "rounds"
MAX_ATTEMPTS = 2  # a job is scored at most this often (the first try + one resume after a killed server)
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
ROUND_ID = re.compile(r"^[0-9a-f]{16}$")
STATUSES = ("queued", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rounds (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    name TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    round_id TEXT NOT NULL REFERENCES rounds(id),
    name TEXT NOT NULL,          -- what the user sees (the client's file name, made printable; never a path)
    source TEXT NOT NULL,        -- 'upload' (FOLDER/uploads) or 'dataset' (a video of the --data set)
    video TEXT NOT NULL,         -- uploads/<id>.<ext>, or the record's video path inside the data set
    record_id TEXT,              -- the data set's record (source 'dataset')
    code TEXT,                   -- the action code (None: the data set record's)
    status TEXT NOT NULL,
    reason TEXT,                 -- why it failed, or a note (resumed after a restart)
    stage TEXT,                  -- what the worker is doing now
    attempts INTEGER NOT NULL DEFAULT 0,
    owner TEXT,                  -- the worker scoring it: '<server instance>:<worker>'
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    summary TEXT                 -- JSON: the round row of a scored jump (infer.round.summary_row)
);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs(status, seq);
CREATE INDEX IF NOT EXISTS jobs_round ON jobs(round_id, seq);
"""


@dataclass(frozen=True)
class Job:
    id: str
    seq: int
    round_id: str
    name: str
    source: str
    video: str
    record_id: str | None
    code: str | None
    status: str
    reason: str | None
    stage: str | None
    attempts: int
    owner: str | None
    created: float
    started: float | None
    finished: float | None
    summary: dict | None

    @property
    def finished_ok(self) -> bool:
        return self.status == "done"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "round": self.round_id,
            "name": self.name,
            "source": self.source,
            "record_id": self.record_id,
            "code": self.code,
            "status": self.status,
            "reason": self.reason,
            "stage": self.stage,
            "attempts": self.attempts,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "summary": self.summary,
        }


def new_job_id() -> str:
    return secrets.token_hex(16)


def new_round_id() -> str:
    return secrets.token_hex(8)


def _job(row: sqlite3.Row) -> Job:
    d = dict(row)
    d["summary"] = json.loads(d["summary"]) if d["summary"] else None
    return Job(**d)


class JobQueue:
    """The rounds and jobs of a server folder; safe to use from several threads and processes (each call opens
    its own connection; a claim is one ``BEGIN IMMEDIATE`` transaction, so two workers never get one job)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.db = self.root / DB_FILE
        self.root.mkdir(parents=True, exist_ok=True)
        with self._conn() as c:
            c.execute("PRAGMA journal_mode=WAL")
            c.executescript(_SCHEMA)

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        c = sqlite3.connect(self.db, timeout=60, isolation_level=None)
        c.row_factory = sqlite3.Row
        c.execute("PRAGMA busy_timeout=60000")
        c.execute("PRAGMA synchronous=NORMAL")
        try:
            yield c
        finally:
            c.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._conn() as c:
            c.execute("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

    # -- rounds ---------------------------------------------------------------------------------------------------

    def add_round(self, name: str) -> str:
        rid = new_round_id()
        with self._tx() as c:
            c.execute("INSERT INTO rounds (id, name, created) VALUES (?, ?, ?)", (rid, name, time.time()))
        return rid

    def round(self, rid: str) -> dict | None:
        if not ROUND_ID.match(rid or ""):
            return None
        with self._conn() as c:
            row = c.execute("SELECT id, name, created FROM rounds WHERE id = ?", (rid,)).fetchone()
        return dict(row) if row else None

    def rounds(self, limit: int = 50) -> list[dict]:
        """The latest rounds, newest first, each with its jobs counted by status."""
        with self._conn() as c:
            rows = c.execute(
                "SELECT r.id, r.name, r.created, "
                + ", ".join(f"SUM(j.status = '{s}') AS {s}" for s in STATUSES)
                + " FROM rounds r LEFT JOIN jobs j ON j.round_id = r.id GROUP BY r.id ORDER BY r.seq DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [{**dict(r), **{s: r[s] or 0 for s in STATUSES}} for r in rows]

    # -- jobs -----------------------------------------------------------------------------------------------------

    def add_job(
        self,
        round_id: str,
        name: str,
        source: str,
        video: str,
        code: str | None,
        record_id: str | None = None,
        job_id: str | None = None,
    ) -> tuple[str, str]:
        """Queue one clip (its file is in place already); returns ``(job id, name)``: the name is made unique
        in its round (``jump``, ``jump_2``, ... as ``judgemind score`` names a round's folders), in the same
        transaction, so clips uploaded at once never share a name."""
        jid = job_id or new_job_id()
        with self._tx() as c:
            taken = [r[0] for r in c.execute("SELECT name FROM jobs WHERE round_id = ?", (round_id,))]
            name = folder_names(taken + [name])[-1]
            c.execute(
                "INSERT INTO jobs (id, round_id, name, source, video, record_id, code, status, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
                (jid, round_id, name, source, video, record_id, code, time.time()),
            )
        return jid, name

    def job(self, jid: str) -> Job | None:
        if not JOB_ID.match(jid or ""):
            return None
        with self._conn() as c:
            row = c.execute("SELECT * FROM jobs WHERE id = ?", (jid,)).fetchone()
        return _job(row) if row else None

    def jobs(self, round_id: str | None = None, status: str | None = None) -> list[Job]:
        where, args = [], []
        if round_id is not None:
            where.append("round_id = ?")
            args.append(round_id)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        sql = "SELECT * FROM jobs" + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY seq"
        with self._conn() as c:
            return [_job(r) for r in c.execute(sql, args).fetchall()]

    def queue_position(self, job: Job) -> int | None:
        """1 for the next job a worker takes; None when the job is not queued."""
        if job.status != "queued":
            return None
        with self._conn() as c:
            (n,) = c.execute("SELECT COUNT(*) FROM jobs WHERE status = 'queued' AND seq <= ?", (job.seq,)).fetchone()
        return int(n)

    def typical_seconds(self) -> float | None:
        """The median time the last 20 scored jobs took (for the progress estimate), or None."""
        with self._conn() as c:
            rows = c.execute(
                "SELECT finished - started FROM jobs WHERE status = 'done' AND started IS NOT NULL "
                "ORDER BY finished DESC LIMIT 20"
            ).fetchall()
        times = sorted(r[0] for r in rows if r[0] is not None and r[0] >= 0)
        return times[len(times) // 2] if times else None

    def has_queued(self) -> bool:
        """Whether a job waits (a read, no lock: what an idle worker asks before it claims)."""
        with self._conn() as c:
            return c.execute("SELECT 1 FROM jobs WHERE status = 'queued' LIMIT 1").fetchone() is not None

    def claim(self, owner: str) -> Job | None:
        """The oldest queued job, now ``running`` and owned by ``owner``; None when the queue is empty."""
        with self._tx() as c:
            row = c.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1").fetchone()
            if row is None:
                return None
            c.execute(
                "UPDATE jobs SET status = 'running', owner = ?, started = ?, stage = 'starting', "
                "attempts = attempts + 1 WHERE id = ?",
                (owner, time.time(), row["id"]),
            )
            got = c.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone()
        return _job(got)

    def set_stage(self, jid: str, owner: str, stage: str) -> None:
        with self._tx() as c:
            c.execute(
                "UPDATE jobs SET stage = ? WHERE id = ? AND owner = ? AND status = 'running'", (stage, jid, owner)
            )

    def finish(self, jid: str, owner: str, summary: dict) -> bool:
        """Mark a running job done (its files are written already); False when ``owner`` lost it meanwhile."""
        with self._tx() as c:
            cur = c.execute(
                "UPDATE jobs SET status = 'done', stage = NULL, finished = ?, summary = ?, reason = NULL "
                "WHERE id = ? AND owner = ? AND status = 'running'",
                (time.time(), json.dumps(summary, allow_nan=False), jid, owner),
            )
            return cur.rowcount == 1

    def fail(self, jid: str, owner: str | None, reason: str) -> bool:
        """Mark a job failed with its reason (``owner`` None: whoever holds it)."""
        with self._tx() as c:
            if owner is None:
                cur = c.execute(
                    "UPDATE jobs SET status = 'failed', stage = NULL, finished = ?, reason = ? "
                    "WHERE id = ? AND status IN ('queued', 'running')",
                    (time.time(), reason, jid),
                )
            else:
                cur = c.execute(
                    "UPDATE jobs SET status = 'failed', stage = NULL, finished = ?, reason = ? "
                    "WHERE id = ? AND owner = ? AND status = 'running'",
                    (time.time(), reason, jid, owner),
                )
            return cur.rowcount == 1

    def release(self, owner_prefix: str, why: str) -> list[str]:
        """Jobs running under owners starting with ``owner_prefix`` (a server instance, or one of its workers)
        go back to the queue, or fail after :data:`MAX_ATTEMPTS` tries. Returns their ids."""
        return self._requeue("owner LIKE ? ESCAPE '\\'", (_like_prefix(owner_prefix),), why)

    def requeue_owned(self, owner_prefix: str, why: str) -> int:
        """A server stopped on purpose: its running jobs go back to the queue (that try not counted)."""
        with self._tx() as c:
            cur = c.execute(
                "UPDATE jobs SET status = 'queued', stage = NULL, owner = NULL, reason = ?, "
                "attempts = MAX(0, attempts - 1) WHERE status = 'running' AND owner LIKE ? ESCAPE '\\'",
                (f"resumed: {why}", _like_prefix(owner_prefix)),
            )
            return cur.rowcount

    def recover(self, complete) -> list[str]:
        """At start-up, before any worker runs: every job left ``running`` by a killed server is done when
        ``complete(job)`` returns its summary (its files were all written before the kill), queued again, or
        failed with its reason after :data:`MAX_ATTEMPTS` tries."""
        done = []
        for job in self.jobs(status="running"):
            summary = complete(job)
            if summary is not None and self.finish(job.id, job.owner or "", summary):
                done.append(job.id)
        return done + self._requeue("1", (), "the server stopped while this clip was being scored")

    def _requeue(self, where: str, args: tuple, why: str) -> list[str]:
        ids = []
        with self._tx() as c:
            for row in c.execute(f"SELECT id, attempts FROM jobs WHERE status = 'running' AND {where}", args):
                ids.append(row["id"])
                if row["attempts"] >= MAX_ATTEMPTS:
                    c.execute(
                        "UPDATE jobs SET status = 'failed', stage = NULL, finished = ?, reason = ? WHERE id = ?",
                        (
                            time.time(),
                            f"{why}, {row['attempts']} times: the clip may be what stops the scorer (check that it "
                            f"plays, or re-encode it); not tried again",
                            row["id"],
                        ),
                    )
                else:
                    c.execute(
                        "UPDATE jobs SET status = 'queued', stage = NULL, owner = NULL, reason = ? WHERE id = ?",
                        (f"resumed: {why}", row["id"]),
                    )
        return ids


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def upload_path(root: Path, job: Job) -> Path:
    """The stored clip of an uploaded job (checked to lie in FOLDER/uploads)."""
    path = root / job.video
    if job.source != "upload" or path.parent != root / UPLOADS or not JOB_ID.match(path.stem):
        raise JudgemindError(f"job {job.id}: its video {job.video!r} is not an upload of this server")
    return path


def job_dir(root: Path, job: Job) -> Path:
    """FOLDER/rounds/<round>/<job>/: the jump's result.json, sheet.html and timeline.png."""
    return root / ROUNDS / job.round_id / job.id
