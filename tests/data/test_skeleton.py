"""Schema v2 skeletons: the optional per-frame skeleton field, its array files and their validation."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from record_files import aerials_record_dict, write_folder

from judgemind.data import load_dataset, validate_dataset
from judgemind.data.skeleton import CHANNELS, SKELETON_POINTS, load_skeleton, save_array
from judgemind.errors import JudgemindError

LAYOUT = {"points": list(SKELETON_POINTS), "channels": list(CHANNELS), "frame_size": [64, 48]}


def _array(n_frames: int = 10) -> np.ndarray:
    rng = np.random.default_rng(0)
    arr = np.zeros((n_frames, len(SKELETON_POINTS), 6), np.float32)
    arr[..., 0] = rng.uniform(0, 64, arr.shape[:2])
    arr[..., 1] = rng.uniform(0, 48, arr.shape[:2])
    arr[..., 2] = 2
    arr[..., 3:] = rng.normal(size=arr.shape[:2] + (3,))
    return arr


def _dataset(tmp_path, arr=None, layout=LAYOUT, version=2, skeleton="skeletons/jump_0001.npy"):
    root = write_folder(
        tmp_path / "ds", [aerials_record_dict(skeleton=skeleton)], schema_version=version, skeleton=layout
    )
    if arr is not None:
        (root / "skeletons").mkdir()
        np.save(root / "skeletons" / "jump_0001.npy", arr)  # as is (save_array would make it float32)
    return root


def _errors(root):
    _, problems = validate_dataset(root, check_videos=False)
    return [p for p in problems if p.level == "error"]


def test_a_valid_skeleton_loads(tmp_path):
    arr = _array()
    arr[3, 5, :3] = [np.nan, np.nan, 0]  # out of the picture: NaN allowed with flag 0
    arr[4, 6, :3] = [900.0, -40.0, 0]  # out of the frame, flagged so
    arr[5, :, 3:] = np.nan  # 3D unknown in this frame
    root = _dataset(tmp_path, arr)
    assert _errors(root) == []
    ds = load_dataset(root)
    sk = load_skeleton(root, ds.records[0], ds.meta.skeleton)
    assert sk.uv.shape == (10, 19, 2) and sk.visibility.dtype == np.int8 and sk.points == SKELETON_POINTS
    assert np.array_equal(sk.to_array(), arr, equal_nan=True)


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda a: a[:, :5], "shape"),
        (lambda a: a[:7], "shape"),
        (lambda a: _set(a, (2, 3, 0), np.nan), "finite"),
        (lambda a: _set(a, (2, 3, 1), np.inf), "finite"),
        (lambda a: _set(a, (2, 3, 0), 80.0), "outside the 64x48 frame"),
        (lambda a: _set(a, (2, 3, 2), 3.0), "visibility"),
        (lambda a: _set(a, (2, 3, 4), np.inf), "infinite"),
        (lambda a: a.astype(np.int32), "float"),
    ],
)
def test_a_bad_skeleton_names_file_record_and_field(tmp_path, change, words):
    root = _dataset(tmp_path, change(_array()))
    errors = _errors(root)
    assert errors, "expected a validation error"
    text = str(errors[0])
    assert "annotations.jsonl:1" in text and "'jump_0001'" in text and "'skeleton'" in text
    assert words in text and "jump_0001.npy" in text


def _set(a, idx, value):
    a = a.copy()
    a[idx] = value
    return a


def test_missing_or_pickled_skeleton_file_is_an_error(tmp_path):
    root = _dataset(tmp_path)  # no file written
    assert "does not exist" in str(_errors(root)[0])
    obj = np.full((10, 19, 6), {"a": 1}, dtype=object)
    (root / "skeletons").mkdir()
    np.save(root / "skeletons" / "jump_0001.npy", obj, allow_pickle=True)
    errs = _errors(root)
    assert errs and "not a readable skeleton array" in str(errs[0])


def test_skeleton_paths_stay_inside_the_dataset(tmp_path):
    root = _dataset(tmp_path, _array(), skeleton="../outside.npy")
    assert "escapes the dataset root" in str(_errors(root)[0])


def test_bad_layout_and_version(tmp_path):
    root = _dataset(tmp_path, _array(), layout={"points": ["a", "a"]})
    assert any(p.field == "skeleton" and "distinct" in p.message for p in _errors(root))
    root = _dataset(tmp_path / "v1", _array(), version=1)
    assert any(p.field == "schema_version" for p in _errors(root))
    root = write_folder(
        tmp_path / "nolayout", [aerials_record_dict(skeleton="skeletons/jump_0001.npy")], schema_version=2
    )
    save_array(root / "skeletons" / "jump_0001.npy", _array())
    assert any("declares no skeleton layout" in p.message for p in _errors(root))


def test_version_1_datasets_still_load(tmp_path):
    root = write_folder(tmp_path / "v1", [aerials_record_dict()], schema_version=1)
    assert _errors(root) == []
    ds = load_dataset(root)
    assert ds.meta.schema_version == 1 and ds.meta.skeleton is None and ds.records[0].skeleton is None
    with pytest.raises(JudgemindError, match="has no skeleton"):
        load_skeleton(root, ds.records[0], ds.meta.skeleton)
    root = write_folder(tmp_path / "v3", [aerials_record_dict()], schema_version=3)
    assert any(p.field == "schema_version" and "versions 1, 2" in p.message for p in _errors(root))


def test_cli_validate_exits_1_naming_the_skeleton(tmp_path):
    root = _dataset(tmp_path, _set(_array(), (0, 0, 0), 500.0))
    r = subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", "data", "validate", str(root), "--no-videos", "--json"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert any(p["field"] == "skeleton" for p in doc["problems"])
