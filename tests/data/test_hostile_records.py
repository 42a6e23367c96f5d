"""Issue 14: hostile values in annotation files and pickles give one error naming the file/record/field -- never a
hang, a traceback or a crash later in the pipeline (classes 2, 6, 9, 12)."""

from __future__ import annotations

import json
import pickle
import time

import pytest
from record_files import aerials_record_dict, write_folder

from judgemind.data import validate_dataset
from judgemind.data.safe_pickle import safe_loads_pickle
from judgemind.errors import JudgemindError


def _errors(problems):
    return [p for p in problems if p.level == "error"]


def test_huge_exponent_in_frames_does_not_hang(tmp_path):
    """Class 2: `"frames": [0, 1e400000000]` used to hang `data validate` (int() of a huge Decimal)."""
    line = json.dumps(aerials_record_dict()).replace('"frames": [0, 10]', '"frames": [0, 1e400000000]')
    line = line.replace('"dd": 4.425', '"dd": 1e999999999')
    root = write_folder(tmp_path / "ds", [line])
    t0 = time.perf_counter()
    _, problems = validate_dataset(root, check_videos=False)
    assert time.perf_counter() - t0 < 5
    fields = {(p.field, p.rule) for p in _errors(problems)}
    assert ("frames[1]", "range") in fields and ("dd", "range") in fields


def test_integer_of_5000_digits_is_a_json_problem(tmp_path):
    line = json.dumps(aerials_record_dict()).replace('"frames": [0, 10]', '"frames": [0, ' + "9" * 5000 + "]")
    root = write_folder(tmp_path / "ds", [line])
    _, problems = validate_dataset(root, check_videos=False)
    assert any(p.rule == "json" and p.line == 1 for p in problems)


@pytest.mark.parametrize(
    "rid, why",
    [
        ("x" * 250, "characters"),
        ("a\ud800b", "surrogate"),
        ("tab\there", "control character"),
        (" padded", "white space"),
    ],
)
def test_ids_that_cannot_become_file_names_are_refused(tmp_path, rid, why):
    """Class 6: ids that passed validation and crashed later (file name too long, lone surrogate)."""
    root = write_folder(tmp_path / "ds", [aerials_record_dict(id=rid)], splits={"train": []})
    _, problems = validate_dataset(root, check_videos=False)
    hits = [p for p in _errors(problems) if p.field == "id" and p.rule == "id"]
    assert hits and why in hits[0].message
    str(hits[0]).encode("utf-8")  # printable: the report itself must not crash


def test_nul_byte_in_video_is_refused(tmp_path):
    root = write_folder(tmp_path / "ds", [aerials_record_dict(video="videos/a\u0000.mp4")])
    _, problems = validate_dataset(root, check_videos=True)
    assert any(p.field == "video" and "control character" in p.message for p in _errors(problems))


def test_duplicate_id_inside_one_split(tmp_path):
    root = write_folder(tmp_path / "ds", [aerials_record_dict()], splits={"train": ["jump_0001", "jump_0001"]})
    _, problems = validate_dataset(root, check_videos=False)
    assert any(p.rule == "unique" and p.field == "splits.train" for p in _errors(problems))


@pytest.mark.parametrize("fps", ["1e999", "NaN", "Infinity", "-1", '"25"', "true"])
def test_fps_must_be_a_finite_positive_number(tmp_path, fps):
    """Class 12: fps 1e999 used to become Infinity in a feature manifest."""
    root = write_folder(tmp_path / "ds", [aerials_record_dict()])
    meta = (root / "dataset.json").read_text().replace('"fps": 25', f'"fps": {fps}')
    (root / "dataset.json").write_text(meta)
    _, problems = validate_dataset(root, check_videos=False)
    assert any(p.field == "fps" for p in _errors(problems))


class _Huge:
    def __reduce__(self):
        return (bytearray, (10**15,))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_pickle_asking_for_a_huge_allocation_is_refused(protocol):
    """Class 9: an allowed `bytearray(10**15)` raised MemoryError."""
    with pytest.raises(JudgemindError, match="larger than one pickled object"):
        safe_loads_pickle(pickle.dumps(_Huge(), protocol=protocol))


