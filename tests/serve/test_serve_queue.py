"""The server's job queue (SQLite) without a server: every job claimed once however many workers ask at once, a
killed server's jobs resumed or failed with a reason, names unique in a round; the upload names and the safety
checks that need no network."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from judgemind.errors import JudgemindError
from judgemind.serve import security
from judgemind.serve.jobs import MAX_ATTEMPTS, JobQueue
from judgemind.serve.uploads import display_name


def _fill(q: JobQueue, n: int) -> tuple[str, list[str]]:
    rid = q.add_round("r")
    return rid, [q.add_job(rid, "jump", "upload", f"uploads/{i}.mp4", "bLT")[0] for i in range(n)]


def _claim_all(root, owner, out):
    q = JobQueue(root)
    while (job := q.claim(owner)) is not None:
        q.finish(job.id, owner, {"final_score": "1.00", "by": owner})
        out.put((owner, job.id))


def test_twenty_jobs_claimed_once_each_by_competing_processes(tmp_path):
    q = JobQueue(tmp_path)
    rid, ids = _fill(q, 20)
    ctx = multiprocessing.get_context("fork")  # (the queue is opened anew in each process)
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_all, args=(str(tmp_path), f"w{i}", out)) for i in range(3)]
    for p in procs:
        p.start()
    got = [out.get(timeout=60) for _ in range(20)]
    for p in procs:
        p.join(60)
    assert sorted(j for _, j in got) == sorted(ids)  # none lost, none scored twice
    jobs = q.jobs(rid)
    assert all(j.status == "done" and j.summary["by"] == j.owner for j in jobs)
    assert [j.name for j in jobs] == ["jump"] + [f"jump_{k}" for k in range(2, 21)]  # one name each


def test_names_stay_unique_when_added_from_threads(tmp_path):
    q = JobQueue(tmp_path)
    rid = q.add_round("r")
    names = []
    threads = [
        threading.Thread(target=lambda: names.append(q.add_job(rid, "Jump", "upload", "uploads/x.mp4", "bLT")[1]))
        for _ in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({n.casefold() for n in names}) == 12


def test_a_killed_servers_jobs_are_resumed_then_failed_with_a_reason(tmp_path):
    q = JobQueue(tmp_path)
    rid, (a, b, c) = _fill(q, 3)
    for _ in range(3):
        q.claim("dead:0:1")
    # a's files were all written before the kill: done without scoring again
    done = q.recover(lambda job: {"final_score": "5.00"} if job.id == a else None)
    assert q.job(a).status == "done" and q.job(a).summary == {"final_score": "5.00"}
    assert a in done and {b, c} <= set(done)
    assert q.job(b).status == "queued" and q.job(b).reason.startswith("resumed:")
    # killed again while b and c were scored: MAX_ATTEMPTS tries, then failed with the reason
    for _ in range(MAX_ATTEMPTS - 1):
        q.claim("dead:0:2")
        q.claim("dead:0:2")
        q.recover(lambda job: None)
    for jid in (b, c):
        job = q.job(jid)
        assert job.status == "failed" and "the server stopped while this clip was being scored" in job.reason
        assert f"{MAX_ATTEMPTS} times" in job.reason
    assert q.claim("w") is None


def test_a_worker_that_dies_releases_only_its_own_job(tmp_path):
    q = JobQueue(tmp_path)
    _, (a, b) = _fill(q, 2)
    q.claim("inst:0:1")
    q.claim("inst:1:1")
    assert q.release("inst:0:1", "the scoring worker stopped (exit code -9)") == [a]
    assert q.job(a).status == "queued" and "exit code -9" in q.job(a).reason
    assert q.job(b).status == "running"
    assert not q.finish(a, "inst:0:1", {})  # the dead worker's late answer is ignored
    assert q.requeue_owned("inst:", "stopped") == 1 and q.job(b).status == "queued" and q.job(b).attempts == 0


def test_queue_position_progress_estimate_and_rounds(tmp_path):
    q = JobQueue(tmp_path)
    rid, ids = _fill(q, 3)
    assert [q.queue_position(q.job(i)) for i in ids] == [1, 2, 3]
    job = q.claim("w")
    q.fail(job.id, "w", "bad clip")
    assert q.queue_position(q.job(ids[1])) == 1
    (r,) = q.rounds()
    assert (r["failed"], r["queued"], r["done"]) == (1, 2, 0)
    assert q.job("../../etc/passwd") is None and q.round("x'; DROP TABLE jobs; --") is None


@pytest.mark.parametrize(
    "client, shown",
    [
        ("jump 1.mp4", "jump 1"),
        ("../../etc/passwd", "passwd"),
        ("C:\\clips\\a.mov", "a"),
        ("<script>alert(1)<\\script>.mp4", "script_"),
        ("....mp4", "mp4"),
        ("con.mp4", "con"),
    ],
)
def test_upload_names_are_display_names_only(client, shown):
    name = display_name(client)
    assert name == shown and "/" not in name and "\\" not in name and "<" not in name


def test_a_host_off_the_loopback_needs_a_token():
    security.check_bind("127.0.0.1", None)
    security.check_bind("::1", None)
    with pytest.raises(JudgemindError, match="--token"):
        security.check_bind("0.0.0.0", None)
    with pytest.raises(JudgemindError, match="at least 16"):
        security.check_bind("0.0.0.0", "short")
    security.check_bind("0.0.0.0", "x" * 24)
