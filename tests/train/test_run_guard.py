"""Issue 14, class 5: a failed `train` leaves no run folder behind, and a run folder in use is refused."""

from __future__ import annotations

import pytest

from judgemind.errors import JudgemindError
from judgemind.train.rundir import RunGuard


def test_failed_train_leaves_no_run_folder(tiny_dataset, tmp_path, cli):
    out = tmp_path / "a" / "run"
    p = cli("train", "--data", tiny_dataset, "--features", "nope", "--out", out, check=False)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "nope" in p.stderr
    assert not (tmp_path / "a").exists()


def test_run_folder_in_use_is_refused(tmp_path):
    first = RunGuard(tmp_path / "run").acquire()
    try:
        with pytest.raises(JudgemindError, match="in use"):
            RunGuard(tmp_path / "run").acquire()
    finally:
        first.release()
    (tmp_path / "run" / "config.yaml").write_text("mine")  # not written by the next guard: kept
    g = RunGuard(tmp_path / "run").acquire()
    g.clean_failed()
    g.release()
    assert (tmp_path / "run" / "config.yaml").read_text() == "mine"
