"""The command line as a user meets it: every ``cmd_<name>.py`` module is a subcommand with working ``--help``; the
installed ``judgemind`` entry point runs; a short chain (synth -> extract -> rules) works through ``main``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from judgemind.cli.main import COMMANDS, build_parser, main

CLI = Path(__file__).resolve().parents[2] / "src" / "judgemind" / "cli"


def test_every_command_module_is_a_subcommand():
    on_disk = {p.stem.removeprefix("cmd_") for p in CLI.glob("cmd_*.py")}
    assert on_disk == set(COMMANDS)
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {c.replace("_", "-") for c in COMMANDS} <= set(sub.choices)


@pytest.mark.parametrize("command", sorted(set(COMMANDS) - {"evaluate_predictions"}) + ["evaluate-predictions"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert f"judgemind {command}" in capsys.readouterr().out


def test_the_entry_point_runs_in_a_fresh_process():
    done = subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", "--version"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.startswith("judgemind ")
    bad = subprocess.run(
        [sys.executable, "-m", "judgemind.cli.main", "no-such-command"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and "no-such-command" in bad.stderr


def test_synth_then_extract_then_validate(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["synth", str(data), "--n", "4", "--seed", "1", "--size", "64", "--workers", "1", "--no-progress"]) == 0
    meta = json.loads((data / "dataset.json").read_text())
    assert sum(len(v) for v in meta["splits"].values()) == 4
    assert main(["extract", str(data), "--extractor", "skeleton", "--no-progress"]) == 0
    assert len(list((data / "features" / "skeleton").glob("*.safetensors"))) == 4
    assert main(["data", "validate", str(data)]) == 0
    capsys.readouterr()
    (data / "annotations.jsonl").write_text("{not json\n")
    assert main(["data", "validate", str(data)]) == 1  # validation failed: exit 1, each problem on stdout
    assert "annotations.jsonl:1: malformed JSON line" in capsys.readouterr().out
