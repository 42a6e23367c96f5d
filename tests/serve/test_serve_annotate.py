"""The annotate pages over HTTP (`judgemind annotate DATASET`, a real server on a loopback port): a data set that
does not validate shows its errors; frames are frame-accurate; two tabs saving at once lose nothing; the saved
lines are what `judgemind data validate` accepts and `judgemind train` reads; a stale or bad form writes nothing."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
import threading
from decimal import Decimal

import numpy as np
import pytest
from serve_helpers import ENV, Client, Server

from judgemind.data import dumps_record, record_from_dict


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from judgemind.synth import generate

    data = generate(tmp_path_factory.mktemp("ann") / "data", n=8, seed=11, size=64, workers=1, progress=False)
    for name in ("extra_a", "extra_b"):  # videos without a record yet
        shutil.copy(data / "videos" / "synth_00000.mp4", data / "videos" / f"{name}.mp4")
    return data


@pytest.fixture(scope="module")
def server(dataset, tmp_path_factory):
    root = tmp_path_factory.mktemp("annsrv")
    s = Server("annotate", dataset, "--root", root / "folder", cwd=root)
    assert s.url, s.output()
    yield s
    assert s.stop() == 0, s.output()


def _hidden(page: str, name: str) -> str:
    return html.unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))


def _form(page: str, **values) -> list[tuple[str, str]]:
    """The editor's fields as the page holds them, with ``values`` changed (j<i>_<c> marks, start, b1, ...)."""
    names = ["kind", "ident", "base", "prefill", "id", "action_code", "dd", "start", "b1", "b2", "end"]
    names += [f"j{i}_{c}" for i in range(5) for c in ("air", "form", "landing")]
    fields = []
    for n in names:
        m = re.search(rf'name="{n}"[^>]*value="([^"]*)"', page)
        fields.append((n, values.pop(n, html.unescape(m.group(1)) if m else "")))
    fields += [("split", values.pop("split", "train")), ("sex", values.pop("sex", ""))]
    rows = re.findall(r'<tr class="ded">(.*?)</tr>', page.split('<template id="ded-template">')[0], re.S)
    for d in values.pop("deductions", None) or [_row(r) for r in rows]:
        fields += [(f"ded_{k}", str(v)) for k, v in d.items()]
    assert not values, values
    return fields


def _row(row: str) -> dict:
    """A deduction row of the editor as the browser would send it."""
    item = re.search(r'<option value="([^"]+)"[^>]*selected', row).group(1)
    val = {
        k: html.unescape(re.search(rf'name="ded_{k}"[^>]*value="([^"]*)"', row).group(1))
        for k in ("points", "from", "to", "severity")
    }
    return {"item": item, **val}


def _marks(air="1.5", form="3.5", landing="2.2") -> dict:
    return {f"j{i}_{c}": v for i in range(5) for c, v in (("air", air), ("form", form), ("landing", landing))}


