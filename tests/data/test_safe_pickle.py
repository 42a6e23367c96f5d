"""The restricted unpickler builds plain data and numpy arrays and refuses everything else."""

from __future__ import annotations

import os
import pickle
import subprocess

import numpy as np
import pytest

from judgemind.data.safe_pickle import safe_load_pickle, safe_loads_pickle
from judgemind.errors import JudgemindError


class Custom:
    def __init__(self):
        self.x = 1


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


PLAIN = [
    {1: 2, "a": [1.5, None, True, False], ("k", 3): (b"xy", "z")},
    {1, 2},
    frozenset({3}),
    complex(1, 2),
    10**30,
    -0.0,
    bytearray(b"q"),
]
ARRAYS = [
    np.arange(5),
    np.zeros((2, 3), np.float32),
    np.array(["ab", "c"]),
    np.array([1, {"a": 2}], dtype=object),
    np.zeros(2, dtype=[("a", "<i4"), ("b", "<f8")]),
    np.arange(6).reshape(2, 3).T,
]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_plain_data_and_numpy_round_trip(protocol):
    for obj in PLAIN:
        assert safe_loads_pickle(pickle.dumps(obj, protocol=protocol)) == obj
    for arr in ARRAYS:
        back = safe_loads_pickle(pickle.dumps(arr, protocol=protocol))
        assert back.dtype == arr.dtype and back.shape == arr.shape
        if arr.dtype != object:
            np.testing.assert_array_equal(back, arr)
    for scalar in (np.float64(1.25), np.int32(7), np.bool_(True)):
        back = safe_loads_pickle(pickle.dumps(scalar, protocol=protocol))
        assert back == scalar and type(back) is type(scalar)


@pytest.mark.parametrize(
    "obj, name",
    [
        (os.system, "system"),
        (Custom(), "Custom"),
        (Exploit(), "system"),
        (subprocess.Popen, "Popen"),
        (eval, "eval"),
        ([1, Custom()], "Custom"),
    ],
)
def test_refuses_non_plain_objects(tmp_path, obj, name):
    path = tmp_path / "X.pkl"
    path.write_bytes(pickle.dumps(obj))
    with pytest.raises(JudgemindError, match=rf"refusing to load \S*{name} from .*X\.pkl: only plain data"):
        safe_load_pickle(path)


def test_refuses_hand_written_global_and_codecs_misuse():
    with pytest.raises(JudgemindError, match=r"refusing to load os\.system"):
        safe_loads_pickle(b"cos\nsystem\n(S'echo hi'\ntR.", "evil.pkl")
    with pytest.raises(JudgemindError, match=r"refusing to load builtins\.getattr"):
        safe_loads_pickle(b"cbuiltins\ngetattr\n.", "evil.pkl")
    with pytest.raises(JudgemindError, match="latin1"):
        safe_loads_pickle(b"c_codecs\nencode\n(Vx\nVrot13\ntR.", "evil.pkl")


def test_numpy2_module_names_are_accepted():
    """numpy 2 writes numpy._core.*; these must load under numpy 1.26 too."""
    data = pickle.dumps(np.arange(3), protocol=2).replace(b"numpy.core.multiarray", b"numpy._core.multiarray")
    np.testing.assert_array_equal(safe_loads_pickle(data), np.arange(3))


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(JudgemindError, match="no such pickle"):
        safe_load_pickle(tmp_path / "none.pkl")
    (tmp_path / "bad.pkl").write_bytes(b"\x80\x04garbage")
    with pytest.raises(JudgemindError, match="bad.pkl"):
        safe_load_pickle(tmp_path / "bad.pkl")


def test_every_fixture_annotation_pickle_loads():
    from shared_paths import FIXTURES

    files = sorted(FIXTURES.rglob("*.pkl"))
    assert len(files) == 8
    for f in files:
        assert safe_load_pickle(f) is not None, f


def test_every_shared_annotation_pickle_loads():
    from shared_paths import find_shared_data_dir

    root = find_shared_data_dir()
    files = sorted(root.rglob("*.pkl")) if root.is_dir() else []
    if not files:
        pytest.skip(f"no shared annotation pickles under {root}")
    for f in files:
        assert safe_load_pickle(f) is not None, f
