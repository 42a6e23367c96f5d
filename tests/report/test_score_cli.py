"""`judgemind score` end to end on a tiny SynthAerials set: JSON + judge sheet + timeline, and its bad inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def jm(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "judgemind.cli.main", *map(str, args)], capture_output=True,
                          text=True, env=ENV, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 16-jump SynthAerials set at 64 px, pixels features, JudgeMind trained for 2 epochs."""
    from judgemind.features.pipeline import run_extract
    from judgemind.synth import generate

    root = tmp_path_factory.mktemp("score")
    data = root / "data"
    generate(data, n=16, seed=3, size=64, workers=1, progress=False)
    run_extract(data, "pixels", locator="auto", workers=1, progress=False, options={"steps": 12})
    r = jm("train", "--data", data, "--features", "pixels", "--model", "judgemind", "--epochs", "2",
           "--out", root / "run", "--set", "optim.batch_size=4")
    assert r.returncode == 0, r.stderr[-2000:]
    return data, root / "run"


def test_score_writes_result_sheet_and_timeline(trained, tmp_path):
    data, run = trained
    rec = json.loads((data / "annotations.jsonl").read_text().splitlines()[0])
    out = tmp_path / "sheet"
    r = jm("score", data / rec["video"], "--checkpoint", run / "best.pt", "--out", out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "judge sheet:" in r.stdout
    res = json.loads((out / "result.json").read_text())
    assert res["action_code"] == rec["action_code"] and res["dd"] == str(rec["dd"])
    # the final score is the rules engine's: a consensus judge x 5, J x DD truncated
    from decimal import Decimal

    from judgemind import rules

    c = res["components"]
    sc = rules.score_aerials([(c["air"], c["form"], c["landing"])] * 5, Decimal(res["dd"]))
    assert res["final_score"] == str(sc.score) and res["J"] == str(sc.J)
    st = res["stages"]
    assert st["takeoff"][0] == rec["frames"][0] and st["landing"][1] == rec["frames"][1]
    assert st["takeoff"][1] == st["flight"][0] and st["flight"][1] == st["landing"][0]
    assert set(res["bands"]) == {"air", "form", "landing"}
    assert res["provenance"]["synthetic"] is True and "annotation" in res["provenance"]["locator"]
    html = (out / "sheet.html").read_text()
    assert 'id="final-score"' in html.replace("'", '"') and res["final_score"] in html
    assert (out / "timeline.png").read_bytes()[:4] == b"\x89PNG"


def test_score_any_video_outside_a_dataset(trained, tmp_path):
    """A video that is not in a dataset: the action code is required, a locator finds the athlete."""
    import shutil

    data, run = trained
    rec = json.loads((data / "annotations.jsonl").read_text().splitlines()[1])
    video = tmp_path / "loose.mp4"
    shutil.copy(data / rec["video"], video)
    r = jm("score", video, "--checkpoint", run / "best.pt", "--out", tmp_path / "o")
    assert r.returncode == 2 and "--action-code" in r.stderr
    r = jm("score", video, "--checkpoint", run / "best.pt", "--action-code", "bLT", "--locator", "motion",
           "--out", tmp_path / "o", "--start", "2", "--end", "60")
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path / "o" / "result.json").read_text())
    assert res["frames"] == [2, 60] and res["dd"] == "2.60"
    assert any("trained with locator" in n for n in res["notes"])


@pytest.mark.parametrize("case", ["missing_video", "not_a_video", "missing_checkpoint", "wrong_checkpoint",
                                  "unknown_code", "outside"])
def test_score_bad_input(case, trained, tmp_path):
    data, run = trained
    rec = json.loads((data / "annotations.jsonl").read_text().splitlines()[0])
    video, ck, extra = data / rec["video"], run / "best.pt", []
    if case == "missing_video":
        video = tmp_path / "nope.mp4"
    elif case == "not_a_video":
        video = tmp_path / "text.mp4"
        video.write_text("hello")
    elif case == "missing_checkpoint":
        ck = tmp_path / "none.pt"
    elif case == "wrong_checkpoint":
        ck = tmp_path / "best.pt"
        import torch

        torch.save({"some": torch.zeros(2)}, ck)
    elif case == "unknown_code":
        extra = ["--action-code", "bFdFFF"]
    elif case == "outside":
        extra = ["--start", "0", "--end", "100000"]
    out = tmp_path / "out"
    r = jm("score", video, "--checkpoint", ck, "--out", out, *extra)
    assert r.returncode == 2, (r.returncode, r.stderr[-1500:])
    assert "Traceback" not in r.stderr and "error:" in r.stderr
    expect = {"missing_video": "nope.mp4", "not_a_video": "text.mp4", "missing_checkpoint": "none.pt",
              "wrong_checkpoint": "checkpoint", "unknown_code": "bFdFFF", "outside": "outside the video"}[case]
    assert expect in r.stderr
    assert not out.exists()  # no partial output
