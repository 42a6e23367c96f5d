"""result.json's JSON Schema (src/judgemind/data/result.schema.json, draft 2020-12): it describes ScoreResult field by
field, a real result validates, a broken one is refused with the field named, and documents round-trip through
ScoreResult unchanged (hypothesis)."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgemind.data.result import (
    RESULT_SCHEMA_FILE,
    RESULT_SCHEMA_VERSION,
    ScoreResult,
    field_path,
    result_schema,
    validate_result,
)
from judgemind.errors import JudgemindError

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "result" / "result_v1.json"


def real() -> dict:
    return json.loads(REAL.read_text(encoding="utf-8"))


def test_the_schema_ships_in_the_package_and_is_a_draft_2020_12_schema():
    import jsonschema

    assert RESULT_SCHEMA_FILE.parent == Path(__import__("judgemind.data", fromlist=["x"]).__file__).parent
    schema = result_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema_version"] == {"const": RESULT_SCHEMA_VERSION}


def test_the_schema_and_the_dataclass_name_the_same_fields():
    schema = result_schema()
    fields = [f for f in dataclasses.fields(ScoreResult) if not f.name.startswith("_")]
    assert set(schema["properties"]) == {f.name for f in fields}
    required = {f.name for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    assert set(schema["required"]) == required | {"schema_version"}


def test_a_real_result_validates_and_reads_back_equal():
    doc = real()
    validate_result(doc)
    res = ScoreResult.read(REAL)
    assert res == ScoreResult.from_json(doc) and res.to_json() == doc
    assert res.json_text() == REAL.read_text(encoding="utf-8")  # the bytes judgemind score wrote


@pytest.mark.parametrize(
    "path, value, words",
    [
        (["final_score"], 118.14, "final_score: 118.14 is not of type 'string'"),
        (["final_score"], "118,14", "final_score: '118,14' does not match"),
        (["dd"], "-4.4", "dd: '-4.4' does not match"),
        (["J"], 21.4, "J: 21.4 is not of type 'string', 'null'"),
        (["deductions", 0, "probability"], 1.5, "deductions[0].probability: 1.5 is greater than the maximum of 1"),
        (["deductions", 0, "stage"], "entry", "deductions[0].stage: 'entry' is not one of"),
        (["stages", "flight"], [35], "stages.flight: [35] is too short"),
        (["steps", "stage_probs", 0], [0.5, 0.5], "steps.stage_probs[0]: [0.5, 0.5] is too short"),
        (["frames", 0], -1, "frames[0]: -1 is less than the minimum of 0"),
        (["in_distribution"], "yes", "in_distribution: 'yes' is not of type 'boolean'"),
        (["panel", "judges", 0, "air"], 1.5, "panel.judges[0].air: 1.5 is not of type 'string'"),
        (["round", "key"], "abc", "round.key: 'abc' does not match"),
        (["schema_version"], 2, "schema_version: 1 was expected"),
    ],
)
def test_a_broken_result_is_refused_with_the_field_named(path, value, words, tmp_path):
    doc = real()
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(JudgemindError, match="out/j/result.json: not a valid judgemind result") as e:
        validate_result(doc, "out/j/result.json")
    assert words in str(e.value)
    bad = tmp_path / "broken" / "result.json"
    bad.parent.mkdir()
    bad.write_text(json.dumps(doc))
    with pytest.raises(JudgemindError, match=str(bad)):
        ScoreResult.read(bad)
    bad.unlink()  # (the autouse schema check would refuse it too)


def test_missing_and_unknown_keys_are_named():
    doc = real()
    del doc["provenance"]["model"]
    doc["surprise"] = 1
    with pytest.raises(JudgemindError) as e:
        validate_result(doc)
    assert "provenance: 'model' is a required property" in str(e.value)
    assert "'surprise' was unexpected" in str(e.value)
    doc = real()
    del doc["ood_thresholds"]
    with pytest.raises(JudgemindError, match="ood_thresholds"):
        validate_result(doc)


def test_a_file_that_is_not_a_result(tmp_path):
    for text, words in (("[1, 2]", "is not of type 'object'"), ("{", "not a JSON document"), ("", "not a JSON")):
        p = tmp_path / "r.json"
        p.write_text(text)
        with pytest.raises(JudgemindError, match=words):
            ScoreResult.read(p)
    with pytest.raises(JudgemindError, match="does not exist"):
        ScoreResult.read(tmp_path / "none.json")


def test_field_paths_read_like_python():
    assert field_path(["deductions", 0, "probability"]) == "deductions[0].probability"
    assert (
        field_path([]) == "(the document)" and field_path(["steps", "stage_probs", 3, 1]) == "steps.stage_probs[3][1]"
    )


def test_a_result_without_frames_has_no_sheet_but_writes_its_json(tmp_path):
    res = ScoreResult.read(REAL)
    with pytest.raises(JudgemindError, match="carries no frames"):
        res.write_sheet(tmp_path / "o")
    assert not (tmp_path / "o").exists()
    assert res.write_json(tmp_path / "o" / "result.json").read_bytes() == REAL.read_bytes()


# ---------------------------------------------------------------------------------------------------------------
# properties

DECIMALS = st.decimals(min_value=0, max_value=200, places=2, allow_nan=False, allow_infinity=False).map(str)
PROBS = st.floats(min_value=0, max_value=1, allow_nan=False)
DROPPABLE = ("components", "components_raw", "bands", "raw", "all_deduction_probs", "all_deduction_scores", "round")


@st.composite
def valid_documents(draw):
    doc = real()
    doc["final_score"], doc["dd"] = draw(DECIMALS), draw(DECIMALS)
    doc["J"] = draw(st.one_of(st.none(), DECIMALS))
    doc["in_distribution"] = draw(st.booleans())
    doc["deduction_threshold"] = draw(st.one_of(st.none(), PROBS))
    doc["deductions"][0]["probability"] = draw(st.one_of(st.none(), PROBS))
    a = draw(st.integers(0, 10_000))
    b1, b2, b3 = sorted(draw(st.lists(st.integers(a + 1, a + 5000), min_size=3, max_size=3, unique=True)))
    doc["frames"] = [a, b3]
    doc["stages"] = draw(st.sampled_from([None, {"takeoff": [a, b1], "flight": [b1, b2], "landing": [b2, b3]}]))
    doc["notes"] = draw(st.lists(st.text(max_size=20), max_size=3))
    doc["video_name"] = draw(st.text(min_size=1, max_size=30))
    for key in draw(st.lists(st.sampled_from(DROPPABLE), unique=True)):
        doc.pop(key)
    if draw(st.booleans()):  # a run without an OOD reference says why instead
        doc.pop("ood_thresholds")
        doc = {**{k: v for k, v in doc.items() if k not in ("panel", "round")}, "ood_note": draw(st.text(max_size=30))}
        doc["panel"] = None
    return doc


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(valid_documents())
def test_valid_documents_validate_and_round_trip(doc):
    validate_result(doc)
    res = ScoreResult.from_json(doc)
    assert res.to_json() == {
        "schema_version": RESULT_SCHEMA_VERSION,
        **{k: v for k, v in doc.items() if k != "schema_version"},
    }
    again = ScoreResult.from_json(json.loads(res.json_text()))
    assert again == res and again.json_text() == res.json_text()


# typed leaves of the real document and a JSON value of a type each must refuse
TYPED = {
    ("final_score",): "string",
    ("dd",): "string",
    ("components", "air"): "string",
    ("components_raw", "form"): "number",
    ("bands", "landing", "official"): "boolean",
    ("frames", 1): "integer",
    ("stages", "takeoff", 0): "integer",
    ("cuts", 0): "integer",
    ("deductions", 0, "listed"): "boolean",
    ("deductions", 0, "evidence_frame"): "integer",
    ("deductions", 0, "name"): "string",
    ("deduction_calibration", "calibrated"): "boolean",
    ("steps", "frame_index", 0): "integer",
    ("steps", "stage_probs", 2, 1): "number",
    ("provenance", "checkpoint"): "string",
    ("notes", 0): "string",
    ("intervals", "level"): "number",
    ("in_distribution",): "boolean",
    ("ood_reasons", 0): "string",
    ("ood_signals", "stage_doubt"): "number",
    ("panel", "official_score"): "string",
    ("panel", "judges", 2, "total"): "string",
    ("all_deduction_probs", "crash"): "number",
    ("round", "checkpoint"): "string",
}
NULLABLE = {("ood_signals", "stage_doubt")}
OF_TYPE = {
    "string": st.text(max_size=5),
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "integer": st.integers(),
    "boolean": st.booleans(),
    "object": st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    "array": st.lists(st.integers(), max_size=2),
    "null": st.none(),
}


@st.composite
def broken_documents(draw):
    path = draw(st.sampled_from(sorted(TYPED, key=str)))
    kind = TYPED[path]
    allowed = {kind, "integer"} if kind == "number" else {kind}
    if kind == "integer":
        allowed.add("number")  # (a generated float may be whole: JSON Schema counts 3.0 as an integer)
    if path in NULLABLE:
        allowed.add("null")
    wrong = draw(st.sampled_from(sorted(set(OF_TYPE) - allowed)))
    doc = real()
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = draw(OF_TYPE[wrong])
    return doc, field_path(list(path))


@settings(max_examples=80, deadline=None, derandomize=True)
@given(broken_documents())
def test_a_field_of_the_wrong_type_is_refused_and_named(case):
    doc, name = case
    with pytest.raises(JudgemindError) as e:
        validate_result(doc)
    assert f"{name}: " in str(e.value)


def test_a_copy_of_a_valid_document_is_not_changed_by_validation():
    doc = real()
    before = copy.deepcopy(doc)
    validate_result(doc)
    assert doc == before
