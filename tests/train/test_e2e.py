"""--end-to-end --backbone tiny3d: clips cached once from real (SynthAerials) videos, backbone trained with the
model, run evaluable, backbone exported for the tiny3d extractor."""

from __future__ import annotations

import json

import pytest
import torch

pytest.importorskip("av")


@pytest.mark.slow
def test_end_to_end_tiny3d(tmp_path):
    from judgemind.cli.cmd_evaluate import evaluate_run
    from judgemind.features.tiny3d import load_tiny3d
    from judgemind.runs.config import resolve_config
    from judgemind.synth import generate
    from judgemind.train.loop import fit

    data = generate(tmp_path / "synth", n=4, seed=3, size=64, workers=1, progress=False)
    meta = json.loads((data / "dataset.json").read_text())
    ids = [i for split in meta["splits"].values() for i in split]
    meta["splits"] = {"train": ids[:2], "val": ids[2:3], "test": ids[3:]}
    (data / "dataset.json").write_text(json.dumps(meta))
    cfg = resolve_config(
        None,
        [
            f"data.dataset={data}",
            "run.end_to_end=true",
            "run.backbone=tiny3d",
            "run.e2e_steps=6",
            "run.e2e_in_size=16",
            "run.e2e_clip_len=2",
            "model.d_model=16",
            "model.queries=2",
            "optim.epochs=1",
            "optim.batch_size=2",
            "run.threads=1",
            f"run.out={tmp_path / 'run'}",
        ],
    )
    threads = torch.get_num_threads()
    try:
        run = fit(cfg)
    finally:
        torch.set_num_threads(threads)
    clips = list((data / "clips").glob("tiny3d-*/*.safetensors"))
    assert len(clips) == 3  # train + val cached once
    ck = torch.load(run / "best.pt", weights_only=True)
    assert any(k.startswith("backbone.") for k in ck["model"]) and ck["config"]["run"]["end_to_end"] is True
    net, info = load_tiny3d(run / "tiny3d.safetensors")
    assert info["config"].in_size == 16
    doc = evaluate_run(run, split="test")
    assert doc["n"] == 1 and (run / "eval" / "test-best" / "predictions.jsonl").is_file()
