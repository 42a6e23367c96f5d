"""data.stats takes the panel's J from the rules engine (no J of its own)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from judgemind.data import record_from_dict
from judgemind.data.stats import panel_j


def test_panel_j_is_the_rules_engines_j(record_dict):
    rec, probs = record_from_dict(record_dict(), "test", 1)
    assert not probs
    assert panel_j(rec, "aerials5") == pytest.approx(26.7)  # totals 8.9 x 3 counted; 9.7 and 7.8 dropped
    diving = record_dict(
        action_code="107B",
        dd=3.0,
        final_score=66.0,
        deductions=[],
        judges=[{"score": s} for s in (7.5, 7.5, 7.0, 8.0, 6.0, 7.5, 7.0)],
    )
    rec, probs = record_from_dict(diving, "test", 1)
    assert not probs
    # diving, 7 judges: the 2 highest and 2 lowest are dropped -> 7.5 + 7.5 + 7.0 = 22.0 (not the middle 5)
    assert panel_j(rec, "diving") == pytest.approx(float(Decimal("22.0")))


# -- issue 24: `data stats` never replaces a file of the data set; stats.json is strict JSON ------------------------


@pytest.fixture
def two_records(tmp_path, record_dict):
    """A data set of two records: train one, test one (a test split of one record has no rank correlation)."""
    from record_files import write_folder

    recs = [record_dict(id="a", video="videos/a.mp4"), record_dict(id="b", video="videos/b.mp4")]
    return write_folder(tmp_path / "ds", recs, {"train": ["a"], "test": ["b"]})


def _cli(argv, capsys):
    from judgemind.cli.main import main

    code = main(argv)
    return code, capsys.readouterr()


def test_stats_json_is_strict_and_nan_is_null(two_records, capsys):
    """Class 7: a test split of one record wrote 13 bare NaN tokens into stats.json."""
    import json

    code, io = _cli(["data", "stats", str(two_records)], capsys)
    assert code == 0, io.err
    text = (two_records / "stats.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in stats.json"))
    assert doc["code_prior"]["rho"] is None and "n/a" in io.out
    code, io = _cli(["data", "stats", str(two_records), "--json"], capsys)
    assert code == 0 and "NaN" not in io.out and json.loads(io.out)["code_prior"]["rho"] is None


@pytest.mark.parametrize("target", ["annotations.jsonl", "dataset.json", "notes.txt", "folder"])
def test_stats_never_replaces_a_file_of_the_data_set(two_records, capsys, target):
    """Class 6: `data stats ds --out ds/annotations.jsonl` exited 0 and the annotations were gone."""
    (two_records / "notes.txt").write_text("mine")
    (two_records / "folder").mkdir()
    before = {p.name: p.read_bytes() for p in two_records.iterdir() if p.is_file()}
    code, io = _cli(["data", "stats", str(two_records), "--out", str(two_records / target)], capsys)
    assert code == 2 and len(io.err.strip().splitlines()) == 1 and target in io.err, io.err
    assert {p.name: p.read_bytes() for p in two_records.iterdir() if p.is_file()} == before
    # a stats document (the default file, or one written before) is replaced; a new file anywhere is written
    for out in (two_records / "stats.json", two_records / "stats.json", two_records / "other.json"):
        assert _cli(["data", "stats", str(two_records), "--out", str(out)], capsys)[0] == 0
