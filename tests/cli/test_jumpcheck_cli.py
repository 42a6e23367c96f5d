""" "Is this an aerials jump?" through the commands: `score` writes the structural check into result.json and the
sheet, `--strict` exits 3 on a jump played backwards (whose sheet lists no deduction), `predict` and `evaluate`
carry the check per record. A tiny SynthAerials set with annotated-skeleton features and a 1-epoch model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli_run import jm


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """12 jumps at 64 px plus ``rev``: jump 0 played backwards (its video and skeleton reversed), alone in split
    ``probe``; skeleton features; JudgeMind trained for one epoch."""
    from judgemind.data.skeleton import read_array, save_array
    from judgemind.features.pipeline import run_extract
    from judgemind.synth import generate
    from judgemind.video.decode import iter_frames
    from judgemind.video.encode import write_video

    root = tmp_path_factory.mktemp("jumpcheck")
    data = root / "data"
    generate(data, n=12, seed=4, size=64, workers=1, progress=False)
    lines = (data / "annotations.jsonl").read_text().splitlines()
    rec = json.loads(lines[0])
    s, e = rec["frames"]
    frames = [f for _, f in iter_frames(data / rec["video"], s, e)]
    write_video(data / "videos" / "rev.mp4", frames[::-1], fps=25)
    save_array(data / "skeletons" / "rev.npy", read_array(data / rec["skeleton"])[::-1])
    rev = dict(rec, id="rev", video="videos/rev.mp4", skeleton="skeletons/rev.npy")
    rev["boxes"] = {str(s + e - 1 - int(f)): b for f, b in rec["boxes"].items()}  # frame f shows frame s+e-1-f
    rev["cuts"] = sorted(s + e - c for c in rec.get("cuts") or [])
    (data / "annotations.jsonl").write_text("\n".join(lines + [json.dumps(rev)]) + "\n")
    meta = json.loads((data / "dataset.json").read_text())
    meta["splits"]["probe"] = ["rev"]
    (data / "dataset.json").write_text(json.dumps(meta))
    run_extract(data, "skeleton", workers=1, progress=False)
    run = root / "run"
    r = jm(
        "train", "--data", data, "--features", "skeleton", "--model", "judgemind", "--epochs", "1", "--out", run,
        "--set", "optim.batch_size=4", "--set", "model.d_model=32", "--threads", "1",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    return data, run, rec


def test_score_carries_the_check_and_strict_refuses_a_reversed_jump(setup, tmp_path):
    data, run, rec = setup
    out = tmp_path / "genuine"
    r = jm("score", data / rec["video"], "--checkpoint", run / "best.pt", "--out", out, "--strict")
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((out / "result.json").read_text())
    jc = res["jump_check"]
    assert jc["is_jump"] is True and res["in_distribution"] is True and jc["track"] == "annotated"
    for name in ("somersault", "approach", "landing", "flight_time", "back_rotation", "travel", "tracking"):
        t = jc["tests"][name]
        assert t["passed"] is True and t["margin"] >= 0 and t["value"] is not None, name
    # a handful of calibration jumps: the documented defaults, said so
    assert "defaults" in jc["thresholds_from"]
    assert res["feature_check"] is None or set(res["feature_check"]) >= {"distance", "threshold", "margin"}

    out = tmp_path / "reversed"
    r = jm("score", data / "videos" / "rev.mp4", "--checkpoint", run / "best.pt", "--out", out, "--strict")
    assert r.returncode == 3, (r.returncode, r.stderr[-1500:])
    assert "does not look like an aerials jump" in r.stderr and "back_rotation" in r.stderr
    res = json.loads((out / "result.json").read_text())
    jc = res["jump_check"]
    assert jc["is_jump"] is False and res["in_distribution"] is False
    assert {"back_rotation", "travel"} <= set(jc["failed"]) and jc["margin"] < 0
    assert jc["tests"]["back_rotation"]["value"] < 0
    assert any("margin" in x for x in res["ood_reasons"])
    # the flagged sheet lists no deduction as likely and says why, with the margins
    assert all(d["listed"] is False for d in res["deductions"])
    html = (out / "sheet.html").read_text()
    assert "ood-warning" in html and "deductions-suppressed" in html and "back_rotation" in html


def test_predict_and_evaluate_carry_the_check_per_record(setup, tmp_path):
    data, run, _ = setup
    out = tmp_path / "p.jsonl"
    r = jm("predict", run, "--data", data, "--out", out)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = {x["id"]: x for x in map(json.loads, out.read_text().splitlines())}
    assert lines["rev"]["jump_check"]["is_jump"] is False and "fail the structural check" in r.stdout
    genuine = [x["jump_check"]["is_jump"] for k, x in lines.items() if k != "rev"]
    assert np.mean(genuine) >= 0.9, genuine
    for x in lines.values():
        jc = x["jump_check"]
        assert set(jc) == {"is_jump", "margin", "failed", "not_measured", "margins"}
        assert set(x["feature_check"]) == {"unlike_training", "distance", "threshold", "margin"}

    ev = tmp_path / "ev"
    r = jm("evaluate", run, "--split", "probe", "--out", ev)
    assert r.returncode == 0, r.stderr[-2000:]
    doc = json.loads((ev / "metrics.json").read_text())
    s = doc["is_this_a_jump"]
    assert s["n"] == 1 and s["flagged"] == 1 and s["is_jump"] == 0 and s["margin_min"] < 0
    assert "is this a jump? 0 of 1 pass the structural check, 1 flagged" in r.stdout
    pred = json.loads((ev / "predictions.jsonl").read_text().splitlines()[0])
    assert pred["id"] == "rev" and pred["jump_check"]["is_jump"] is False
