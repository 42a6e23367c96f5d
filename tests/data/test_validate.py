"""`validate_dataset` catches each kind of bad input and names the record, the field and the rule."""

from __future__ import annotations

import copy

import pytest

from judgemind.data import validate_dataset


def _errors(problems):
    return [p for p in problems if p.level == "error"]


def _has(problems, record, field, rule, line=None):
    hits = [p for p in _errors(problems) if p.record == record and p.field == field and p.rule == rule]
    assert hits, f"expected an error for {record!r} {field!r} [{rule}], got:\n" + "\n".join(map(str, problems))
    if line is not None:
        assert hits[0].line == line
    return hits[0]


def test_valid_record_passes_with_its_video(dataset_dir, record_dict):
    root = dataset_dir([record_dict()])
    ds, problems = validate_dataset(root, check_videos=True)
    assert problems == []
    assert len(ds) == 1 and ds.records[0].id == "jump_0001"


def _with_judge(record_dict, i, component, value):
    d = record_dict()
    d["judges"][i][component] = value
    return d


@pytest.mark.parametrize(
    "make, field, rule",
    [
        (lambda r: r(dd=None), "dd", "required"),
        (lambda r: r(judges=None), "judges", "required"),
        (lambda r: r(dd="high"), "dd", "type"),
        (lambda r: r(frames="0-10"), "frames", "type"),
        (lambda r: r(judges={"air": 1.8}), "judges", "type"),
        (lambda r: _with_judge(r, 0, "air", 2.3), "judges[0].air", "marks"),
        (lambda r: _with_judge(r, 2, "landing", -0.1), "judges[2].landing", "marks"),
        (lambda r: _with_judge(r, 1, "form", 4.25), "judges[1].form", "marks"),
        (lambda r: r(action_code="bXq"), "action_code", "action_code"),
        (
            lambda r: r(deductions=[{"item": "bent_knee", "stage": "flight", "points": 0.3}]),
            "deductions[0].item",
            "catalogue",
        ),
        (
            lambda r: r(deductions=[{"item": "bent_knees", "stage": "landing", "points": 0.3}]),
            "deductions[0].stage",
            "catalogue",
        ),
        (lambda r: r(stages={"takeoff": [0, 3], "flight": [2, 7], "landing": [7, 10]}), "stages.flight", "order"),
        (lambda r: r(stages={"takeoff": [0, 3], "flight": [4, 7], "landing": [7, 10]}), "stages.flight", "order"),
        (lambda r: r(stages={"takeoff": [0, 3], "flight": [3, 7], "landing": [7, 12]}), "stages.landing", "interval"),
        (lambda r: r(video="../x.mp4"), "video", "path"),
        (lambda r: r(video="/tmp/x.mp4"), "video", "path"),
        (lambda r: r(final_score=118.15), "final_score", "final_score"),
        (lambda r: r(dd=4.9), "final_score", "final_score"),
        (lambda r: r(judges=[{"air": 1.8, "form": 4.4, "landing": 2.7}] * 4), "judges", "marks"),
        (lambda r: r(colour="red"), "colour", "schema"),
    ],
    ids=[
        "missing-field",
        "missing-judges",
        "mistyped-dd",
        "mistyped-frames",
        "mistyped-judges",
        "air-too-high",
        "landing-negative",
        "form-not-tenth",
        "unknown-code",
        "unknown-deduction",
        "deduction-wrong-stage",
        "stages-overlap",
        "stages-gap",
        "stage-outside-frames",
        "video-escapes",
        "video-absolute",
        "final-score",
        "final-score-dd",
        "four-judges",
        "unknown-field",
    ],
)
def test_each_bad_record_is_named(dataset_dir, record_dict, make, field, rule):
    root = dataset_dir([record_dict(id="ok_0001"), make(record_dict)], splits={"train": ["ok_0001", "jump_0001"]})
    _, problems = validate_dataset(root, check_videos=False)
    _has(problems, "jump_0001", field, rule, line=2)
    assert not [p for p in _errors(problems) if p.record == "ok_0001"]


def test_stage_outside_the_video(dataset_dir, record_dict):
    rec = record_dict(frames=[0, 20], stages={"takeoff": [0, 3], "flight": [3, 7], "landing": [7, 20]})
    root = dataset_dir([rec])  # the video has 10 frames
    _, problems = validate_dataset(root, check_videos=True)
    p = _has(problems, "jump_0001", "stages.landing", "video", line=1)
    assert "10 frames" in p.message
    _has(problems, "jump_0001", "frames", "video")
    _, problems = validate_dataset(root, check_videos=False)  # without videos nothing to check against
    assert _errors(problems) == []


