"""`judgemind data from-results`: scored result.json files + a marks file -> FineSkiing records that `data validate`
accepts and `judgemind train` reads; the marks file's format and its errors; appends under the data set's lock lose
nothing and a bad record adds nothing."""

from __future__ import annotations

import json
import multiprocessing as mp
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

import judgemind
from judgemind.cli.main import main
from judgemind.data import load_dataset
from judgemind.data.append import append_records
from judgemind.data.from_results import Marks, draft_record, read_marks
from judgemind.errors import JudgemindError, ValidationError

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "result" / "result_v1.json"
PANEL = "1.8/4.4/2.7,1.7/4.5/2.7,1.8/4.3/2.6,1.9/4.4/2.8,1.8/4.6/2.7"


def _records(data: Path) -> list[dict]:
    return [json.loads(line) for line in (data / "annotations.jsonl").read_text().splitlines()]


def _marks(path: Path, videos, extra_header: str = "", extra: str = "") -> Path:
    path.write_text(f"video,j1,j2,j3,j4,j5{extra_header}\n" + "".join(f"{v},{PANEL}{extra}\n" for v in videos))
    return path


@pytest.fixture(scope="module")
def scored(scoring_run, tmp_path_factory):
    """Six videos of the scoring run's data set copied out of it (as a coach's clips would be) and scored as a
    round with the API: their result.json files."""
    data, run = scoring_run
    root = tmp_path_factory.mktemp("scored")
    clips = root / "clips"
    clips.mkdir()
    codes = []
    for rec in _records(data)[:6]:
        shutil.copy(data / rec["video"], clips / Path(rec["video"]).name)
        codes.append(f"{Path(rec['video']).name} {rec['action_code']}")
    (clips / "codes.txt").write_text("\n".join(codes) + "\n")
    doc = judgemind.score_round(run, [], root / "round", codes=clips / "codes.txt")
    assert doc["failed"] == 0
    return data, run, root, [root / "round" / j["name"] / "result.json" for j in doc["jumps"]]


def test_round_trip_score_from_results_validate_train(scored, tmp_path):
    data, run, root, results = scored
    out = tmp_path / "mine"
    names = [judgemind.ScoreResult.read(r).video_name for r in results]
    marks = _marks(tmp_path / "marks.csv", names)
    assert main(["data", "from-results", *map(str, results[:4]), "--marks", str(marks), "--out", str(out)]) == 0
    args = ["data", "from-results", *map(str, results[4:]), "--marks", str(marks), "--out", str(out)]
    assert main([*args, "--split", "val"]) == 0  # appended to the data set made above
    assert main(["data", "validate", str(out)]) == 0
    ds = load_dataset(out, check_videos=True)
    assert [len(ds.split(s)) for s in ("train", "val")] == [4, 2]
    for rec, path in zip(ds, results):
        res = judgemind.ScoreResult.read(path)
        assert rec.video == f"videos/{res.video_name}" and (out / rec.video).read_bytes() == (
            Path(res.round["video"]).read_bytes()
        )
        assert rec.action_code == res.action_code and rec.dd == Decimal(res.dd) and list(rec.frames) == res.frames
        assert {s: list(v) for s, v in rec.stages.items()} == res.stages
        assert len(rec.judges) == 5 and rec.extra["from_result"]["model_final_score"] == res.final_score
    # `judgemind train` reads it (features extracted like the scoring run's)
    from judgemind.features.pipeline import run_extract

    run_extract(out, "pixels", locator="motion", workers=1, progress=False, options={"steps": 12})
    train = ["train", "--data", str(out), "--features", "pixels", "--model", "judgemind", "--epochs", "1"]
    assert main([*train, "--out", str(tmp_path / "run"), "--threads", "1", "--set", "optim.batch_size=2"]) == 0
    assert (tmp_path / "run" / "best.pt").is_file()