def test_pickle_array_of_huge_shape_is_refused():
    import numpy as np

    data = pickle.dumps(np.zeros(3), protocol=2).replace(b"K\x03\x85", b"J\x00\x00\x00\x7f\x85")
    with pytest.raises(JudgemindError):
        safe_loads_pickle(data)


def test_pickle_file_size_limit(tmp_path, monkeypatch):
    p = tmp_path / "big.pkl"
    p.write_bytes(pickle.dumps(list(range(1000))))
    monkeypatch.setenv("JUDGEMIND_MAX_PICKLE_BYTES", "100")
    from judgemind.data.safe_pickle import safe_load_pickle

    with pytest.raises(JudgemindError, match="JUDGEMIND_MAX_PICKLE_BYTES"):
        safe_load_pickle(p)
    for bad in (tmp_path, tmp_path / "nope.pkl"):
        with pytest.raises(JudgemindError, match="folder|no such"):
            safe_load_pickle(bad)


def _finediving_folder(tmp_path, coarse_sample=None, fine_sample=None):
    """A minimal FineDiving annotation folder with one sample whose fields can be replaced."""
    key = ("FINADivingWorldCup2021_Men3m_final_r1", 1)
    coarse = {
        "start_frame": 0,
        "end_frame": 9,
        "judge_scores": [7.0] * 7,
        "difficulty": 2.0,
        "dive_score": 42.0,
        "action_type": "107B",
        **(coarse_sample or {}),
    }
    fine = {"frames_labels": [1, 1, 2, 2, 2, 2, 3, 3, 3, 3], **(fine_sample or {})}
    d = tmp_path / "Annotations"
    d.mkdir()
    for name, obj in (
        ("FineDiving_coarse_annotation.pkl", {key: coarse}),
        ("FineDiving_fine-grained_annotation.pkl", {key: fine}),
        ("Sub_action_Types_Table.pkl", {1: "Forward", 2: "Pike", 3: "Entry"}),
        ("train_split.pkl", [key]),
        ("test_split.pkl", []),
    ):
        (d / name).write_bytes(pickle.dumps(obj))
    return d


@pytest.mark.parametrize(
    "coarse, fine",
    [
        ({"start_frame": [1]}, None),
        ({"end_frame": "x"}, None),
        ({"judge_scores": 7}, None),
        ({"judge_scores": [[1]] * 7}, None),
        ({"difficulty": {"a": 1}}, None),
        ({"dive_score": None}, None),
        ({"dive_score": float("nan")}, None),
        (None, {"frames_labels": 5}),
        (None, {"frames_labels": [None]}),
        (None, {"frames_labels": []}),
        (None, {"difficulty": [1]}),
    ],
)
def test_finediving_fields_of_the_wrong_type(tmp_path, coarse, fine):
    """Class 9: plain-data pickles with wrong field types crashed the adapter; now one error names the sample."""
    from judgemind.data.adapters import load_finediving

    src = _finediving_folder(tmp_path, coarse, fine)
    with pytest.raises(JudgemindError, match="sample"):
        load_finediving(src)


def test_finediving_minimal_folder_loads(tmp_path):
    from judgemind.data.adapters import load_finediving

    meta, records = load_finediving(_finediving_folder(tmp_path))
    assert len(records) == 1 and records[0].stages["flight"] == (2, 6)


def test_reports_with_unprintable_names_and_no_valid_record(tmp_path):
    """`data validate` / `data info` print names holding lone surrogates, and summarise a dataset whose every
    record has errors, without an internal error."""
    import subprocess
    import sys

    rec = aerials_record_dict(action_code="b\ud800F", event="\ud800")
    root = write_folder(tmp_path / "ds", [rec], name="x\ud800")
    for cmd in (["validate", "--no-videos"], ["info"]):
        r = subprocess.run(
            [sys.executable, "-m", "judgemind.cli.main", "data", cmd[0], str(root), *cmd[1:]],
            capture_output=True,
            text=True,
            errors="replace",
        )
        assert r.returncode in (0, 1), r.stderr
        assert "Traceback" not in r.stderr and "internal error" not in r.stderr
