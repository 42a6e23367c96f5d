"""Issue 21: deductions on the judge sheet and in result.json -- calibrated probabilities listed at each item's
threshold, ranked by expected points, exclusive groups on one line, "uncalibrated" scores for a run without
calibration, nothing listed as likely on a flagged video; a calibration of another run is refused."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from judgemind.data.result import ScoreResult
from judgemind.errors import CheckpointError
from judgemind.infer.run import load_calibration
from judgemind.infer.score import deduction_evidence, suppress_deductions
from judgemind.report.sheet import render_sheet
from judgemind.rules import load_catalogue
from judgemind.runs import calibrate as C
from judgemind.utils.atomic import sha256_file

CAT = load_catalogue()
IDS = list(CAT.ids)
K = len(IDS)


def _info():
    return SimpleNamespace(item_ids=tuple(IDS), item_stages=tuple(i.stage for i in CAT))


def _out(probs: dict, points: dict | None = None) -> dict:
    raw = np.full(K, 0.05)
    for i, p in probs.items():
        raw[IDS.index(i)] = p
    pts = None if points is None else np.array([points.get(i, 0.5) for i in IDS])
    return {"deduction_probs": raw, "deduction_step": np.arange(K) % 4, "item_points": pts}


def _cal(thr: float = 0.5) -> dict:
    """A calibration document with the identity map and one threshold for every item."""
    items = {
        i: {"a": 1.0, "b": 0.0, "fit": "item", "threshold": thr, "rule": "item", "exclusive_group": it.exclusive_group}
        for i, it in zip(IDS, CAT)
    }
    return {"split": "val:calib", "deductions": {"n": 40, "item_ids": IDS, "items": items, "method": "m"}}


def _evidence(out, cal=None, threshold=None):
    rule = C.deduction_rule(cal, IDS)
    return deduction_evidence(out, np.arange(0, 40, 4), _info(), rule, threshold, cal)


def test_calibrated_items_are_listed_at_their_thresholds_ranked_by_expected_points():
    out = _out({"legs_apart": 0.6, "crash": 0.55, "bent_knees": 0.3}, {"legs_apart": 0.4, "crash": 2.0})
    ev = _evidence(out, _cal())
    listed = [d["item"] for d in ev["deductions"] if d["listed"]]
    assert listed == ["crash", "legs_apart"]  # 0.55 x 2.0 before 0.6 x 0.4; bent knees below 0.5
    crash = ev["deductions"][0]
    assert crash["probability"] == 0.55 and crash["expected_points"] == pytest.approx(1.1) and crash["threshold"] == 0.5
    assert ev["deduction_calibration"]["calibrated"] and ev["deduction_threshold"] is None
    assert set(ev["all_deduction_probs"]) == set(IDS) == set(ev["all_deduction_scores"])


def test_an_exclusive_group_is_one_line_with_its_most_probable_member():
    ev = _evidence(_out({"short_flight": 0.7, "long_flight": 0.65, "pike_in_layout": 0.8}), _cal())
    listed = {d["item"]: d for d in ev["deductions"] if d["listed"]}
    assert (
        "short_flight" in listed and "long_flight" not in listed and listed["short_flight"]["group"] == "flight length"
    )
    assert ev["deduction_calibration"]["groups"]["flight length"] == ["short_flight", "long_flight"]
    res = _result(ev)
    html = render_sheet(res, [])
    assert "flight length: short flight" in html and "data-item='long_flight'" not in html
    assert "70%" in html and "Likely deductions" in html


def test_nothing_above_threshold_shows_the_most_likely_item_unlisted():
    ev = _evidence(_out({"legs_apart": 0.3}), _cal())
    assert [(d["item"], d["listed"]) for d in ev["deductions"]] == [("legs_apart", False)]
    assert "no-confident-deduction" in render_sheet(_result(ev), [])


def test_an_uncalibrated_run_shows_scores_not_probabilities():
    ev = _evidence(_out({"legs_apart": 0.75, "short_flight": 0.52, "long_flight": 0.51}))
    d = ev["deductions"]
    assert not ev["deduction_calibration"]["calibrated"] and ev["all_deduction_probs"] is None
    assert all(x["probability"] is None for x in d) and d[0]["score"] == 0.75
    assert [x["item"] for x in d if x["listed"]] == ["legs_apart", "short_flight"]  # 0.3 on the raw score, grouped
    html = render_sheet(_result(ev), [])
    assert "deductions-uncalibrated" in html and "Uncalibrated" in html and "score 0.75" in html
    assert "data-calibrated='false'" in html and "Probability" not in html and "75%" not in html


def test_a_flagged_sheet_lists_no_deduction_as_likely():
    ev = _evidence(_out({"crash": 0.95}), _cal())
    res = _result(ev, in_distribution=False)
    assert all(not d["listed"] for d in res.deductions)
    assert "suppressed" in res.deduction_calibration
    html = render_sheet(res, [])
    assert "deductions-suppressed" in html and "Likely deductions" not in html and "data-listed='true'" not in html


def _result(ev: dict, in_distribution: bool = True) -> ScoreResult:
    doc = {
        "video": "v.mp4",
        "video_name": "v.mp4",
        "frames": [0, 40],
        "fps": 25.0,
        "action_code": "bFF",
        "code_description": None,
        "dd": "3.5",
        "J": "25.0",
        "final_score": "87.50",
        "all_deduction_probs": ev.get("all_deduction_probs"),
        "all_deduction_scores": ev.get("all_deduction_scores"),
        "stages": None,
        "deductions": ev["deductions"],
        "deduction_threshold": ev.get("deduction_threshold"),
        "deduction_calibration": ev.get("deduction_calibration"),
        "cuts": [],
        "steps": {"frame_index": [], "stage_probs": None},
        "provenance": {},
        "notes": [],
        "intervals": {"level": 0.9},
        "in_distribution": in_distribution,
        "ood_reasons": [] if in_distribution else ["far"],
        "ood_signals": {},
        "ood_thresholds": None,
        "panel": None,
    }
    if not in_distribution:
        suppress_deductions(doc)
    res = ScoreResult.from_json(doc)
    assert ScoreResult.from_json(json.loads(json.dumps(res.to_json()))) == res
    return res


# -- a stored calibration must describe the run ---------------------------------------------------------------------


def _run(tmp_path, ids=IDS):
    (tmp_path / "best.pt").write_bytes(b"checkpoint bytes")
    return SimpleNamespace(
        run_dir=tmp_path,
        checkpoint="best",
        info=SimpleNamespace(item_ids=tuple(ids)),
        cfg=SimpleNamespace(run=SimpleNamespace(end_to_end=True)),
        ck={"epoch": 0},
    )


def _store(tmp_path, **extra):
    doc = {"version": C.VERSION, "split": "val:calib", "n": 4, "deductions": _cal()["deductions"], **extra}
    C.calibration_path(tmp_path, "best").write_text(json.dumps(doc))


def test_a_matching_calibration_is_read(tmp_path):
    run = _run(tmp_path)
    _store(tmp_path, checkpoint_sha256=sha256_file(tmp_path / "best.pt"))
    doc, note = load_calibration(run)
    assert note is None and C.deduction_rule(doc, IDS) is not None


def test_a_calibration_of_another_checkpoint_is_refused(tmp_path):
    run = _run(tmp_path)
    _store(tmp_path, checkpoint_sha256="0" * 64)
    with pytest.raises(CheckpointError, match=r"another best.pt.*judgemind evaluate"):
        load_calibration(run)
    # evaluate recalibrates instead (an end-to-end run: nothing to compute, so no calibration and a note)
    doc, note = load_calibration(run, recalibrate=True)
    assert doc is None and "end-to-end" in note


def test_a_calibration_of_other_deduction_items_is_refused(tmp_path):
    run = _run(tmp_path, ids=IDS[:-1])
    _store(tmp_path, checkpoint_sha256=sha256_file(tmp_path / "best.pt"))
    with pytest.raises(CheckpointError, match=r"deduction items .* are not the model's .*re-run `judgemind evaluate"):
        load_calibration(run)
