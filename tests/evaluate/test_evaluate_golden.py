"""Golden tests: the FineDiving predictions released by the TSA and MCoRe authors must give the numbers the field
reports.

The arrays are in tests/fixtures/reference_predictions (copied from the shared data; see the README there), so these
tests always run; when the shared data is beside the repository the copies are checked against it.
"""

from __future__ import annotations

import numpy as np
import pytest

from judgemind.evaluate import evaluate_scores, l2, relative_l2, relative_l2_x100, spearman
from shared_paths import FIXTURES, find_shared_data_dir

# (method, rho, R-l2 x100, L2) as computed by the methods' runner code on their released arrays (docs/bench.md,
# "Metrics").
GOLDEN = [
    ("TSA", 0.9212, 0.3370, 36.73),
    ("MCoRe", 0.9270, 0.3276, 35.70),
]


def _load(method):
    folder = FIXTURES / "reference_predictions" / method
    pred = np.load(folder / "pred.npy", allow_pickle=False)
    true = np.load(folder / "true.npy", allow_pickle=False)
    return pred, true


@pytest.mark.parametrize("method,rho,rl2_x100,l2_value", GOLDEN, ids=[g[0] for g in GOLDEN])
def test_reference_predictions_match_published_metrics(method, rho, rl2_x100, l2_value):
    pred, true = _load(method)
    assert pred.shape == true.shape == (749,)
    assert round(spearman(pred, true), 4) == pytest.approx(rho, abs=1e-12)
    assert round(relative_l2_x100(pred, true), 4) == pytest.approx(rl2_x100, abs=1e-12)
    assert round(l2(pred, true), 2) == pytest.approx(l2_value, abs=1e-12)
    # relative L2 is normalised by the evaluated (test) range 0.0..104.4, not the dataset range.
    assert (true.min(), true.max()) == (0.0, 104.4)
    assert relative_l2(pred, true, scale=100) == pytest.approx(relative_l2_x100(pred, true))

    report = evaluate_scores(pred, true)
    assert report["n"] == 749
    assert round(report["rho"], 4) == pytest.approx(rho, abs=1e-12)
    assert round(report["rl2_x100"], 4) == pytest.approx(rl2_x100, abs=1e-12)
    assert round(report["l2"], 2) == pytest.approx(l2_value, abs=1e-12)


def test_reference_metrics_accept_float32_and_lists():
    pred, true = _load("TSA")
    assert round(spearman(pred.astype(np.float32), list(true)), 4) == pytest.approx(0.9212, abs=1e-12)


@pytest.mark.parametrize("method", [g[0] for g in GOLDEN])
def test_fixture_arrays_are_the_shared_files(method):
    shared = find_shared_data_dir() / "FineDiving" / "reference_predictions" / method
    if not shared.is_dir():
        pytest.skip(f"shared reference predictions {shared} are absent")
    for name in ("pred.npy", "true.npy", "config.yaml"):
        assert (FIXTURES / "reference_predictions" / method / name).read_bytes() == (shared / name).read_bytes()
