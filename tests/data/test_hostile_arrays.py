"""Issue 24: skeleton arrays that cannot hang or exhaust memory. A FIFO in place of a skeleton file hung `data
validate`, `data info`, `data stats`, `extract -e skeleton` (and `score`, tested in tests/report); a 1 KB file whose
header declared complex256 of shape (1e6, 256, 6), a huge `V`/`U` dtype or a 1 GiB header ran out of memory."""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import struct
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from judgemind.cli.main import main


@pytest.fixture(scope="module")
def skeleton_set(tmp_path_factory):
    """Four SynthAerials jumps with skeletons, annotations only (no videos)."""
    from judgemind.synth import generate

    return generate(
        tmp_path_factory.mktemp("hostile") / "ds", n=4, seed=2, size=64, fps=25, workers=1, progress=False, render=False
    )


@contextmanager
def no_hang(seconds=60):
    """A hang is a test failure, never a stuck suite."""

    def fire(*_):
        raise TimeoutError(f"hung for {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with no_hang(), redirect_stdout(out), redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def npy_bytes(descr: str, shape, body: bytes = b"", version: int = 1) -> bytes:
    """A .npy file whose header declares ``descr`` and ``shape`` (whatever the body holds)."""
    h = repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)}).encode()
    h += b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
    length = struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([version, 0]) + length + h + body


@contextmanager
def replaced(path: Path, make):
    """``path`` replaced by what ``make(path)`` puts there, restored afterwards."""
    keep = path.read_bytes()
    path.unlink()
    try:
        make(path)
        yield path
    finally:
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink()
        path.write_bytes(keep)


def _first_skeleton(root: Path) -> Path:
    rec = json.loads((root / "annotations.jsonl").read_text().splitlines()[0])
    return root / rec["skeleton"]


def test_a_fifo_skeleton_is_named_by_every_command(skeleton_set):
    path = _first_skeleton(skeleton_set)
    with replaced(path, os.mkfifo):
        code, out, _ = _cli(["data", "validate", skeleton_set, "--no-videos"])
        assert code == 1 and f"{path}: skeleton array is a FIFO (named pipe), not a regular file" in out
        code, out, err = _cli(["data", "info", skeleton_set])
        assert code == 0 and "1 validation error(s)" in out
        code, _, err = _cli(["data", "stats", skeleton_set, "--out", skeleton_set.parent / "s.json"])
        assert code == 2 and "is a FIFO" in err and "Traceback" not in err
        code, out, err = _cli(["extract", skeleton_set, "-e", "skeleton", "--no-progress"])
        assert code in (1, 2) and "is a FIFO" in out + err and "Traceback" not in err


@pytest.mark.parametrize("case", ["complex256", "void", "unicode", "huge_shape", "header_1gib", "truncated", "folder"])
def test_hostile_skeleton_headers_are_refused_before_allocating(skeleton_set, case):
    path = _first_skeleton(skeleton_set)
    body = b"\0" * 1000

    def make(p):
        if case == "header_1gib":
            with open(p, "wb") as f:
                f.write(b"\x93NUMPY\x02\x00" + struct.pack("<I", 1 << 30))
                f.truncate(1 << 30)  # a sparse file: no disk used
        elif case == "folder":
            p.mkdir()
        else:
            descr, shape = {
                "complex256": ("<c32", (1_000_000, 256, 6)),
                "void": ("|V100000000", (10, 19, 6)),
                "unicode": ("<U100000000", (10, 19, 6)),
                "huge_shape": ("<f8", (1_000_000, 256, 6)),
                "truncated": ("<f4", (10, 19, 6)),
            }[case]
            p.write_bytes(npy_bytes(descr, shape, body))

    words = {
        "complex256": "dtype complex256 is not a plain number type",
        "void": "dtype |V100000000",
        "unicode": "dtype <U100000000",
        "huge_shape": "over the limit",
        "header_1gib": "header declares 1073741824 bytes",
        "truncated": "a truncated file",
        "folder": "is a folder",
    }[case]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with replaced(path, make):
        code, out, _ = _cli(["data", "validate", skeleton_set, "--no-videos"])
    assert code == 1 and words in out and str(path) in out, out
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


def test_a_fortran_ordered_skeleton_reads_like_numpy(tmp_path):
    from judgemind.data.skeleton import read_array

    arr = np.asfortranarray(np.random.default_rng(0).normal(size=(3, 19, 6)).astype(np.float32))
    np.save(tmp_path / "f.npy", arr)
    np.testing.assert_array_equal(read_array(tmp_path / "f.npy"), arr)
