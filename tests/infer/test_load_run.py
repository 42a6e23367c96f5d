"""judgemind.infer on a toy run: a run is read once (the exemplar model's training split included), evaluate and
predict give the same official scores, the composer is the rules' one, bad checkpoints say what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from judgemind.cli.main import main
from judgemind.errors import CheckpointError, JudgemindError


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    from judgemind.train.toy import make_toy_dataset

    root = tmp_path_factory.mktemp("infer")
    data = make_toy_dataset(root / "data", n=24, steps=8, dim=8)
    run = root / "run"
    assert (
        main(
            [
                "train",
                "--data",
                str(data),
                "--features",
                "toy",
                "--model",
                "codeprior",
                "--epochs",
                "1",
                "--threads",
                "1",
                "--out",
                str(run),
            ]
        )
        == 0
    )
    return data, run


def test_a_run_is_read_once(toy_run, monkeypatch):
    import judgemind.infer.run as TD  # load_run and evaluate_split read splits through infer.run's load_feature_split
    from judgemind.infer import evaluate_split, load_run, predict_dataset

    data, run_dir = toy_run
    reads = []
    real = TD.load_feature_split
    monkeypatch.setattr(
        TD, "load_feature_split", lambda cache, recs, info, name: reads.append(name) or real(cache, recs, info, name)
    )
    run = load_run(run_dir / "best.pt")
    assert run.checkpoint == "best" and run.run_dir == run_dir and run.manifest["extractor"] == "toy"
    assert reads == ["train"]  # the exemplars, attached at load
    ev = evaluate_split(run, "test")
    lines = predict_dataset(run, data, "test")
    assert reads == ["train", "test", "test"]  # nothing read twice for the model
    assert [x["score"] for x in ev.lines] == [x["score"] for x in lines]
    assert ev.doc["n"] == len(lines) and ev.doc["checkpoint"] == "best"


def test_prediction_scores_are_the_composers(toy_run):
    from judgemind.infer import evaluate_split, load_run
    from judgemind.rules import compose_official

    _, run_dir = toy_run
    ev = evaluate_split(load_run(run_dir), "test")
    for line in ev.lines:
        want = compose_official(line["score_raw"], str(line["dd"]), "aerials5").score
        # score_raw is rounded to 4 places in the file: equal unless the raw score sits on a cent boundary
        assert abs(float(want) - line["score"]) < 0.011
    assert np.isfinite(ev.doc["metrics"]["final"]["rho"]) or ev.doc["n"] < 3


def test_bad_checkpoints(toy_run, tmp_path):
    from judgemind.infer import load_run, run_dir_of

    _, run_dir = toy_run
    with pytest.raises(CheckpointError, match="does not exist"):
        run_dir_of(tmp_path / "none.pt")
    (tmp_path / "model.pt").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="expected RUN/best.pt"):
        run_dir_of(tmp_path / "model.pt")
    assert run_dir_of(run_dir) == (run_dir, "best")
    with pytest.raises(JudgemindError, match="best or last"):
        load_run(run_dir, "middle")
    with pytest.raises(JudgemindError, match="does not exist"):
        load_run(tmp_path / "no_run", "best")
