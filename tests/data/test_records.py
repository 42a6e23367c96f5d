"""Records and dataset folders: write -> load gives equal records; parsing keeps exact decimals."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from judgemind.data import DatasetMeta, Deduction, JudgeScore, Record, load_dataset, record_from_dict, write_dataset
from judgemind.data.dataset import read_meta
from judgemind.errors import ValidationError


def _record(**kw) -> Record:
    base = dict(
        id="jump_0001",
        video="videos/jump_0001.mp4",
        frames=(0, 10),
        action_code="bFdFF",
        dd=Decimal("4.425"),
        stages={"takeoff": (0, 3), "flight": (3, 7), "landing": (7, 10)},
        judges=tuple(
            JudgeScore(air=Decimal(a), form=Decimal(f), landing=Decimal(l))
            for a, f, l in [
                ("1.8", "4.4", "2.7"),
                ("1.9", "4.5", "2.5"),
                ("1.8", "4.3", "2.8"),
                ("2.0", "4.8", "2.9"),
                ("1.5", "3.9", "2.4"),
            ]
        ),
        final_score=Decimal("118.14"),
        deductions=(
            Deduction("bent_knees", "flight", Decimal("0.3"), (4, 6), 0.4),
            Deduction("landing_imbalance", "landing", Decimal("0.2")),
        ),
        sex="M",
        event="World Cup",
        athlete="A. Skier",
        boxes={0: (1.5, 2.0, 20.25, 30.0), 9: (0.0, 0.0, 5.0, 5.0)},
        cuts=(5,),
        extra={"source": "test", "ratio": 0.1, "nested": {"a": [1, 2.5]}},
    )
    base.update(kw)
    return Record(**base)


def test_write_then_load_gives_equal_records(tmp_path):
    recs = [_record(), _record(id="jump_0002", extra={}, boxes=None, cuts=(), deductions=())]
    meta = DatasetMeta(name="t", fps=25.0, splits={"train": ("jump_0001",), "test": ("jump_0002",)})
    write_dataset(tmp_path, meta, recs)
    ds = load_dataset(tmp_path)  # validates (annotations only)
    assert list(ds.records) == recs
    assert ds.meta == meta
    assert ds.split("test") == [recs[1]]
    assert isinstance(ds.records[0].dd, Decimal) and str(ds.records[0].dd) == "4.425"
    assert ds.records[0].extra["ratio"] == 0.1  # extra stays JSON-native (float, not Decimal)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temporary files left


def test_exact_decimals_survive_json(tmp_path):
    rec = _record(final_score=Decimal("118.14"), dd=Decimal("4.425"))
    write_dataset(tmp_path, DatasetMeta(name="t", fps=25, splits={"train": ("jump_0001",)}), [rec])
    line = (tmp_path / "annotations.jsonl").read_text().splitlines()[0]
    d = json.loads(line)
    assert d["dd"] == 4.425 and d["final_score"] == 118.14
    back, problems = record_from_dict(json.loads(line, parse_float=Decimal))
    assert problems == [] and back.final_score == Decimal("118.14")


def test_stages_known_flag():
    assert _record().stages_known
    assert not _record(extra={"stages_known": False}).stages_known


def test_record_from_dict_reports_all_problems_at_once(record_dict):
    rec, problems = record_from_dict(record_dict(dd="x", frames=[5, 2], judges="none"), "a.jsonl", 3)
    assert rec is None
    fields = {p.field for p in problems}
    assert {"dd", "frames", "judges"} <= fields
    assert all(p.line == 3 and p.record == "jump_0001" for p in problems)


def test_read_meta_rejects_bad_stage_names(tmp_path):
    (tmp_path / "dataset.json").write_text(
        json.dumps({"name": "x", "fps": 25, "splits": {}, "stage_names": ["a", "b"]})
    )
    meta, problems = read_meta(tmp_path)
    assert meta is None and problems[0].field == "stage_names"


def test_load_dataset_strict_raises(tmp_path):
    meta = DatasetMeta(name="t", fps=25.0, splits={"train": ("jump_0001", "ghost")})
    write_dataset(tmp_path, meta, [_record()])
    with pytest.raises(ValidationError) as e:
        load_dataset(tmp_path)
    assert any(p.rule == "splits" and "ghost" in p.message for p in e.value.problems)
