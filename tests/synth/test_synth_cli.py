"""`judgemind synth` end to end through a subprocess: success, and every kind of bad input (exit 2)."""

from __future__ import annotations

import subprocess
import sys

import cv2
import pytest

from judgemind.data import validate_dataset


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", "synth", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_cli_writes_a_valid_dataset_and_preview(tmp_path):
    out, png = tmp_path / "ds", tmp_path / "contact.png"
    r = _cli(
        out,
        "--n",
        3,
        "--size",
        64,
        "--fps",
        8,
        "--workers",
        1,
        "--codes",
        "bLT,bFdFF,bL",
        "--preview",
        png,
        "--no-progress",
    )
    assert r.returncode == 0, r.stderr
    assert "wrote 3 synthetic jumps" in r.stdout
    ds, problems = validate_dataset(out, check_videos=True)
    assert [p for p in problems if p.level == "error"] == []
    assert {rec.action_code for rec in ds} <= {"bLT", "bFdFF", "bL"}
    img = cv2.imread(str(png))
    assert img is not None and img.shape[1] == 6 * 160
    # the same command again resumes (nothing to do) and succeeds
    r = _cli(out, "--n", 3, "--size", 64, "--fps", 8, "--workers", 1, "--codes", "bLT,bFdFF,bL", "--no-progress")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["--n", "0"], ["--n", "positive"]),
        (["--n", "-3"], ["--n", "positive"]),
        (["--size", "32"], ["--size", "too small", "64"]),
        (["--size", "97"], ["--size", "even"]),
        (["--codes", "bFdFX"], ["unknown jump code", "'bFdFX'", "bFdF"]),
        (["--codes", "bLT,xyz"], ["xyz"]),
        (["--fps", "0"], ["--fps"]),
        (["--workers", "0"], ["--workers"]),
        (["--preset", "bnech"], ["unknown --preset 'bnech'", "bench", "n 2000"]),
        (["--cuts", "many"], ["--cuts", "'many'", "none", "broadcast", "heavy"]),
    ],
)
def test_bad_input_exits_2_naming_the_problem(tmp_path, args, words):
    r = _cli(tmp_path / "ds", "--n", "2", *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "judgemind synth: error:" in r.stderr
    for w in words:
        assert w in r.stderr
    assert not (tmp_path / "ds").exists()


def test_non_empty_or_unwritable_out(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "x.txt").write_text("x")
    r = _cli(full, "--n", "2", "--size", "64")
    assert r.returncode == 2 and "not empty" in r.stderr and "--overwrite" in r.stderr
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = _cli(afile, "--n", "2", "--size", "64")
    assert r.returncode == 2 and "not a folder" in r.stderr
    r = _cli(afile / "sub", "--n", "2", "--size", "64")
    assert r.returncode == 2 and "cannot write" in r.stderr


def test_preset_with_overrides_prints_box_heights(tmp_path):
    """--preset bench with --n/--size/--fps overrides: a smaller set of the same kind (its seed), and the box-height
    distribution per stage."""
    import json

    out = tmp_path / "b"
    r = _cli(out, "--preset", "bench", "--n", 3, "--size", 64, "--fps", 8, "--workers", 1, "--no-progress")
    assert r.returncode == 0, r.stderr
    assert "seed 2026" in r.stdout and "athlete box height / frame height" in r.stdout
    assert "flight" in r.stdout and "follow shots" in r.stdout
    gen = json.loads((out / "dataset.json").read_text())["extra"]["generator"]
    assert (gen["n"], gen["seed"], gen["size"], gen["fps"]) == (3, 2026, 64, 8.0)
    assert gen["cuts"] == "broadcast" and "cuts broadcast" in r.stdout


def test_preset_keeps_the_cut_pattern_and_records_it(tmp_path):
    """--preset bench --cuts heavy: the bench jumps filmed with more cuts; the pattern is in dataset.json (the
    generator's settings and its source line) and in every record's camera."""
    import json

    from judgemind.cli.cmd_synth import CUT_MODES as CLI_MODES
    from judgemind.synth.spec import CUT_MODES, GENERATOR_VERSION

    assert CLI_MODES == CUT_MODES
    out = tmp_path / "h"
    r = _cli(out, "--preset", "bench", "--cuts", "heavy", "--n", 2, "--size", 64, "--fps", 8, "--workers", 1)
    assert r.returncode == 0, r.stderr
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["extra"]["generator"]["cuts"] == "heavy"
    assert meta["extra"]["generator"]["version"] == GENERATOR_VERSION
    assert "cuts heavy" in meta["source"]
    for line in (out / "annotations.jsonl").read_text().splitlines():
        rec = json.loads(line)
        assert rec["extra"]["camera"]["cuts_mode"] == "heavy" and len(rec["cuts"]) >= 3


def test_data_stats_prints_and_writes_floor_and_ceilings(tmp_path):
    """`judgemind data stats`: code prior, fault oracle, judges, items, spread, box heights; JSON written
    atomically (default DIR/stats.json, or --out); a data set without a test split is one clear error."""
    import json

    from judgemind.synth import generate

    root = generate(tmp_path / "ds", n=40, seed=1, size=64, fps=10, workers=1, progress=False, render=False)
    r = subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", "data", "stats", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "code prior" in r.stdout and "fault oracle" in r.stdout and "SYNTHETIC" in r.stdout
    doc = json.loads((root / "stats.json").read_text())
    assert set(doc) >= {"code_prior", "fault_oracle", "judge_agreement", "item_rates", "component_spread", "box_height"}
    assert set(doc["fault_oracle"]["per_component"]) == {"air", "form", "landing"}
    assert doc["box_height"]["flight"]["p50"] > 0.2
    assert set(doc["shortcuts"]) >= {"duration", "code", "box", "fixed_offset", "targets"}
    assert "shortcuts" in r.stdout and "fixed_offset_aiou@0.75" in r.stdout
    out = tmp_path / "s.json"
    r = subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", "data", "stats", str(root), "--out", str(out), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0 and json.loads(r.stdout)["n"] == 40 and out.is_file()
    meta = json.loads((root / "dataset.json").read_text())
    meta["splits"].pop("test")
    (root / "dataset.json").write_text(json.dumps(meta))
    r = subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", "data", "stats", str(root), "--out", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 2 and "no split 'test'" in r.stderr and not (tmp_path / "none.json").exists()