def test_without_marks_nothing_is_added_and_the_results_are_named(scored, tmp_path, capsys):
    _, _, _, results = scored
    out = tmp_path / "mine"
    assert main(["data", "from-results", str(results[0]), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "five judges' marks" in err and str(results[0]) in err and "--marks" in err
    assert not out.exists()
    first = judgemind.ScoreResult.read(results[0]).video_name
    marks = _marks(tmp_path / "m.csv", [first])
    assert main(["data", "from-results", *map(str, results[:2]), "--marks", str(marks), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "has no line for 1 result(s)" in err and str(results[1]) in err and not out.exists()


def test_a_bad_record_adds_nothing_and_an_existing_id_is_refused(scored, tmp_path, capsys):
    _, _, _, results = scored
    out = tmp_path / "mine"
    names = [judgemind.ScoreResult.read(r).video_name for r in results]
    marks = _marks(tmp_path / "m.csv", names)
    assert main(["data", "from-results", str(results[0]), "--marks", str(marks), "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    videos = sorted(p.name for p in (out / "videos").iterdir())
    # the second result is new, the first already there: nothing at all is added
    assert main(["data", "from-results", *map(str, results[:2]), "--marks", str(marks), "--out", str(out)]) == 2
    assert "already in the data set" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in (out / "videos").iterdir()) == videos
    # a published score that the marks do not give
    bad = _marks(tmp_path / "b.csv", names[1:2], ",final_score", ",99.99")
    assert main(["data", "from-results", str(results[1]), "--marks", str(bad), "--out", str(out)]) == 2
    assert "final_score 99.99 disagrees with the rules" in capsys.readouterr().err


def test_a_video_that_changed_since_it_was_scored_is_refused(scored, tmp_path, capsys):
    _, _, root, results = scored
    res = judgemind.ScoreResult.read(results[0])
    doc = json.loads(results[0].read_text())
    doc["round"]["inputs"]["video"] = "0" * 64
    moved = tmp_path / "r" / "result.json"
    moved.parent.mkdir()
    moved.write_text(json.dumps(doc))
    marks = _marks(tmp_path / "m.csv", [res.video_name])
    assert main(["data", "from-results", str(moved), "--marks", str(marks), "--out", str(tmp_path / "o")]) == 2
    assert "is not the video that was scored" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty"),
        ("video,j1,j2,j3,j4\nx.mp4,1/2/3,1/2/3,1/2/3,1/2/3\n", "j1..j5"),
        ("video,j1,j2,j3,j4,j5,coach\n", "unknown column(s) 'coach'"),
        ("clip,j1,j2,j3,j4,j5\n", "no 'video' column"),
        (f"video,j1,j2,j3,j4,j5\nx.mp4,{PANEL}\nx.mp4,{PANEL}\n", "line 3: 'x.mp4' already has marks (line 2)"),
        (f"video,j1,j2,j3,j4,j5\nx.mp4,{PANEL},7\n", "line 2: 7 fields"),
        (
            "video,j1,j2,j3,j4,j5\nx.mp4,1.8/4.4,1/1/1,1/1/1,1/1/1,1/1/1\n",
            "line 2, column j1: expected air/form/landing",
        ),
        ("video,j1,j2,j3,j4,j5\nx.mp4,1.8/4.4/3.1,1/1/1,1/1/1,1/1/1,1/1/1\n", "line 2, judge j1: landing 3.1"),
        ("video,j1,j2,j3,j4,j5\nx.mp4,1.8/4.45/3,1/1/1,1/1/1,1/1/1,1/1/1\n", "line 2, judge j1: form 4.45"),
        ("video,j1,j2,j3,j4,j5\nx.mp4,a/4/3,1/1/1,1/1/1,1/1/1,1/1/1\n", "air mark 'a' is not a number"),
        ("video,j1,j2,j3,j4,j5,sex\nx.mp4,1/1/1,1/1/1,1/1/1,1/1/1,1/1/1,X\n", "column sex: expected M or F"),
        ("video,j1,j2,j3,j4,j5\n", "no marks lines"),
    ],
)
def test_marks_file_errors_name_the_line_and_column(tmp_path, text, words):
    p = tmp_path / "marks.csv"
    p.write_text(text)
    with pytest.raises(JudgemindError, match=re.escape(words)):
        read_marks(p)


def test_marks_as_spreadsheets_write_them(tmp_path):
    wide = ",".join(f"j{j}_{c}" for j in range(1, 6) for c in ("air", "form", "landing"))
    values = ",".join(v for judge in PANEL.split(",") for v in judge.split("/"))
    p = tmp_path / "wide.csv"
    p.write_bytes(
        ("\ufeff# exported from a sheet\n" + f"video,{wide},id,athlete\nj.mp4,{values},jump 1,A. Skier\n").encode()
    )
    m = read_marks(p)["j.mp4"]
    q = _marks(tmp_path / "slash.csv", ["j.mp4"])
    assert m.judges == read_marks(q)["j.mp4"].judges and m.id == "jump 1" and m.athlete == "A. Skier"
    assert m.judges[0] == {"air": Decimal("1.8"), "form": Decimal("4.4"), "landing": Decimal("2.7")}
    short = tmp_path / "short.csv"  # a spreadsheet drops the empty cells at the end of a line
    short.write_text(f"video,j1,j2,j3,j4,j5,final_score,athlete\nj.mp4,{PANEL}\n")
    assert read_marks(short)["j.mp4"].final_score is None


def test_listed_deductions_become_entries_at_their_evidence_frames():
    doc = json.loads(REAL.read_text())
    base = doc["deductions"][0]
    doc["in_distribution"] = True
    doc["deductions"] = [
        {**base, "item": "bent_knees", "stage": "flight", "listed": True, "points_if_present": 0.46,
         "evidence_frame": 50, "probability": 0.81},
        {**base, "item": "hand_drag", "stage": "landing", "listed": True, "points_if_present": 0.04,
         "evidence_frame": 100, "probability": 0.7},
        {**base, "item": "crossed_skis", "stage": "flight", "listed": False, "evidence_frame": 60},
        {**base, "item": "early_rotation", "stage": "takeoff", "listed": True, "points_if_present": 5.0,
         "evidence_frame": 500},
    ]  # fmt: skip
    res = judgemind.ScoreResult.from_json(doc)
    marks = Marks("synth_00000.mp4", 2, tuple({c: Decimal(v) for c, v in zip(("air", "form", "landing"), j.split("/"))}
                                              for j in PANEL.split(",")))  # fmt: skip
    rec, notes = draft_record(res, REAL, marks, "videos/synth_00000.mp4")
    assert [d["item"] for d in rec["deductions"]] == ["bent_knees", "early_rotation"]
    assert rec["deductions"][0] == {
        "item": "bent_knees",
        "stage": "flight",
        "points": Decimal("0.5"),
        "frames": [50, 51],
    }
    assert rec["deductions"][1]["points"] == Decimal("1.0") and "frames" not in rec["deductions"][1]  # range; outside
    assert any("left out hand_drag" in n and "cap 2.0" in n for n in notes)  # the judges gave landing 2.8
    assert rec["final_score"] == Decimal("115.48")  # J 26.9 (8.7 and one 9.1 dropped) x DD 4.293, truncated
    assert rec["extra"]["from_result"]["deduction_probabilities"] == {
        "bent_knees": 0.81,
        "early_rotation": base["probability"],
    }
    no_stages = judgemind.ScoreResult.from_json({**doc, "stages": None})
    rec, notes = draft_record(no_stages, REAL, marks, "videos/x.mp4")
    assert rec["stages"] == {"takeoff": [0, 36], "flight": [36, 72], "landing": [72, 109]}
    assert rec["extra"]["stages_known"] is False and any("split in thirds" in n for n in notes)


def _append_many(args):
    root, videos, records = args
    for rec in records:
        append_records(root, [rec], split="train", videos=videos)


def test_two_writers_at_once_lose_nothing(scoring_run, tmp_path):
    data, _ = scoring_run
    recs = [{k: v for k, v in r.items() if k != "skeleton"} for r in _records(data)[:2]]  # (no skeleton layout)
    videos = {r["video"]: data / r["video"] for r in recs}
    root = tmp_path / "shared"
    from judgemind.data.records import DatasetMeta

    meta = DatasetMeta(name="shared", fps=25.0, splits={})
    append_records(root, [{**recs[0], "id": "seed"}], meta=meta, videos=videos)
    jobs = [(root, videos, [{**recs[w], "id": f"w{w}_{k}"} for k in range(6)]) for w in range(2)]
    with mp.get_context("spawn").Pool(2) as pool:
        pool.map(_append_many, jobs)
    ds = load_dataset(root, check_videos=True)
    assert sorted(r.id for r in ds) == sorted(["seed", *(f"w{w}_{k}" for w in range(2) for k in range(6))])
    assert len(ds.split("train")) == 13


def test_append_refuses_what_it_cannot_add(scoring_run, tmp_path):
    from judgemind.data.records import DatasetMeta

    data, _ = scoring_run
    rec = {k: v for k, v in _records(data)[0].items() if k != "skeleton"}
    root = tmp_path / "ds"
    with pytest.raises(JudgemindError, match="not a FineSkiing data set"):
        append_records(root, [rec])
    meta = DatasetMeta(name="ds", fps=25.0, splits={})
    with pytest.raises(ValidationError) as e:
        append_records(root, [{**rec, "final_score": 1}], meta=meta, videos={rec["video"]: data / rec["video"]})
    assert any(p.field == "final_score" for p in e.value.problems) and not (root / "dataset.json").exists()
    with pytest.raises(ValidationError) as e:
        append_records(root, [rec], meta=meta)  # the video is neither in the data set nor given
    assert any(p.field == "video" and "does not exist" in p.message for p in e.value.problems)
    append_records(root, [rec], meta=meta, videos={rec["video"]: data / rec["video"]})
    longer = data / _records(data)[3]["video"]  # another render, long enough for rec's frames
    with pytest.raises(JudgemindError, match="exists with other content"):
        append_records(root, [{**rec, "id": "again"}], videos={rec["video"]: longer})
    assert [r.id for r in load_dataset(root)] == [rec["id"]]
    (root / "annotations.jsonl").write_text((root / "annotations.jsonl").read_text() + "{broken\n")
    with pytest.raises(ValidationError, match="cannot be read"):
        append_records(root, [{**rec, "id": "more"}])
