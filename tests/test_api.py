"""The public Python API (judgemind.api, exported lazily by judgemind): Judge.load / score / write_sheet give the
files `judgemind score` writes, score_round the round's, bad input is named; `import judgemind` loads no torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

import judgemind
from judgemind.cli.main import main
from judgemind.errors import JudgemindError


def _video(data, k: int = 0):
    rec = json.loads((data / "annotations.jsonl").read_text().splitlines()[k])
    return data / rec["video"], rec


def _without_time(text: str) -> list[str]:
    """The lines of a file but the one that says when it was scored (minutes may tick between two runs)."""
    return [line for line in text.splitlines() if "scored_at" not in line and " UTC" not in line]


def test_import_judgemind_is_light_and_exports_the_api():
    code = (
        "import sys, judgemind; assert 'torch' not in sys.modules, 'torch'; "
        "assert 'jsonschema' not in sys.modules; "
        "assert {'Judge', 'score_round', 'ScoreResult', 'validate_result'} <= set(dir(judgemind)); "
        "judgemind.ScoreResult; assert 'torch' not in sys.modules; print(judgemind.__version__)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == judgemind.__version__
    assert judgemind.Judge.__module__ == "judgemind.api" and judgemind.score_round.__module__ == "judgemind.api"
    with pytest.raises(AttributeError, match="no attribute 'Jduge'"):
        judgemind.Jduge  # noqa: B018 -- the attribute access is the test


def test_score_and_write_sheet_are_what_judgemind_score_writes(scoring_run, tmp_path):
    data, run = scoring_run
    video, rec = _video(data)
    judge = judgemind.Judge.load(run / "best.pt")  # (as the command is given it: provenance names it)
    assert judge.checkpoint == run / "best.pt" and "judgemind" in repr(judge)
    result = judge.score(video)
    assert isinstance(result, judgemind.ScoreResult)
    assert result.action_code == rec["action_code"] and isinstance(result.final_score, str)
    paths = result.write_sheet(tmp_path / "api")
    assert sorted(paths) == ["result", "sheet", "timeline"]
    assert main(["score", str(video), "--checkpoint", str(run / "best.pt"), "--out", str(tmp_path / "cli")]) == 0
    for name in ("result.json", "sheet.html"):
        api, cli = ((tmp_path / d / name).read_text(encoding="utf-8") for d in ("api", "cli"))
        assert _without_time(api) == _without_time(cli), name
    assert (tmp_path / "api" / "timeline.png").read_bytes() == (tmp_path / "cli" / "timeline.png").read_bytes()
    # read back: the same result (the frames are not part of it), but no sheet
    again = judgemind.ScoreResult.read(paths["result"])
    assert again == result and again.json_text() == paths["result"].read_text(encoding="utf-8")
    # with_() keeps the frames: the demo adds the truth and still writes the sheet
    result.with_(truth={"final_score": "1.00", "deductions": []}).write_sheet(tmp_path / "truth")
    assert json.loads((tmp_path / "truth" / "result.json").read_text())["truth"]["final_score"] == "1.00"


def test_load_a_checkpoint_file_or_a_folder(scoring_run):
    _, run = scoring_run
    assert judgemind.Judge.load(run / "last.pt").run.checkpoint == "last"
    assert judgemind.Judge.load(run, checkpoint="last").run.checkpoint == "last"
    assert judgemind.Judge.load(run / "best.pt", checkpoint="best").run.checkpoint == "best"
    for kwargs, words in (
        ({"checkpoint": "last"}, "contradicts"),
        ({"checkpoint": "final"}, "checkpoint must be one of best, last"),
        ({"threads": 0}, "threads must be"),
    ):
        with pytest.raises(JudgemindError, match=words):
            judgemind.Judge.load(run / "best.pt", **kwargs)
    with pytest.raises(JudgemindError, match="does not exist"):
        judgemind.Judge.load(run / "nothing.pt")


def test_bad_scoring_input_is_named_before_anything_is_written(scoring_run, tmp_path):
    data, run = scoring_run
    video, _ = _video(data)
    judge = judgemind.Judge.load(run)
    for kwargs, words in (
        ({"threshold": 1.5}, "threshold must be a probability"),
        ({"threshold": float("nan")}, "threshold must be a probability"),
        ({"start": "3"}, "start must be a frame index"),
        ({"end": -2}, "end must be a frame index"),
        ({"code": "bXYZ"}, "bXYZ"),
    ):
        with pytest.raises(JudgemindError, match=words):
            judge.score(video, **kwargs)
    loose = tmp_path / "loose.mp4"
    shutil.copy(video, loose)
    with pytest.raises(JudgemindError, match="action"):
        judge.score(loose)  # outside a data set the code is needed
    result = judge.score(loose, code="bLT", start=2, end=60)
    assert result.frames == [2, 60] and result.dd == "2.60"
    (tmp_path / "file").write_text("x")
    with pytest.raises(JudgemindError, match="exists and is not a folder"):
        result.write_sheet(tmp_path / "file")


def test_a_busy_output_folder_is_refused(scoring_run, tmp_path):
    from judgemind.api import out_lock

    data, run = scoring_run
    result = judgemind.Judge.load(run).score(_video(data)[0])
    with out_lock(tmp_path / "out"):
        with pytest.raises(JudgemindError, match="in use by another judgemind process"):
            result.write_sheet(tmp_path / "out")
    assert not (tmp_path / "out" / "result.json").exists()


def test_score_round_is_the_commands_round(scoring_run, tmp_path):
    data, run = scoring_run
    videos = [_video(data, k)[0] for k in (0, 1)]
    with pytest.raises(JudgemindError, match="nope.mp4"):  # checked before the run is loaded
        judgemind.score_round(tmp_path / "no-run", [*videos, tmp_path / "nope.mp4"], tmp_path / "r0")
    assert not (tmp_path / "r0").exists()
    doc = judgemind.score_round(run, videos, tmp_path / "round")
    assert doc["n"] == 2 and doc["failed"] == 0 and [j["rank"] for j in doc["jumps"]] == [1, 2]
    assert json.loads((tmp_path / "round" / "round.json").read_text())["jumps"] == doc["jumps"]
    for j in doc["jumps"]:
        judgemind.ScoreResult.read(tmp_path / "round" / j["name"] / "result.json")
    again = judgemind.Judge.load(run).score_round(videos, tmp_path / "round")  # resumes: nothing re-scored
    assert {j["status"] for j in again["jumps"]} == {"done (kept from an earlier run)"}
