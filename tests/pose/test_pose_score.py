"""`judgemind score` on the learned path: a checkpoint trained on predicted skeletons (aerialspose features) scores
a video outside any data set from its pixels alone, and the sheet says which perception ran."""

from __future__ import annotations

import json
import shutil

import pytest

from cli_run import jm


def score(run, video, code, out, *extra):
    """`judgemind score VIDEO` with a run's best checkpoint and an action code."""
    return jm("score", video, "--checkpoint", run / "best.pt", "--action-code", code, "--out", out, *extra)


def train_tiny_judge(data, features, run):
    """`judgemind train` of a tiny JudgeMind for one epoch on ``features``."""
    return jm(
        "train",
        "--data",
        data,
        "--features",
        features,
        "--model",
        "judgemind",
        "--epochs",
        "1",
        "--out",
        run,
        "--set",
        "optim.batch_size=4",
        "--set",
        "model.d_model=16",
    )


def copied_outside(data, summary, tmp_path):
    """(record, path): the first record whose features were extracted, its video copied outside the data set."""
    done = [json.loads(x) for x in (data / "annotations.jsonl").read_text().splitlines()]
    rec = [r for r in done if r["id"] not in {rid for rid, _ in summary.failed}][0]
    alone = tmp_path / "jump.mp4"
    shutil.copy(data / rec["video"], alone)
    return rec, alone


@pytest.fixture(scope="module")
def learned_run(tmp_path_factory):
    from judgemind.features.pipeline import run_extract
    from judgemind.pose.train import PoseTrainConfig, train_pose
    from judgemind.synth import generate

    root = tmp_path_factory.mktemp("learned")
    data = generate(root / "data", n=8, seed=4, size=64, fps=25, workers=1, progress=False)
    w = root / "pose"
    train_pose(
        data,
        w,
        PoseTrainConfig(steps=6, batch=8, per_record=2, width=8, threads=1),
        progress=False,
        log=lambda *a: None,
    )
    weights = w / "aerialspose.safetensors"
    s = run_extract(
        data, "aerialspose", weights=str(weights), workers=1, progress=False, options={"steps": 8, "dense": False}
    )
    # an untrained detector may see nobody in a whole jump: such records fail by name, the others are extracted
    assert s.done >= 5, s.failed
    for rid, err in s.failed:
        assert "found no athlete" in err and rid in err
    return data, weights, s


def test_score_a_video_outside_any_data_set_from_predicted_skeletons(learned_run, tmp_path, decode_passes):
    data, weights, s = learned_run
    done = [json.loads(x) for x in (data / "annotations.jsonl").read_text().splitlines()]
    ok = [r for r in done if r["id"] not in {rid for rid, _ in s.failed}]
    meta = json.loads((data / "dataset.json").read_text())
    # train on whatever was extracted (the failed records are dropped from the splits)
    for split in meta["splits"]:
        meta["splits"][split] = [i for i in meta["splits"][split] if i in {r["id"] for r in ok}] or [ok[0]["id"]]
    (data / "dataset.json").write_text(json.dumps(meta))
    run = tmp_path / "run"
    r = train_tiny_judge(data, "aerialspose", run)
    assert r.returncode == 0, r.stderr[-2000:]
    rec, alone = copied_outside(data, s, tmp_path)
    out = tmp_path / "sheet"
    r = score(run, alone, rec["action_code"], out, "--weights", weights)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((out / "result.json").read_text())
    prov = res["provenance"]
    assert "predicted skeletons" in prov["perception"] and "predicted from the video" in prov["perception"]
    assert prov["locator"].startswith("none")
    assert res["final_score"] is not None and (out / "sheet.html").is_file()
    # issue 23: the learned perception decodes every frame of the jump, the sheet's frames come from the same pass
    from judgemind.infer import load_run, score_video

    decode_passes.clear()
    again, _ = score_video(load_run(run / "best.pt"), alone, action_code=rec["action_code"], weights=str(weights))
    assert decode_passes == [str(alone)] and again.final_score == res["final_score"]
    # the model's features were made with these weights: without them (and no shipped weights of the same
    # sha256) the command says which file is needed
    r = score(run, alone, rec["action_code"], tmp_path / "s2")
    assert r.returncode == 2 and "--weights" in r.stderr
    # a locator makes no sense for this perception
    r = score(run, alone, rec["action_code"], tmp_path / "s3", "--weights", weights, "--locator", "motion")
    assert r.returncode == 2 and "drop --locator" in r.stderr


def test_a_model_trained_on_annotated_skeletons_is_evaluated_on_predicted_ones(learned_run, tmp_path):
    from judgemind.features.pipeline import run_extract

    data, weights, s = learned_run
    run_extract(data, "skeleton", workers=1, progress=False, options={"steps": 8})
    meta = json.loads((data / "dataset.json").read_text())
    bad = {rid for rid, _ in s.failed}
    for split in meta["splits"]:
        meta["splits"][split] = [i for i in meta["splits"][split] if i not in bad] or [
            next(i for i in meta["splits"]["train"] if i not in bad)
        ]
    (data / "dataset.json").write_text(json.dumps(meta))
    run = tmp_path / "run"
    r = train_tiny_judge(data, "skeleton", run)
    assert r.returncode == 0, r.stderr[-2000:]
    r = jm("evaluate", run, "--features", "aerialspose")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "features aerialspose (trained on skeleton)" in r.stdout
    doc = json.loads((run / "eval" / "test-best-aerialspose" / "metrics.json").read_text())
    assert doc["features"] == "aerialspose" and doc["trained_on_features"] == "skeleton"
    r = jm("evaluate", run, "--features", "nope")
    assert r.returncode == 2 and "no features 'nope'" in r.stderr


def test_a_judge_of_refined_tracks_scores_a_video_through_any_perception(learned_run, tmp_path):
    """Trained on annotated skeletons with simulated estimator noise, cleaned by the refiner; it scores a video
    outside any data set through AerialsPose + the same refiner (--perception), and says so on the sheet."""
    from judgemind.features.cache import FeatureCache
    from judgemind.pose.refine_train import train_refiner

    data, weights, s = learned_run
    r = jm(
        "extract",
        data,
        "--extractor",
        "skeleton",
        "--steps",
        "8",
        "--set",
        "jitter=5",
        "--name",
        "skj",
        "--no-progress",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    ref = tmp_path / "ref"
    train_refiner(
        data, ref, FeatureCache(data, "skj"), steps=4, batch=2, width=16, threads=1, progress=False, log=lambda *a: None
    )
    r = jm(
        "extract",
        data,
        "--extractor",
        "refined",
        "--set",
        "source=skj",
        "--set",
        f"refiner={ref / 'refiner.safetensors'}",
        "--no-progress",
    )
    assert r.returncode == 0, r.stderr[-2000:]
    run = tmp_path / "run"
    r = train_tiny_judge(data, "refined", run)
    assert r.returncode == 0, r.stderr[-2000:]
    rec, alone = copied_outside(data, s, tmp_path)
    out = tmp_path / "sheet"
    r = score(run, alone, rec["action_code"], out, "--weights", weights, "--perception", "aerialspose")
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((out / "result.json").read_text())
    assert "refined" in res["provenance"]["perception"] and "temporal refiner" in res["provenance"]["perception"]
    assert res["final_score"] is not None
    # the refiner the features were made with is needed: moved away, the command says so
    (ref / "refiner.safetensors").rename(tmp_path / "elsewhere.safetensors")
    r = score(run, alone, rec["action_code"], tmp_path / "s2", "--weights", weights, "--perception", "aerialspose")
    assert r.returncode == 2 and "refiner" in r.stderr