def test_missing_and_broken_video(dataset_dir, record_dict):
    root = dataset_dir(
        [
            record_dict(),
            record_dict(id="jump_0002", video="videos/none.mp4"),
            record_dict(id="jump_0003", video="videos/bad.mp4"),
        ],
        video=True,
    )
    (root / "videos" / "bad.mp4").write_bytes(b"not a video at all")
    _, problems = validate_dataset(root, check_videos=True)
    _has(problems, "jump_0002", "video", "video", line=2)
    _has(problems, "jump_0003", "video", "video", line=3)
    assert not [p for p in problems if p.record == "jump_0001"]


def test_malformed_jsonl_line_has_its_line_number(dataset_dir, record_dict):
    root = dataset_dir(
        [record_dict(), '{"id": "jump_0002", "video": ', record_dict(id="jump_0003")],
        splits={"train": ["jump_0001", "jump_0003"]},
    )
    _, problems = validate_dataset(root, check_videos=False)
    (p,) = _errors(problems)
    assert (p.line, p.rule, p.record) == (2, "json", None)
    assert "annotations.jsonl:2" in str(p)


def test_duplicate_id(dataset_dir, record_dict):
    root = dataset_dir([record_dict(), record_dict()])
    _, problems = validate_dataset(root, check_videos=False)
    p = _has(problems, "jump_0001", "id", "unique", line=2)
    assert "line 1" in p.message


def test_split_naming_a_missing_record(dataset_dir, record_dict):
    root = dataset_dir([record_dict()], splits={"train": ["jump_0001"], "test": ["jump_9999"]})
    _, problems = validate_dataset(root, check_videos=False)
    (p,) = _errors(problems)
    assert (p.field, p.rule) == ("splits.test", "splits") and "jump_9999" in p.message


def test_record_in_two_splits(dataset_dir, record_dict):
    root = dataset_dir([record_dict()], splits={"train": ["jump_0001"], "test": ["jump_0001"]})
    _, problems = validate_dataset(root, check_videos=False)
    assert [p.rule for p in _errors(problems)] == ["splits"]


def test_empty_dataset(dataset_dir):
    root = dataset_dir([], splits={})
    _, problems = validate_dataset(root, check_videos=False)
    assert [p.rule for p in _errors(problems)] == ["empty"]


def test_known_score_mismatch_is_a_warning(dataset_dir, record_dict):
    root = dataset_dir([record_dict(final_score=118.15, extra={"score_mismatch": "published score mistyped"})])
    _, problems = validate_dataset(root, check_videos=False)
    assert _errors(problems) == []
    (w,) = problems
    assert (w.level, w.field, w.rule) == ("warning", "final_score", "final_score")
    assert "published score mistyped" in w.message


def test_all_problems_of_a_file_reported_together(dataset_dir, record_dict):
    bad = [record_dict(id=f"j{i}", video="../x.mp4") for i in range(5)]
    root = dataset_dir(bad)
    _, problems = validate_dataset(root, check_videos=False)
    assert sorted(p.record for p in _errors(problems)) == [f"j{i}" for i in range(5)]


def test_missing_folder_and_dataset_json(tmp_path):
    _, problems = validate_dataset(tmp_path / "nope")
    assert problems[0].rule == "exists"
    tmp_path.joinpath("empty").mkdir()
    _, problems = validate_dataset(tmp_path / "empty")
    assert problems[0].rule == "exists" and "dataset.json" in problems[0].message


def test_diving_record_rules(dataset_dir):
    dive = {
        "id": "d1",
        "video": "videos/d1.mp4",
        "frames": [0, 10],
        "action_code": "407c",
        "dd": 3.2,
        "stages": {"takeoff": [0, 3], "flight": [3, 7], "landing": [7, 10]},
        "judges": [{"score": s} for s in (7.5, 8.0, 8.0, 8.5, 7.0, 9.0, 8.0)],
        "final_score": 76.8,
    }
    bad = copy.deepcopy(dive)
    bad.update(id="d2", action_code="9xx", judges=[{"score": 7.3}] * 7)
    root = dataset_dir([dive, bad], scoring="diving", video=False)
    _, problems = validate_dataset(root, check_videos=False)
    assert not [p for p in problems if p.record == "d1"]
    _has(problems, "d2", "action_code", "action_code")
    _has(problems, "d2", "judges[0].score", "marks")
