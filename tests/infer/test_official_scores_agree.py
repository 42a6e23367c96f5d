"""`judgemind evaluate` and `judgemind score` give the same official score to the same video, for an aerials5, an
aerials7 (legacy 7-judge) and a diving data set: both go through judgemind.infer and rules.compose_official.

The three data sets share one tiny SynthAerials render (videos and annotated skeletons, 64 px); the aerials7 and
diving ones re-write its panels in those formats (the diving one with dive numbers as codes). Features: `skeleton`
(read from the annotations, no decoding), so the tiny runs train in seconds."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("av")

from judgemind.cli.main import main  # noqa: E402

FAST = ["--epochs", "1", "--threads", "1", "--set", "optim.batch_size=4"]
JM = ["--set", "model.text_encoder=hashing", "--set", "model.d_model=16", "--set", "model.queries=2"]


def _rewrite(src: Path, dst: Path, scoring: str) -> Path:
    """A copy of the data set ``src`` (videos, skeletons) with its panels in another scoring format."""
    from judgemind import rules

    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("features"))
    meta = json.loads((dst / "dataset.json").read_text())
    meta["scoring"] = scoring
    lines = []
    for i, line in enumerate((dst / "annotations.jsonl").read_text().splitlines()):
        rec = json.loads(line)
        marks = [(Decimal(str(j["air"])), Decimal(str(j["form"])), Decimal(str(j["landing"]))) for j in rec["judges"]]
        dd = Decimal(str(rec["dd"]))
        if scoring == "aerials7":
            af = [min(a + f, Decimal("7.0")) for a, f, _ in marks]
            land = [marks[0][2], marks[1][2]]
            rec["judges"] = [{"air_form": float(x)} for x in af] + [{"landing": float(x)} for x in land]
            rec["final_score"] = float(rules.score_aerials_legacy(af, land, dd).score)
        else:  # diving: 5 judges' scores on the 0.5 grid, a dive number and its DD
            scores = [Decimal(int(2 * (a + f + l) * 10 / 10) % 21) / 2 for a, f, l in marks]
            rec["action_code"], rec["dd"] = ("107B", 3.0) if i % 2 else ("5253B", 3.4)
            rec["judges"] = [{"score": float(s)} for s in scores]
            rec["final_score"] = float(rules.score_diving(scores, Decimal(str(rec["dd"]))).score)
            rec["deductions"] = []
        lines.append(json.dumps(rec))
    (dst / "annotations.jsonl").write_text("\n".join(lines) + "\n")
    (dst / "dataset.json").write_text(json.dumps(meta))
    return dst


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    from judgemind.features.pipeline import run_extract
    from judgemind.synth import generate

    root = tmp_path_factory.mktemp("agree")
    a5 = generate(root / "aerials5", n=16, seed=4, size=64, workers=1, progress=False)
    out = {"aerials5": a5, "aerials7": _rewrite(a5, root / "aerials7", "aerials7"),
           "diving": _rewrite(a5, root / "diving", "diving")}
    for data in out.values():
        run_extract(data, "skeleton", locator="auto", workers=1, progress=False)
    return root, out


@pytest.mark.slow
@pytest.mark.parametrize("scoring, model", [("aerials5", "judgemind"), ("aerials7", "judgemind"),
                                            ("diving", "mlp"), ("aerials5", "mlp")])
def test_evaluate_and_score_agree(datasets, scoring, model, tmp_path):
    root, sets = datasets
    data = sets[scoring]
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--features", "skeleton", "--model", model, "--out", str(run),
                 *FAST, *(JM if model == "judgemind" else [])]) == 0
    assert main(["evaluate", str(run), "--split", "test", "--out", str(tmp_path / "eval")]) == 0
    preds = [json.loads(x) for x in (tmp_path / "eval" / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) >= 2
    meta = json.loads((data / "dataset.json").read_text())
    recs = {json.loads(x)["id"]: json.loads(x) for x in (data / "annotations.jsonl").read_text().splitlines()}
    assert meta["scoring"] == scoring
    videos = [str(data / recs[p["id"]]["video"]) for p in preds]
    assert main(["score", *videos, "--checkpoint", str(run / "best.pt"), "--out", str(tmp_path / "round"),
                 "--no-progress"]) == 0
    for p in preds:
        res = json.loads((tmp_path / "round" / Path(recs[p["id"]]["video"]).stem / "result.json").read_text())
        assert Decimal(res["final_score"]) == Decimal(str(p["score"])).quantize(Decimal("0.01")), (p["id"], res)
        assert Decimal(res["dd"]) == Decimal(str(recs[p["id"]]["dd"]))
        if model == "judgemind" and scoring != "diving":
            assert res["components"] and res["J"] is not None
        assert not any("cap" in n and "applied" in n for n in res["notes"])
