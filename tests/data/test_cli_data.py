"""`judgemind data validate | convert | info` end to end through a subprocess; atomicity of convert in-process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", "data", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_validate_ok_bad_and_missing(dataset_dir, record_dict, tmp_path):
    good = dataset_dir([record_dict()])
    r = _cli("validate", good, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 records, 0 error(s), 0 warning(s); videos checked: OK" in r.stdout

    bad = dataset_dir([record_dict(video="../x.mp4"), "{not json", record_dict(id="j2", dd="x")], video=False)
    r = _cli("validate", bad, "--no-videos", cwd=tmp_path)
    assert r.returncode == 1
    assert "annotations.jsonl:1, record 'jump_0001', field 'video'" in r.stdout and "[path]" in r.stdout
    assert "annotations.jsonl:2: malformed JSON line" in r.stdout
    assert "annotations.jsonl:3, record 'j2', field 'dd'" in r.stdout
    assert "split 'train' names record 'j2'" in r.stdout  # the unparsable record is then missing from its split
    assert "4 error(s)" in r.stdout.splitlines()[-1]

    r = _cli("validate", bad, "--no-videos", "--max-errors", "1", cwd=tmp_path)
    assert r.returncode == 1 and "... and 3 more problem(s)" in r.stdout

    r = _cli("validate", bad, "--no-videos", "--json", cwd=tmp_path)
    report = json.loads(r.stdout)
    assert r.returncode == 1 and report["errors"] == 4 and not report["ok"]
    assert {(p["record"], p["field"], p["rule"]) for p in report["problems"]} >= {
        ("jump_0001", "video", "path"),
        ("j2", "dd", "type"),
    }

    r = _cli("validate", tmp_path / "nope", cwd=tmp_path)
    assert r.returncode == 2 and "no such dataset folder" in r.stderr and r.stdout == ""


def test_convert_finediving_validate_and_info(finediving_data, tmp_path):
    e = finediving_data.expect
    out = tmp_path / "fd"
    r = _cli("convert", "finediving", finediving_data.path, out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"{e['n']} records (train {e['train']}, val {e['val']}, test {e['test']})" in r.stdout
    seven = next(line for line in r.stdout.splitlines() if line.strip().startswith("7 judges "))
    ok, n, share = e["reproduced_7"]
    assert f"{ok}/{n}" in seven and f"{100 * ok / n:.2f} %" in seven
    assert "DD 3.4 -> 3.3" in r.stdout

    r = _cli("validate", out, "--no-videos", cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:]
    assert f"{e['n']} records, 0 error(s), {e['warnings']} warning(s)" in r.stdout

    r = _cli("info", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"split train {e['train']:>9}" in r.stdout and f"{e['codes']} distinct" in r.stdout
    assert "entry" in r.stdout


def test_convert_mtl_aqa_refuses_then_overwrites(mtl_aqa_data, tmp_path):
    e, mtl_aqa_dir = mtl_aqa_data.expect, mtl_aqa_data.path
    out = tmp_path / "mtl"
    r = _cli("convert", "mtl-aqa", mtl_aqa_dir, out, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["records"] == e["n"] and summary["splits"]["test"] == e["test"]
    assert summary["reproduction"]["7 judges"]["exact"] == e["exact"]
    before = (out / "annotations.jsonl").read_bytes()

    r = _cli("convert", "mtl-aqa", mtl_aqa_dir, out, cwd=tmp_path)
    assert r.returncode == 2 and "not empty; pass --overwrite" in r.stderr
    (out / "videos").mkdir()
    (out / "videos" / "a.mp4").write_text("user data")  # where docs/data.md tells users to put the videos
    (out / "annotations.jsonl").write_text("old\n")
    r = _cli("convert", "mtl-aqa", mtl_aqa_dir, out, "--overwrite", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    # --overwrite replaces only the two files a conversion writes; the user's videos stay
    assert _tree(out) == ["annotations.jsonl", "dataset.json", "videos", "videos/a.mp4"]
    assert (out / "annotations.jsonl").read_bytes() == before
    assert _tree(tmp_path) == [
        "mtl",
        "mtl/annotations.jsonl",
        "mtl/dataset.json",
        "mtl/videos",
        "mtl/videos/a.mp4",
    ]  # no temporary siblings

    r = _cli("info", out, "--json", cwd=tmp_path)
    info = json.loads(r.stdout)
    assert info["records"] == e["n"] and info["stages_nominal"] == e["n"]


def test_convert_writes_nothing_on_failure(finediving_sample_dir, tmp_path):
    (tmp_path / "afile").write_text("x")
    r = _cli("convert", "finediving", finediving_sample_dir, tmp_path / "afile" / "out", cwd=tmp_path)
    assert r.returncode == 2 and "is not a folder" in r.stderr
    r = _cli("convert", "finediving", tmp_path / "no_such_dir", tmp_path / "new" / "out", cwd=tmp_path)
    assert r.returncode == 2 and "does not exist" in r.stderr
    (tmp_path / "empty_src").mkdir()
    r = _cli("convert", "mtl-aqa", tmp_path / "empty_src", tmp_path / "out2", cwd=tmp_path)
    assert r.returncode == 2 and "missing final_annotations_dict_with_dive_number.pkl" in r.stderr
    assert _tree(tmp_path) == ["afile", "empty_src"]


def test_failure_after_writing_keeps_the_old_folder(mtl_aqa_sample_dir, tmp_path, monkeypatch):
    """A conversion that fails after writing (here: validation) leaves no temp folder and keeps the old OUT."""
    from judgemind.data import Problem, adapters
    from judgemind.errors import ValidationError

    out = tmp_path / "a" / "b" / "out"
    out.mkdir(parents=True)
    (out / "keep.txt").write_text("mine")
    (out / "dataset.json").write_text('{"extra": {"adapter": "mtl-aqa"}}')

    def failing(root, check_videos=True):
        return None, [Problem(str(root / "annotations.jsonl"), "boom", "x", "dd", 1, "dd")]

    monkeypatch.setattr(adapters, "validate_dataset", failing)  # where convert looks it up
    with pytest.raises(ValidationError, match="does not pass validation"):
        adapters.convert("mtl-aqa", mtl_aqa_sample_dir, out, overwrite=True)
    assert _tree(tmp_path / "a") == ["b", "b/out", "b/out/dataset.json", "b/out/keep.txt"]
    with pytest.raises(ValidationError):
        adapters.convert("mtl-aqa", mtl_aqa_sample_dir, tmp_path / "c" / "d" / "new")
    assert not (tmp_path / "c").exists()  # parents created for the output are removed again


def test_overwrite_never_deletes_what_convert_did_not_write(mtl_aqa_sample_dir, tmp_path):
    """Issue 14, class 4: --overwrite refuses a folder that is not a converted dataset, and OUT inside SRC (or
    SRC inside OUT, or OUT = SRC) is refused before anything is read or written."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    r = _cli("convert", "mtl-aqa", mtl_aqa_sample_dir, mine, "--overwrite", cwd=tmp_path)
    assert r.returncode == 2 and "does not hold a dataset written by" in r.stderr
    assert _tree(mine) == ["notes.txt"]

    import shutil

    src = tmp_path / "src"
    shutil.copytree(mtl_aqa_sample_dir, src)
    before = _tree(src)
    for out in (src, src / "out", tmp_path):
        r = _cli("convert", "mtl-aqa", src, out, "--overwrite", cwd=tmp_path)
        assert r.returncode == 2 and "overlap" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    assert _tree(src) == before


def test_killed_convert_leaves_no_part_folder_behind(mtl_aqa_sample_dir, tmp_path):
    """Issue 14, class 5: a .part folder of a killed conversion is removed by the next conversion; one that a live
    process is building (locked) is kept."""
    from judgemind.utils.atomic import remove_stale_parts, temp_dir_beside

    out = tmp_path / "mtl"
    stale = tmp_path / ".mtl.abc123.part"
    stale.mkdir()
    (stale / "annotations.jsonl").write_text("half")
    with temp_dir_beside(tmp_path / "other") as live:
        assert remove_stale_parts(tmp_path / "other") == []  # locked by us: kept
        assert live.is_dir()
    r = _cli("convert", "mtl-aqa", mtl_aqa_sample_dir, out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert not stale.exists() and _tree(tmp_path)[0] == "mtl"
