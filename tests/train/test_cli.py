"""`judgemind train` -> `evaluate` -> `predict` end to end through the command line, in a temporary folder."""

from __future__ import annotations

import json
from decimal import Decimal

from judgemind.cli.main import main
from judgemind.rules import score_aerials
from judgemind.runs.calibrate import VERSION


def test_train_evaluate_predict(ref_run, tiny_dataset, cli, capsys):
    run = ref_run  # `judgemind train ...` in a subprocess (conftest)
    cli("evaluate", run, "--split", "test")
    doc = json.loads((run / "eval" / "test-best" / "metrics.json").read_text())
    m = doc["metrics"]
    assert doc["split"] == "test" and doc["n"] == 4 and doc["synthetic"] is True and doc["model"] == "judgemind"
    assert {"score", "final", "components", "segmentation", "deductions"} <= set(m)
    assert {"rho", "l2", "rl2_x100", "mae", "n"} <= set(m["final"])
    assert set(m["components"]) == {"air", "form", "landing"} and "aiou@0.5" in m["segmentation"]["flight"]
    # issue 21: the sheet's listing is measured with the run's deduction calibration (val's calib half)
    cal = json.loads((run / "calibration-best.json").read_text())
    assert cal["version"] == VERSION and len(cal["checkpoint_sha256"]) == 64
    # issue 21 item 4: each interval says its kind; an adaptive one names the signals its difficulty reads
    for key in ("final_score", "air", "form", "landing"):
        e = cal["intervals"][key]
        assert e["kind"] in ("adaptive", "constant") and "constant_q" in e
        assert e["kind"] == "constant" or set(e["difficulty"]["signals"]) and e["difficulty"]["floor"] > 0
    assert cal["intervals"]["final_score"]["scale"] == "dd"
    assert set(doc["intervals"]["final_score"]) >= {"coverage", "width", "kind", "constant"}
    d = m["deductions"]
    assert {"map", "per_class", "precision", "recall", "ece", "clean_items", "clean_stages", "calibrated"} <= set(d)
    assert d["calibrated"] == (cal["deductions"] is not None) and 0 <= d["ece"] <= 1
    if cal["deductions"] is not None:
        assert cal["deductions"]["item_ids"] == list(cal["deductions"]["items"])
        assert all(0.5 <= x["threshold"] <= 0.95 for x in cal["deductions"]["items"].values())
    lines = [json.loads(x) for x in (run / "eval" / "test-best" / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == 4
    for d in lines:
        assert {"id", "score", "score_raw", "components", "bands", "bounds", "deductions", "truth"} <= set(d)
        c = d["components"]
        marks = tuple(
            Decimal(f"{min(max(c[k], 0), top):.1f}") for k, top in (("air", 2.0), ("form", 5.0), ("landing", 3.0))
        )
        expected = score_aerials([marks] * 5, Decimal(str(d["dd"]))).score
        assert abs(Decimal(str(d["score"])) - expected) < Decimal("0.011")  # the rules engine composed it
        assert len(d["deductions"]) == 23 and {"item", "prob", "evidence_step", "evidence_frame"} <= set(
            d["deductions"][0]
        )
        if cal["deductions"] is not None:
            assert {"prob_calibrated", "listed"} <= set(d["deductions"][0])
        b1, b2 = d["bounds"]
        assert 1 <= b1 < b2 <= 15 and d["truth"]["score"] > 0
        iv = d["intervals"]  # the run's 90 % intervals of this record, with their kind
        assert iv["kind"]["final_score"] in ("adaptive", "constant") and set(iv["kind"]) <= set(iv)
        if iv.get("final_score"):
            assert iv["final_score"][0] <= d["score"] + 1e-6 and d["score"] - 1e-6 <= iv["final_score"][1]
    # predict and models in-process (same code path as the command, without another interpreter start)
    assert main(["predict", str(run), "--data", str(tiny_dataset), "--split", "val", "--checkpoint", "last"]) == 0
    out = run / "predict" / "tiny-val-last.jsonl"
    assert len(out.read_text().splitlines()) == 4
    assert main(["models"]) == 0
    listed = capsys.readouterr().out
    assert "judgemind" in listed and "mlp" in listed and "mean" in listed


def test_evaluate_errors_are_one_line(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "run folder" in err and "does not exist" in err and "Traceback" not in err