def test_two_tabs_save_at_once_and_the_data_set_validates_and_trains(server, dataset, tmp_path):
    pages = {}
    for v in ("extra_a", "extra_b"):
        c = Client(server.url)
        r = c.get(f"/annotate/edit?kind=video&ident=videos/{v}.mp4")
        assert r.status == 200, r.text
        pages[v] = (c, r.text)
    results = {}

    def save(v, k):
        c, page = pages[v]
        fields = _form(
            page,
            id=f"mine_{k}",
            action_code="bFdFF",
            start="2",
            b1="20",
            b2="80",
            end="100",
            **_marks(),
            deductions=[{"item": "bent_knees", "points": "0.3", "from": "40", "to": "41", "severity": ""}],
        )
        results[v] = c.post_form("/annotate/save", fields)

    threads = [threading.Thread(target=save, args=(v, k)) for k, v in enumerate(pages)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [r.status for r in results.values()] == [303, 303], [r.text[-2000:] for r in results.values()]
    lines = (dataset / "annotations.jsonl").read_text().splitlines()
    mine = [json.loads(x) for x in lines if '"mine_' in x]
    assert sorted(d["id"] for d in mine) == ["mine_0", "mine_1"]  # nothing lost
    for line in lines[-2:]:  # byte for byte what the record parser and writer make of it
        rec, problems = record_from_dict(json.loads(line, parse_float=Decimal))
        assert not problems and dumps_record(rec) == line
    d = mine[0]
    from judgemind import rules

    want = rules.score_aerials([("1.5", "3.5", "2.2")] * 5, Decimal("4.425")).score
    assert Decimal(str(d["final_score"])) == want and d["stages"] == {
        "takeoff": [2, 20],
        "flight": [20, 80],
        "landing": [80, 100],
    }
    assert d["deductions"] == [{"item": "bent_knees", "stage": "flight", "points": 0.3, "frames": [40, 41]}]
    assert d["extra"]["annotation"]["tool"] == "judgemind annotate"
    # the saved page, then the data set as the command line sees it
    c = pages["extra_a"][0]
    page = c.get(results["extra_a"].headers["location"]).text
    assert f'id="saved-score">{want}<' in page
    jm = [sys.executable, "-m", "judgemind.cli.main"]
    r = subprocess.run(jm + ["data", "validate", str(dataset)], capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    r = subprocess.run(
        jm + ["extract", str(dataset), "-e", "pixels", "--locator", "motion", "--steps", "12", "--no-progress"],
        capture_output=True, text=True, env=ENV, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run(
        jm + ["train", "--data", str(dataset), "--features", "pixels", "--model", "judgemind", "--epochs", "1"]
        + ["--out", str(tmp_path / "run"), "--set", "optim.batch_size=4", "--threads", "1"],
        capture_output=True, text=True, env=ENV, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    n_train = len(json.loads((dataset / "dataset.json").read_text())["splits"]["train"])
    assert f"on {n_train} videos" in r.stderr and n_train >= 2
    prog = c.get("/annotate/progress.json").json()
    assert prog["records"] == 10 and prog["annotated_with_this_page"] == 2 and prog["videos_without_record"] == 0
    assert "bFdFF" in prog["per_code"]
    csv_text = c.get("/annotate/progress.csv").text
    assert csv_text.startswith("action_code,records") and "(all),10" in csv_text


def test_a_correction_a_stale_tab_and_a_bad_form(server, dataset):
    rid = json.loads((dataset / "annotations.jsonl").read_text().splitlines()[1])["id"]
    a, b = Client(server.url), Client(server.url)
    page_a = a.get(f"/annotate/edit?kind=record&ident={rid}").text
    page_b = b.get(f"/annotate/edit?kind=record&ident={rid}").text
    assert _hidden(page_a, "base") == _hidden(page_b, "base") != ""
    r = a.post_form("/annotate/save", _form(page_a, **_marks(landing="2.0")))
    assert r.status == 303, r.text[-3000:]
    after = (dataset / "annotations.jsonl").read_bytes()
    line = after.decode().splitlines()[1]
    assert json.loads(line)["id"] == rid and all(j["landing"] == 2.0 for j in json.loads(line)["judges"])
    r = b.post_form("/annotate/save", _form(page_b, **_marks(landing="2.9")))  # the other tab, opened before
    assert r.status == 409 and "saved by someone else" in r.text
    page = b.get(f"/annotate/edit?kind=record&ident={rid}").text
    r = b.post_form("/annotate/save", _form(page, b1="90", b2="30"))
    assert r.status == 400 and "stages.flight" in r.text
    bad = {"item": "bent_knee", "points": "0.3", "from": "5000", "to": "", "severity": ""}
    r = b.post_form("/annotate/save", _form(page, deductions=[bad], **_marks(air="2.5")))
    assert r.status == 400
    assert "judges[0].air" in r.text and "deductions[0].item" in r.text and "did you mean bent_knees" in r.text
    assert 'value="2.5"' in r.text and 'value="5000"' in r.text  # what was typed is shown again
    assert (dataset / "annotations.jsonl").read_bytes() == after  # nothing written
    assert a.post_form("/annotate/save", _form(page_a), csrf=False).status == 403


def test_frames_are_the_decoded_frames(server, dataset):
    import cv2

    from judgemind.video.decode import read_frames

    c = Client(server.url)
    video = dataset / "videos" / "synth_00001.mp4"
    rid = "synth_00001"
    truth = read_frames(video, [30, 31, 32], short_side=360).astype(np.float32)
    r = c.get(f"/annotate/frame?kind=record&ident={rid}&n=31")
    assert r.status == 200 and r.headers["content-type"] == "image/jpeg"
    got = cv2.cvtColor(cv2.imdecode(np.frombuffer(r.body, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    err = [float(np.abs(got.astype(np.float32) - t).mean()) for t in truth]
    assert err[1] < 0.5 * min(err[0], err[2]), err  # frame 31, not a neighbour (JPEG: not exact)
    assert c.get(f"/annotate/frame?kind=record&ident={rid}&n=100000").status == 404
    assert c.get("/annotate/frame?kind=video&ident=../outside.mp4&n=0").status == 404


def test_a_data_set_that_does_not_validate_shows_its_errors(dataset, tmp_path):
    bad = shutil.copytree(dataset, tmp_path / "bad")
    lines = (bad / "annotations.jsonl").read_text().splitlines()
    d = json.loads(lines[2])
    d["final_score"] = 1.23
    lines[2] = json.dumps(d)
    (bad / "annotations.jsonl").write_text("\n".join(lines) + "\n")
    s = Server("annotate", bad, "--root", tmp_path / "folder", cwd=tmp_path)
    assert s.url, s.output()
    try:
        c = Client(s.url)
        r = c.get("/annotate")
        assert r.status == 409 and "does not validate" in r.text
        assert d["id"] in r.text and "final_score" in r.text and "disagrees with the rules engine" in r.text
        assert c.get(f"/annotate/edit?kind=record&ident={d['id']}").status == 409
        lines[2] = json.dumps(
            {**d, "final_score": json.loads((dataset / "annotations.jsonl").read_text().splitlines()[2])["final_score"]}
        )
        (bad / "annotations.jsonl").write_text("\n".join(lines) + "\n")
        assert c.get("/annotate").status == 200  # checked again once the file changed
    finally:
        assert s.stop() == 0
