"""data.result.ScoreResult: the one typed, frozen result of a scored jump; to_json() is today's result.json plus
``schema_version``, in the same key order, and from_json(to_json()) gives the same result back."""

from __future__ import annotations

import dataclasses
import json

import pytest

from judgemind.data.result import RESULT_SCHEMA_VERSION, ScoreResult
from judgemind.errors import JudgemindError

# a result.json as judgemind score wrote it before the type existed (keys in their order)
DOC = {
    "video": "videos/j.mp4",
    "video_name": "j.mp4",
    "frames": [0, 90],
    "fps": 25.0,
    "action_code": "bFdFF",
    "code_description": "full - double full - full",
    "dd": "4.425",
    "components": {"air": "1.8", "form": "4.4", "landing": "2.7"},
    "components_raw": {"air": 1.81, "form": 4.38, "landing": 2.69},
    "bands": {"air": {"name": "good"}},
    "J": "26.7",
    "final_score": "118.14",
    "raw": "118.1475",
    "all_deduction_probs": {"bent_knees": 0.8},
    "stages": {"takeoff": [0, 30], "flight": [30, 70], "landing": [70, 90]},
    "deductions": [{"item": "bent_knees", "evidence_frame": 50}],
    "deduction_threshold": 0.3,
    "cuts": [],
    "steps": {"frame_index": [2, 6], "stage_probs": None},
    "provenance": {"model": "judgemind"},
    "notes": ["n"],
    "intervals": {"level": 0.9},
    "in_distribution": True,
    "ood_reasons": [],
    "ood_signals": {"stage_doubt": 0.1},
    "ood_thresholds": {"stage_doubt": 0.5},
    "panel": None,
}


def test_to_json_is_todays_document_plus_the_schema_version():
    res = ScoreResult.from_json(DOC)
    out = res.to_json()
    assert list(out) == ["schema_version", *DOC]
    assert out == {"schema_version": RESULT_SCHEMA_VERSION, **DOC}
    assert ScoreResult.from_json(json.loads(json.dumps(out))) == res


def test_keys_only_some_results_have_stay_absent_or_keep_their_place():
    # a model without components: no components, bands, raw; no OOD reference: ood_note instead of thresholds
    doc = {
        k: v
        for k, v in DOC.items()
        if k not in ("components", "components_raw", "bands", "raw", "ood_thresholds", "all_deduction_probs")
    }
    doc = {**doc, "J": None}
    doc = dict(list(doc.items())[:-1]) | {"ood_note": "only the athlete-track check ran", "panel": None}
    out = ScoreResult.from_json(doc).to_json()
    assert list(out) == ["schema_version", *doc] and out["J"] is None and "ood_thresholds" not in out
    # a round's jump and the demo's truth come last
    res = ScoreResult.from_json(DOC).with_(round={"code": "bFF"})
    assert list(res.to_json())[-1] == "round"


def test_the_result_is_frozen_and_read_by_attribute():
    res = ScoreResult.from_json(DOC)
    assert res.final_score == "118.14" and res.components["landing"] == "2.7" and res.panel is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.final_score = "0"


@pytest.mark.parametrize(
    "change, words",
    [
        ({"final_score": None, "extra_key": 1}, "unknown extra_key"),
        ({"schema_version": 99}, "schema_version 99"),
    ],
)
def test_a_document_that_is_not_a_result_is_named(change, words):
    with pytest.raises(JudgemindError, match=words):
        ScoreResult.from_json({**DOC, **change}, "out/j/result.json")
    doc = dict(DOC)
    doc.pop("video")
    with pytest.raises(JudgemindError, match=r"out/j/result.json: .*missing video"):
        ScoreResult.from_json(doc, "out/j/result.json")
