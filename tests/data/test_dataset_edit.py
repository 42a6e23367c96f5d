"""data.edit.save_record: one record validated like `judgemind data validate` and written into the data set under
its lock -- appended (data.append), or a correction replacing its own line; the other lines kept byte for byte;
concurrent savers lose nothing; a stale correction or a bad record writes nothing."""

from __future__ import annotations

import json
import multiprocessing
from decimal import Decimal

import pytest

from judgemind.data import dumps_record, validate_dataset
from judgemind.data.edit import EditConflict, line_hash, save_record, stored_lines
from judgemind.errors import ValidationError


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    from judgemind.synth import generate

    return generate(tmp_path_factory.mktemp("edit") / "data", n=4, seed=5, size=64, workers=1, progress=False)


@pytest.fixture
def data(source, tmp_path):
    import shutil

    return shutil.copytree(source, tmp_path / "data")


def _new(data, rid: str, **change) -> dict:
    """A copy of the data set's first record under a new id (same video, valid marks)."""
    d = json.loads((data / "annotations.jsonl").read_text().splitlines()[0], parse_float=Decimal)
    d.update(id=rid, **change)
    return d


def test_a_new_record_is_appended_and_validates(data):
    before = (data / "annotations.jsonl").read_text().splitlines()
    rec = save_record(data, _new(data, "mine_1"), split="train", base=None)
    after = (data / "annotations.jsonl").read_text().splitlines()
    assert after[:-1] == before and after[-1] == dumps_record(rec)  # the others byte for byte
    assert "mine_1" in json.loads((data / "dataset.json").read_text())["splits"]["train"]
    ds, problems = validate_dataset(data, check_videos=True)
    assert [p for p in problems if p.level == "error"] == [] and ds.get("mine_1").final_score == rec.final_score


def test_a_correction_replaces_its_line_and_a_stale_one_is_refused(data):
    rid = json.loads((data / "annotations.jsonl").read_text().splitlines()[1])["id"]
    old = stored_lines(data)[rid]
    d = json.loads(old, parse_float=Decimal)
    d["athlete"] = "corrected"
    rec = save_record(data, d, split="val", base=line_hash(old))
    lines = (data / "annotations.jsonl").read_text().splitlines()
    assert lines[1] == dumps_record(rec) and len(lines) == 4
    splits = json.loads((data / "dataset.json").read_text())["splits"]
    assert rid in splits["val"] and all(rid not in v for k, v in splits.items() if k != "val")
    d["athlete"] = "second tab"
    with pytest.raises(EditConflict, match="saved by someone else"):
        save_record(data, d, split="val", base=line_hash(old))  # the other tab opened the old line
    with pytest.raises(ValidationError) as e:  # a new record with a taken id
        save_record(data, d, split="val", base=None)
    assert e.value.problems[0].field == "id" and "already in the data set" in e.value.problems[0].message
    assert (data / "annotations.jsonl").read_text().splitlines()[1] == dumps_record(rec)


def test_a_bad_correction_writes_nothing_and_names_its_fields(data):
    before = {p.name: p.read_bytes() for p in data.iterdir() if p.is_file() and not p.name.startswith(".")}
    old = (
        stored_lines(data)["synth_00000"]
        if "synth_00000" in stored_lines(data)
        else next(iter(stored_lines(data).values()))
    )
    bad = json.loads(old, parse_float=Decimal)
    bad["stages"] = {"takeoff": [0, 40], "flight": [30, 60], "landing": [60, 80]}
    bad["judges"][0]["air"] = Decimal("2.5")
    bad["deductions"] = [{"item": "bent_knee", "stage": "flight", "points": Decimal("0.3")}]
    with pytest.raises(ValidationError) as e:
        save_record(data, bad, split="nope", base=line_hash(old), video_frames=50)
    fields = {p.field for p in e.value.problems}
    assert {"stages.flight", "judges[0].air", "deductions[0].item", "splits", "frames"} <= fields
    assert {p.name: p.read_bytes() for p in data.iterdir() if p.is_file() and p.name[0] != "."} == before


def _save_many(root, who, n):
    for i in range(n):
        save_record(root, _new(root, f"{who}_{i}"), split="train", base=None)


def test_concurrent_savers_lose_nothing(data):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_save_many, args=(data, f"tab{k}", 6)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    ids = [json.loads(x)["id"] for x in (data / "annotations.jsonl").read_text().splitlines()]
    assert sorted(i for i in ids if i.startswith("tab")) == sorted(f"tab{k}_{i}" for k in range(2) for i in range(6))
    ds, problems = validate_dataset(data, check_videos=True)
    assert [p for p in problems if p.level == "error"] == [] and len(ds.split("train")) >= 12
