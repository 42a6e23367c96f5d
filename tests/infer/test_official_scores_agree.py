"""`judgemind evaluate` and `judgemind score` give the same official score to the same video, for an aerials5, an
aerials7 (legacy 7-judge) and a diving data set: both go through judgemind.infer and rules.compose_official.

The three data sets share one tiny SynthAerials render (videos and annotated skeletons, 64 px); the aerials7 and
diving ones re-write its panels in those formats (the diving one with dive numbers as codes). Features: `skeleton`
(read from the annotations, no decoding), so the tiny runs train in seconds."""

from __future__ import annotations

import json
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

pytest.importorskip("av")

from judgemind.cli.main import main  # noqa: E402
from judgemind.rules import COMPONENT_RANGES  # noqa: E402

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
    out = {
        "aerials5": a5,
        "aerials7": _rewrite(a5, root / "aerials7", "aerials7"),
        "diving": _rewrite(a5, root / "diving", "diving"),
    }
    for data in out.values():
        run_extract(data, "skeleton", locator="auto", workers=1, progress=False)
    return root, out


@pytest.mark.slow
@pytest.mark.parametrize(
    "scoring, model", [("aerials5", "judgemind"), ("aerials7", "judgemind"), ("diving", "mlp"), ("aerials5", "mlp")]
)
def test_evaluate_and_score_agree(datasets, scoring, model, tmp_path):
    root, sets = datasets
    data = sets[scoring]
    run = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--data",
                str(data),
                "--features",
                "skeleton",
                "--model",
                model,
                "--out",
                str(run),
                *FAST,
                *(JM if model == "judgemind" else []),
            ]
        )
        == 0
    )
    assert main(["evaluate", str(run), "--split", "test", "--out", str(tmp_path / "eval")]) == 0
    preds = [json.loads(x) for x in (tmp_path / "eval" / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) >= 2
    meta = json.loads((data / "dataset.json").read_text())
    recs = {json.loads(x)["id"]: json.loads(x) for x in (data / "annotations.jsonl").read_text().splitlines()}
    assert meta["scoring"] == scoring
    videos = [str(data / recs[p["id"]]["video"]) for p in preds]
    assert (
        main(
            ["score", *videos, "--checkpoint", str(run / "best.pt"), "--out", str(tmp_path / "round"), "--no-progress"]
        )
        == 0
    )
    for p in preds:
        res = json.loads((tmp_path / "round" / Path(recs[p["id"]]["video"]).stem / "result.json").read_text())
        assert Decimal(res["final_score"]) == Decimal(str(p["score"])).quantize(Decimal("0.01")), (p["id"], res)
        assert Decimal(res["dd"]) == Decimal(str(recs[p["id"]]["dd"]))
        if model == "judgemind" and scoring != "diving":
            assert res["components"] and res["J"] is not None
        # predicted contact never caps the landing: each mark is the raw prediction on the judges' grid
        for c, mark in (res.get("components") or {}).items():
            lo, hi = COMPONENT_RANGES[c]
            raw = min(max(Decimal(str(res["components_raw"][c])), lo), hi)
            assert Decimal(mark) == raw.quantize(Decimal("0.1"), ROUND_HALF_UP), (p["id"], c, res)


def test_a_predicted_contact_is_noted_never_capped():
    """``judgemind score`` composes the marks with no contact: a hand drag the model sees at 90 % leaves the predicted
    landing 2.8 as it is (the catalogue would cap it at 2.0) and only notes it for the judge."""
    from types import SimpleNamespace

    import numpy as np

    from judgemind.infer.score import compose_result

    out = {"score": 80.0, "components": np.array([1.5, 4.0, 2.8]), "deduction_probs": np.array([0.9, 0.1])}
    info = SimpleNamespace(scoring="aerials5", item_ids=("hand_drag", "bent_knees"))
    res = compose_result(out, SimpleNamespace(dd=Decimal("3.5")), info)
    assert res["components"] == {"air": "1.5", "form": "4.0", "landing": "2.8"}
    assert Decimal(res["J"]) == Decimal("24.9") and Decimal(res["final_score"]) == Decimal("87.15")
    assert "hand drag" in res["landing_cap_note"].lower() and "2.0" in res["landing_cap_note"]
