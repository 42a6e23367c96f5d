"""The ladder suite: its folder stamp, its plan of commands, the interval arithmetic and the tables it renders;
and the committed docs: every generated table of docs/results.md is re-rendered from the committed source files."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from judgemind.bench import ladder as L
from judgemind.errors import JudgemindError

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"


def _row(rhos, seeds=(0, 1, 2), **extra):
    return {"model": "m", "ablation": None, "seeds": list(seeds), "rho": list(rhos), **extra}


def _doc():
    main = {
        "rows": {
            "judgemind": _row([0.90, 0.92, 0.91], rl2_x100=[0.7, 0.6, 0.65]),
            "tsa": _row([0.80, 0.82, 0.81]),
        },
        "tuning": {"judgemind": {"chosen": {"lr": 0.004}, "edges": {"lr": True}, "tuned": True}},
        "settings": {},
        "features": "skeleton",
        "n": {"train": 1400, "val": 300, "test": 300},
    }
    claims = {"rows": {"judgemind": _row([0.88, 0.90, 0.90])}, "tuning": {}}
    size = {"rows": {"judgemind": _row([0.5, 0.6, 0.55]), "tsa": _row([0.4, 0.45, 0.5])}, "tuning": {}}
    cuts = {"rows": {"judgemind": _row([0.9, 0.9, 0.9]), "tsa": _row([0.85, 0.8, 0.8])}, "tuning": {}}
    heavy = {"rows": {"judgemind": _row([0.88, 0.87, 0.89]), "tsa": _row([0.7, 0.72, 0.7])}, "tuning": {}}
    return {
        "suite": "ladder",
        "synthetic": True,
        "settings": L.LadderConfig(out=Path("x")).stamp(),
        "code": "abc",
        "commit": None,
        "stats": {
            "code_prior": {"rho": 0.4, "rl2x100": 3.6},
            "fault_oracle": {"rho": 0.98, "rl2x100": 0.2, "per_component": {}},
        },
        "parts": {"main": main, "claim_knowledge": claims, "size_100": size, "cuts_none": cuts, "cuts_heavy": heavy},
        "timing_s": {"data": 60.0},
    }


def test_mean_ci_matches_the_t_interval():
    s = L.mean_ci([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert s["mean"] == pytest.approx(2.0)
    assert s["lo"] == pytest.approx(2.0 - half, rel=1e-6) and s["hi"] == pytest.approx(2.0 + half, rel=1e-6)
    assert L.mean_ci([0.5])["lo"] is None and L.mean_ci([])["mean"] is None
    assert L.mean_ci([1.0, float("nan")])["mean"] is None


def test_render_marks_claims_edges_and_drops():
    md = L.render(_doc())
    assert "SYNTHETIC" in md
    # the knowledge claim: -0.02, -0.02, -0.01 on the same seeds -> interval below 0 -> holds
    line = next(x for x in md.splitlines() if x.startswith("| judgemind -knowledge"))
    assert line.rstrip().endswith("| yes |")
    assert "(edge: lr)" in md
    drop = next(x for x in md.splitlines() if x.startswith("| tsa | 0.817"))
    assert "| 0.810 [" in drop and drop.rstrip().endswith("| 0.110 [0.020, 0.200] |")  # broadcast: the main part
    assert "JudgeMind's drop is 0.18 of TSA's" in md
    assert "| 100 | 1400 |" in md  # the curve's sizes: the part's and the full training split


def test_claims_made_without_the_prior_pair_with_the_model_without_it():
    """A variant run without the statistics prior (made before it existed) is paired with JudgeMind without the
    prior, not with the full model: each Δ changes one component only."""
    doc = _doc()
    parts = doc["parts"]
    parts["main"]["rows"]["judgemind"]["stats_prior"] = [True] * 3
    parts["claim_statsprior"] = {"rows": {"judgemind": _row([0.85, 0.86, 0.86], stats_prior=[False] * 3)}}
    parts["claim_knowledge"]["rows"]["judgemind"]["stats_prior"] = [False] * 3
    parts["claim_shuffled"] = {"rows": {"judgemind": _row([0.89, 0.91, 0.90], stats_prior=[True] * 3)}}
    lines = L.render(doc).splitlines()
    prior = next(x for x in lines if x.startswith("| judgemind -statistics prior"))
    assert "| full model | -0.053 [" in prior and prior.rstrip().endswith("| yes |")
    know = next(x for x in lines if x.startswith("| judgemind -knowledge"))
    assert "| -statistics prior | 0.037 [" in know and know.rstrip().endswith("| no: it costs |")
    shuf = next(x for x in lines if x.startswith("| judgemind shuffled-knowledge"))
    assert "| full model | -0.010 [" in shuf
    # without the like-for-like reference, a variant without the prior is left out rather than mispaired
    del parts["claim_statsprior"]
    assert not any(x.startswith("| judgemind -knowledge") for x in L.render(doc).splitlines())


def test_replace_section_needs_one_marker_pair():
    text = f"a\n{L.BEGIN}\nold\n{L.END}\nb\n"
    new = L.replace_section(text, "new table\n")
    assert L.section_of(new) == "new table" and new.startswith("a\n") and new.endswith("b\n")
    with pytest.raises(JudgemindError, match="exactly one"):
        L.replace_section("no markers", "x")
    with pytest.raises(JudgemindError, match="exactly one"):
        L.replace_section(text + text, "x")


def test_stamp_refuses_another_preset_or_other_code(tmp_path, monkeypatch):
    cfg = L.LadderConfig(out=tmp_path / "s")
    L.check_stamp(cfg)
    L.check_stamp(cfg)  # same settings and code: resumes
    with pytest.raises(JudgemindError, match="preset: 'bench' there, 'other' now"):
        L.check_stamp(L.LadderConfig(out=tmp_path / "s", preset="other"))
    with pytest.raises(JudgemindError, match="epochs"):
        L.check_stamp(L.LadderConfig(out=tmp_path / "s", epochs=3))
    monkeypatch.setattr(L, "code_hash", lambda: "0000")
    with pytest.raises(JudgemindError, match="code: made by judgemind code"):
        L.check_stamp(cfg)
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "ladder.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(JudgemindError, match="not a ladder stamp"):
        L.check_stamp(L.LadderConfig(out=tmp_path / "t"))


def test_plan_chains_the_parts_with_one_budget_and_the_main_choices(tmp_path):
    cfg = L.LadderConfig(out=tmp_path, budget=5, seeds=(0, 1, 2), sizes=(100, 200))
    cmds = {step: [" ".join(c[3:]) for c in cs] for step, cs in L.plan(cfg)}
    assert list(cmds) == list(L.STEPS)
    assert any(c.startswith("synth") and "--preset bench" in c for c in cmds["data"])
    assert "--tune-budget 5" in cmds["main"][0] and "--seeds 0,1,2" in cmds["main"][0]
    main_json = str(tmp_path / "bench" / "main" / "bench.json")
    for step in ("claims", "curve", "cuts", "video", "cuthandling"):
        assert all(f"--settings-from {main_json}" in c for c in cmds[step] if c.startswith("bench"))
    assert cmds["claims"][0].endswith(f"--set judgemind.stats_prior=false --settings-from {main_json}")
    assert cmds["claims"][1].endswith(f"--set judgemind.knowledge=false --settings-from {main_json}")
    assert sum("--cuts none" in c for c in cmds["cuts"]) == 1 and sum("--cuts heavy" in c for c in cmds["cuts"]) == 1
    assert [c for c in cmds["curve"] if "--train-size 200" in c]
    with pytest.raises(JudgemindError, match="unknown step"):
        L.run_suite(L.LadderConfig(out=tmp_path / "x", steps=("nope",)))


def test_write_docs_renders_into_the_markers(tmp_path):
    out, docs = tmp_path / "suite", tmp_path / "docs"
    (out / "bench").mkdir(parents=True)
    docs.mkdir()
    (docs / "results.md").write_text(f"# R\n\nhand text\n\n{L.BEGIN}\n{L.END}\n\nmore hand text\n", encoding="utf-8")
    doc = _doc()
    L.write_docs(doc, out, docs)
    text = (docs / "results.md").read_text(encoding="utf-8")
    assert "hand text" in text and "more hand text" in text
    assert L.section_of(text) == L.render(doc).strip("\n")
    assert json.loads((docs / "results" / "ladder" / "ladder.json").read_text(encoding="utf-8")) == doc
    assert (docs / "results" / "ladder" / "curve.png").is_file()


LADDER = DOCS / "results" / "ladder" / "ladder.json"


@pytest.mark.skipif(not LADDER.is_file(), reason="no committed ladder run yet")
def test_docs_results_tables_are_the_committed_sources():
    """Every generated table row of docs/results.md comes from the committed ladder.json, and every row of
    ladder.json agrees with the committed bench.json of its part (mean over seeds)."""
    doc = json.loads(LADDER.read_text(encoding="utf-8"))
    text = (DOCS / "results.md").read_text(encoding="utf-8")
    assert L.section_of(text) == L.render(doc).strip("\n"), (
        "docs/results.md: re-run benchmarks/ladder.py --steps tables"
    )
    for part, body in doc["parts"].items():
        bench = json.loads((LADDER.parent / f"bench_{part}.json").read_text(encoding="utf-8"))
        for label, row in body["rows"].items():
            if not row.get("rho") or None in row["rho"]:
                continue
            mean = sum(row["rho"]) / len(row["rho"])
            assert bench["rows"][label]["ours"]["rho"][0] == pytest.approx(mean, abs=1e-9), (part, label)


def test_tables_alone_render_runs_of_other_code(tmp_path, monkeypatch):
    out, docs = tmp_path / "suite", tmp_path / "docs"
    L.check_stamp(L.LadderConfig(out=out))
    monkeypatch.setattr(L, "code_hash", lambda: "other")
    doc = L.run_suite(L.LadderConfig(out=out, steps=("tables",), docs=docs))  # renders, runs nothing
    assert doc["code"] != "other" and (docs / "results.md").is_file()
    with pytest.raises(JudgemindError, match="code"):
        L.run_suite(L.LadderConfig(out=out, steps=("main",), docs=docs))
    with pytest.raises(JudgemindError, match="no ladder suite"):
        L.run_suite(L.LadderConfig(out=tmp_path / "none", steps=("tables",), docs=docs))
