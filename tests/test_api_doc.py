"""docs/api.md's examples run: every ```python block of the page, in order, in one namespace, in a folder holding
a small run as ``runs/demo`` and two clips ``jump.mp4`` and ``jump2.mp4`` (SynthAerials renders outside their data
set, as a coach's clips would be)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import judgemind
from judgemind.data import load_dataset

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_the_page_has_its_examples():
    code = "\n".join(blocks())
    for name in ("Judge.load", ".score(", "write_sheet", "score_round", "validate_result", "from_results"):
        assert name in code, name


def test_every_example_of_docs_api_runs(scoring_run, tmp_path, monkeypatch, capsys):
    data, run = scoring_run
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "demo").symlink_to(run, target_is_directory=True)
    recs = [json.loads(line) for line in (data / "annotations.jsonl").read_text().splitlines()[:2]]
    for rec, name in zip(recs, ("jump.mp4", "jump2.mp4")):
        shutil.copy(data / rec["video"], tmp_path / name)
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    for k, code in enumerate(blocks(), 1):
        exec(compile(code, f"{DOC.name}, example {k}", "exec"), ns)  # noqa: S102 -- the page's own examples
    # what the examples made is what they say
    assert isinstance(ns["result"], judgemind.ScoreResult) and (tmp_path / "out/jump/sheet.html").is_file()
    assert ns["doc"] == json.loads((tmp_path / "out/jump/result.json").read_text())
    assert json.loads((tmp_path / "out/round/round.json").read_text())["n"] == 2
    assert [r.id for r in load_dataset(tmp_path / "data/mine", check_videos=True)] == ["jump"]
    out = capsys.readouterr().out
    assert ns["result"].final_score in out and all(d["item"] in out for d in ns["result"].deductions)
