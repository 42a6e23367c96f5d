"""`judgemind rules ...` end to end through a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

WORKED = ["--judge", "1.8,4.4,2.7", "--judge", "1.9,4.6,2.8", "--judge", "1.7,4.2,2.6", "--judge", "1.9,4.5,2.9"]
WORKED += ["--judge", "1.6,4.0,2.4"]


def _run(tmp_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", "rules", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_score_text(tmp_path):
    r = _run(tmp_path, "score", "--dd", "4.425", *WORKED)
    assert r.returncode == 0, r.stderr
    assert "J = 8.9 + 9.3 + 8.5 = 26.7" in r.stdout
    assert "dropped (lowest)" in r.stdout and "dropped (highest)" in r.stdout
    assert "118.1475 -> truncated to 118.14" in r.stdout


def test_score_json_with_code(tmp_path):
    r = _run(tmp_path, "score", "--code", "bFdFF", "--json", *WORKED)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["score"] == "118.14" and out["J"] == "26.7" and out["dd"] == "4.425"
    assert out["format"] == "aerials5" and out["code"] == "bFdFF"
    assert out["judge_totals"] == ["8.9", "9.3", "8.5", "9.3", "8.0"]
    assert 4 in out["dropped"] and len(out["counted"]) == 3
    assert out["judges"][0] == {"air": "1.8", "form": "4.4", "landing": "2.7"}


def test_score_legacy_and_diving(tmp_path):
    r = _run(tmp_path, "score", "--legacy", "--dd", "4.9", "--air-form", "6.1,6.4,6.5,6.6,7.0", "--landing",
             "2.6,2.6", "--json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["J"] == "27.3" and out["landing_score"] == "7.8" and out["format"] == "aerials7"
    r = _run(tmp_path, "score", "--diving", "--dd", "3.2", "--judges", "7.5,8.0,8.0,8.5,7.0", "--synchro", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["score"] == "74.88"
    r = _run(tmp_path, "score", "--diving", "--dd", "3.2", "--judges", "7.5,8.0,8.0,8.5,7.0,9.0,8.0")
    assert r.returncode == 0, r.stderr
    assert "rounded half-up to 76.80" in r.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["score", "--dd", "4.425", *WORKED[:8]], "exactly 5 judges, got 4"),
        (["score", "--dd", "4.425", "--judge", "2.3,4.4,2.7", *WORKED[2:]], "air 2.3 is outside 0.0-2.0"),
        (["score", "--dd", "4.425", "--judge", "1.8,4.4", *WORKED[2:]], "need 3 marks"),
        (["score", "--dd", "abc", *WORKED], "--dd 'abc' is not a number"),
        (["score", "--code", "bFdFFF", *WORKED], "close known codes: "),
        (["score", *WORKED], "--dd"),
        (["score", "--dd", "3", "--legacy", "--air-form", "6,6,6,6,6"], "--landing"),
        (["score", "--dd", "3", "--diving", "--judges", "8,8,8,8"], "7, 5 or 3"),
        (["score", "--code", "bL", "--diving", "--judges", "8,8,8"], "for diving pass --dd"),
        (["parse", "bQ"], "'Q' is not a somersault symbol"),
    ],
)
def test_bad_input_exit_code_2(tmp_path, args, message):
    r = _run(tmp_path, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("judgemind rules: error:")
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_catalogue(tmp_path):
    r = _run(tmp_path, "catalogue")
    assert r.returncode == 0, r.stderr
    assert "hand_drag" in r.stdout and "early_rotation" in r.stdout
    r = _run(tmp_path, "catalogue", "--json", "--stage", "takeoff")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["version"] == "1"
    assert [i["id"] for i in out["items"]] == ["early_rotation", "weak_takeoff"]


def test_codes_and_parse(tmp_path):
    r = _run(tmp_path, "codes", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert {"code": "bFdFF", "dd": "4.425"}.items() <= next(x for x in rows if x["code"] == "bFdFF").items()
    r = _run(tmp_path, "codes")
    assert r.returncode == 0 and "bdFFdF" in r.stdout
    r = _run(tmp_path, "parse", "bFdFF")
    assert r.returncode == 0, r.stderr
    assert "full - double full - full: 3 somersaults, 4 twists" in r.stdout and "4.425" in r.stdout
