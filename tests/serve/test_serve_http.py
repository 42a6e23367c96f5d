"""`judgemind serve` as a real process on a loopback port, driven over HTTP: an upload gives the files of
`judgemind score`; 20 uploads at once are all scored, none lost or mixed; hostile uploads are refused with a clear
error and write nothing outside the server's folder; a server killed with SIGKILL mid-round resumes; a checkpoint
that cannot score, a public host without a token, a missing token, a cross-site form are all refused."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from serve_helpers import ENV, Client, Server, tiny_run

CODES = ("bLT", "bFFF", "bFdFF", "bLFF", "bdFFF")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("serve_http"))


@pytest.fixture(scope="module")
def server(run, tmp_path_factory):
    data, ck = run
    root = tmp_path_factory.mktemp("srv")
    s = Server(
        "serve", "--checkpoint", ck / "best.pt", "--root", root / "folder", "--locator", "motion",
        "--max-upload-mb", "1", cwd=root,
    )  # fmt: skip
    assert s.url, s.output()
    yield s, root / "folder"
    assert s.stop() == 0, s.output()


def _videos(data: Path) -> list[Path]:
    return sorted((data / "videos").glob("*.mp4"))


def _frames(path: Path) -> int:
    from judgemind.video.probe import probe_video

    return probe_video(path).n_frames


def test_an_upload_gives_the_files_and_score_of_judgemind_score(run, server, tmp_path):
    data, ck = run
    srv, folder = server
    clip = tmp_path / "loose.mp4"
    shutil.copy(_videos(data)[0], clip)
    c = Client(srv.url)
    r = c.upload("loose.mp4", clip.read_bytes(), "bLT")
    assert r.status == 200, r.text
    rid, (job,) = r.json()["round"], r.json()["jobs"]
    doc = c.wait_round(rid)
    assert doc["counts"] == {"queued": 0, "running": 0, "done": 1, "failed": 0}
    out = folder / "rounds" / rid / job["id"]
    assert sorted(p.name for p in out.iterdir() if p.name[0] != ".") == ["result.json", "sheet.html", "timeline.png"]
    served = json.loads(c.get(f"/jobs/{job['id']}/result.json").body)
    assert served == json.loads((out / "result.json").read_text())

    cli = subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", "score", clip, "--checkpoint", ck / "best.pt"]
        + ["--action-code", "bLT", "--locator", "motion", "--out", tmp_path / "cli"],
        capture_output=True, text=True, env=ENV, timeout=300,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr[-2000:]
    want = json.loads((tmp_path / "cli" / "result.json").read_text())
    for key in ("final_score", "J", "dd", "components", "stages", "frames", "in_distribution", "schema_version"):
        assert served[key] == want[key], key
    assert [d["item"] for d in served["deductions"]] == [d["item"] for d in want["deductions"]]
    assert served["video_name"] == "loose"

    sheet = c.get(f"/jobs/{job['id']}/sheet.html")
    assert sheet.status == 200 and "script-src" not in sheet.headers["content-security-policy"]
    assert served["final_score"] in sheet.text
    page = c.get(f"/rounds/{rid}").text
    assert f'href="/jobs/{job["id"]}"' in page and served["final_score"] in page
    # the round's files, as `judgemind score VIDEOS --out` writes them, with working links
    rdoc = json.loads(c.get(f"/rounds/{rid}/round.json").body)
    assert rdoc["n"] == 1 and rdoc["jumps"][0]["final_score"] == served["final_score"]
    assert c.get(f"/rounds/{rid}/{rdoc['jumps'][0]['sheet']}").status == 200


def _upload_at_once(url, jobs: list[tuple[Path, str]], rid: str) -> list:
    out = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def one(i):
        c = Client(url)
        c.csrf  # (a page load first, as a browser does)
        start.wait()
        video, code = jobs[i]
        out[i] = c.upload("jump.mp4", video.read_bytes(), code, rid)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return out


def test_twenty_uploads_at_once_are_all_scored_none_lost_or_mixed(run, server):
    data, _ = run
    srv, folder = server
    c = Client(srv.url)
    vids = _videos(data)
    first = c.upload("jump.mp4", vids[0].read_bytes(), "bLT").json()
    rid = first["round"]
    plan = [(vids[i % len(vids)], CODES[i % len(CODES)]) for i in range(20)]
    answers = _upload_at_once(srv.url, plan, rid)
    assert [a.status for a in answers] == [200] * 20, [a.text for a in answers if a.status != 200]
    sent = {a.json()["jobs"][0]["id"]: plan[i] for i, a in enumerate(answers)}
    doc = c.wait_round(rid)
    assert doc["counts"]["done"] == 21 and len(doc["jobs"]) == 21
    names = [j["name"] for j in doc["jobs"]]
    assert len(set(names)) == 21 and "jump" in names and "jump_21" in names
    for jid, (video, code) in sent.items():
        res = json.loads(c.get(f"/jobs/{jid}/result.json").body)
        job = next(j for j in doc["jobs"] if j["id"] == jid)
        assert res["action_code"] == code and res["frames"] == [0, _frames(video)]  # its own clip, its own code
        assert res["video_name"] == job["name"]
        assert (folder / "uploads" / f"{jid}.mp4").read_bytes() == video.read_bytes()
    assert [r["rank"] for r in doc["ranking"]] == list(range(1, 22))


def test_hostile_uploads_are_refused_and_write_nothing_outside(run, server, tmp_path):
    data, _ = run
    srv, folder = server
    c = Client(srv.url)
    outside = sorted(p for p in folder.parent.rglob("*") if folder not in p.parents and p != folder)
    good = _videos(data)[1].read_bytes()
    cases = {
        "notes.mp4": (b"just some text, not a video\n" * 40, "cannot be opened as a video"),
        "empty.mp4": (b"", "is empty (0 bytes)"),
        "big.mp4": (os.urandom((1 << 20) + 4096), "larger than the upload limit (1 MB)"),
        "audio.mp4": (b"\x00\x00\x00\x18ftypmp42" + os.urandom(3000), "cannot be opened as a video"),
    }
    for name, (body, words) in cases.items():
        r = c.upload(name, body, "bLT")
        assert r.status == 400 and words in r.json()["errors"][0]["error"], (name, r.text)
    # a good clip with a hostile name: stored under its job id, shown escaped
    r = c.upload("../../../evil<script>alert('x')</script>.mp4", good, "bLT")
    assert r.status == 200, r.text
    jid, name = r.json()["jobs"][0]["id"], r.json()["jobs"][0]["name"]
    assert "/" not in name and "<" not in name and "." not in name
    c.wait_round(r.json()["round"])
    assert "<script>alert" not in c.get(f"/jobs/{jid}").text
    # the plain form (no script): several files, a codes list, a hostile name in an error message
    codes = "a.mp4 bFFF\n"
    r = c.post_files(
        "/score/upload",
        [("round", "new"), ("code", "bLT"), ("codes", codes)],
        [("video", "a.mp4", good), ("video", "<img src=x onerror=alert(1)>.mp4", b"GIF89a not a video")],
    )
    assert r.status == 200 and "1 file(s) not accepted" in r.text and "<img src=x" not in r.text
    assert "not a video" in r.text
    # a form without its token, or from another site, stores nothing
    n_uploads = len(list((folder / "uploads").iterdir()))
    assert c.post_files("/score/upload", [("code", "bLT")], [("video", "a.mp4", good)], csrf=False).status == 403
    r = c.post_files("/api/upload", [("code", "bLT")], [("video", "a.mp4", good)], headers={"Origin": "http://evil"})
    assert r.status == 403 and "another site" in r.text
    assert len(list((folder / "uploads").iterdir())) == n_uploads
    assert not list((folder / "uploads").glob(".upload-*"))  # no temporary file left
    after = sorted(p for p in folder.parent.rglob("*") if folder not in p.parents and p != folder)
    assert [p for p in after if p not in outside and not p.name.startswith("serve-")] == []


def test_files_are_served_by_id_only(server):
    srv, folder = server
    c = Client(srv.url)
    for path in (
        "/jobs/..%2F..%2Fjobs.sqlite",
        "/jobs/0123/sheet.html",
        "/rounds/..%2f..%2f/index.html",
        "/static/..%2f..%2fapp.py",
        "/static/%2e%2e/app.py",
        "/annotate/frame?kind=job&ident=../../jobs.sqlite&n=0",
    ):
        r = c.get(path)
        assert r.status in (404, 409), (path, r.status)
        assert b"CREATE TABLE" not in r.body and b"import " not in r.body
    assert c.get("/score", headers={"Host": "evil.example:80"}).status == 421  # DNS rebinding
    assert c.post_form("/score/dataset", [("record", "x")], csrf=False).status == 403


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(x) for x in (task / "children").read_text().split()]
    return out


def test_kill_9_mid_round_then_restart_scores_or_fails_every_clip(run, tmp_path):
    data, ck = run
    args = ("serve", "--checkpoint", ck / "best.pt", "--root", tmp_path / "folder", "--locator", "motion")
    args += ("--workers", "2")  # both die with the server
    srv = Server(*args, cwd=tmp_path)
    assert srv.url, srv.output()
    c = Client(srv.url)
    vids = _videos(data)
    rid = c.upload("j.mp4", vids[0].read_bytes(), "bLT").json()["round"]
    for i in range(1, 12):
        assert c.upload("j.mp4", vids[i % len(vids)].read_bytes(), CODES[i % 5], rid).status == 200
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120:
        counts = c.get(f"/api/rounds/{rid}").json()["counts"]
        if counts["done"] >= 2:
            break
        time.sleep(0.02)
    assert counts["done"] >= 2 and counts["done"] < 12, counts  # mid-round
    workers = _children(srv.proc.pid)
    srv.stop(signal.SIGKILL)
    for _ in range(100):  # the workers die with the server
        if not any(Path(f"/proc/{p}").exists() and "zombie" not in _state(p) for p in workers):
            break
        time.sleep(0.1)
    assert not any(Path(f"/proc/{p}").exists() and "zombie" not in _state(p) for p in workers)

    again = Server(*args, cwd=tmp_path)
    assert again.url, again.output()
    try:
        c2 = Client(again.url)
        doc = c2.wait_round(rid)
        assert len(doc["jobs"]) == 12
        for j in doc["jobs"]:
            assert j["status"] in ("done", "failed"), j
            if j["status"] == "failed":
                assert j["reason"], j
                assert c2.get(f"/jobs/{j['id']}/sheet.html").status == 409
            else:
                out = tmp_path / "folder" / "rounds" / rid / j["id"]
                assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
                    "result.json",
                    "sheet.html",
                    "timeline.png",
                ]
                assert json.loads((out / "result.json").read_text())["final_score"] == j["summary"]["final_score"]
        assert json.loads(c2.get(f"/rounds/{rid}/round.json").body)["n"] == 12
    finally:
        assert again.stop() == 0, again.output()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0]
    except (OSError, IndexError):
        return "zombie"


def test_a_server_that_cannot_score_or_is_unsafe_refuses_to_start(run, tmp_path):
    data, ck = run
    bad = tmp_path / "bad_run"
    shutil.copytree(ck, bad)
    (bad / "best.pt").write_bytes(b"not a checkpoint")
    s = Server("serve", "--checkpoint", bad / "best.pt", "--root", tmp_path / "f1", cwd=tmp_path)
    assert s.url is None and s.stop() == 2
    assert "cannot score videos" in s.output() and str(bad / "best.pt") in s.output()
    s = Server("serve", "--checkpoint", ck / "best.pt", "--host", "0.0.0.0", "--root", tmp_path / "f2", cwd=tmp_path)
    assert s.url is None and s.stop() == 2 and "--token" in s.output()
    s = Server("serve", "--root", tmp_path / "f3", cwd=tmp_path)
    assert s.url is None and s.stop() == 2 and "nothing to serve" in s.output()


def test_the_token_is_required_when_given(run, tmp_path):
    data, _ = run
    token = "t" * 12 + "0123456789"
    s = Server("serve", "--data", data, "--token", token, "--root", tmp_path / "f", cwd=tmp_path)
    assert s.url, s.output()
    try:
        c = Client(s.url)
        assert c.get("/annotate").status == 401
        assert c.get("/annotate?token=wrong").status == 401
        assert c.get(f"/annotate?token={token}").status == 200
        assert c.get("/annotate").status == 200  # the cookie carries it now
        assert Client(s.url).get("/annotate", headers={"Authorization": f"Bearer {token}"}).status == 200
        # a second server on the same folder is refused
        s2 = Server("serve", "--data", data, "--token", token, "--root", tmp_path / "f", cwd=tmp_path)
        assert s2.url is None and s2.stop() == 2 and "in use by another judgemind process" in s2.output()
    finally:
        assert s.stop() == 0
