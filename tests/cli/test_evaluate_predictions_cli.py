"""`judgemind evaluate-predictions`: end to end through a subprocess, error paths in-process."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

from judgemind.cli.main import main

PRED = np.array([1.0, 2.0, 3.0, 5.0, 4.0])
TRUE = np.array([0.0, 2.0, 4.0, 4.0, 5.0])


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", "evaluate-predictions", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def arrays(tmp_path):
    np.save(tmp_path / "pred.npy", PRED)
    np.save(tmp_path / "true.npy", TRUE)
    return tmp_path / "pred.npy", tmp_path / "true.npy"


def test_subprocess_prints_metrics_and_json(arrays, tmp_path):
    from judgemind.evaluate import evaluate_scores

    pred, true = arrays
    expected = evaluate_scores(PRED, TRUE)
    res = _cli(pred, true, "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    for key in ("rho", "l2", "rl2_x100", "mae"):
        assert out[key] == pytest.approx(expected[key])
    assert out["n"] == 5 and out["pred_file"] == str(pred)

    res = _cli(pred, tmp_path / "missing.npy", cwd=tmp_path)
    assert res.returncode == 2
    assert "missing.npy" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_golden_tsa_through_subprocess(tmp_path):
    from shared_paths import FIXTURES

    folder = FIXTURES / "reference_predictions" / "TSA"
    res = _cli(folder / "pred.npy", folder / "true.npy", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    lines = dict(line.rsplit(None, 1) for line in res.stdout.splitlines())
    assert lines["rho"] == "0.9212"
    assert lines["L2"] == "36.73"
    assert lines["R-l2 x100"] == "0.3370"
    assert lines["n"] == "749"


def test_table_output_and_classes(arrays, tmp_path, capsys):
    pred, true = arrays
    np.save(tmp_path / "classes.npy", np.array(["a", "a", "b", "b", "b"]))
    assert main(["evaluate-predictions", str(pred), str(true), "--classes", str(tmp_path / "classes.npy")]) == 0
    out = capsys.readouterr().out
    for label in ("rho", "L2", "R-l2 x100", "MAE", "n", "avg rho (Fisher z)"):
        assert label in out

    argv = ["evaluate-predictions", str(pred), str(true), "--json", "--classes", str(tmp_path / "classes.npy")]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["per_class_rho"]) == {"a", "b"}
    assert out["per_class_rho"]["a"] == pytest.approx(1.0)
    assert out["per_class_rho"]["b"] == pytest.approx(0.0, abs=1e-12)  # ranks (1,3,2) vs (1.5,1.5,3)
    assert out["avg_rho_fisher_z"] is not None


def _error(capsys, argv):
    code = main(["evaluate-predictions", *map(str, argv)])
    err = capsys.readouterr().err
    assert code == 2
    return err


def test_bad_files_are_named(arrays, tmp_path, capsys):
    pred, true = arrays

    err = _error(capsys, [tmp_path / "nope.npy", true])
    assert "PRED file" in err and "nope.npy" in err and "does not exist" in err

    text = tmp_path / "scores.csv"
    text.write_text("1,2,3\n")
    err = _error(capsys, [pred, text])
    assert "TRUE file" in err and "scores.csv" in err and "not a .npy file" in err

    pickled = tmp_path / "obj.npy"
    np.save(pickled, np.array([1.0, "x", None], dtype=object), allow_pickle=True)
    err = _error(capsys, [pickled, true])
    assert "obj.npy" in err and "pickled object array" in err

    raw_pickle = tmp_path / "raw.npy"
    raw_pickle.write_bytes(pickle.dumps([1.0, 2.0]))
    err = _error(capsys, [raw_pickle, true])
    assert "raw.npy" in err and "not a .npy file" in err

    short = tmp_path / "short.npy"
    np.save(short, PRED[:3])
    err = _error(capsys, [short, true])
    assert "short.npy" in err and "true.npy" in err and "(3,)" in err and "(5,)" in err

    two_d = tmp_path / "two_d.npy"
    np.save(two_d, PRED.reshape(5, 1))
    err = _error(capsys, [two_d, true])
    assert "two_d.npy" in err and "1-D" in err

    with_nan = tmp_path / "nan.npy"
    np.save(with_nan, np.array([1.0, np.nan, 3.0, 4.0, 5.0]))
    err = _error(capsys, [pred, with_nan])
    assert "nan.npy" in err and "index 1" in err

    classes = tmp_path / "classes.npy"
    np.save(classes, np.array([0, 1]))
    err = _error(capsys, [pred, true, "--classes", classes])
    assert "CLASSES file" in err and "classes.npy" in err
