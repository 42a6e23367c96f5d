"""The bench trains through the one training loop (train.loop.fit_model), once per run."""

from __future__ import annotations

import judgemind.bench.run as bench_run
import judgemind.train.loop as loop  # noqa: E402
from judgemind.bench import BenchConfig, run_bench  # noqa: E402
from judgemind.train.toy import make_toy_dataset  # noqa: E402


def test_every_bench_run_is_one_fit_model_call(tmp_path, monkeypatch):
    data = make_toy_dataset(tmp_path / "data", n=24, steps=8, dim=8)
    calls = []
    real = loop.fit_model

    def counted(cfg, d, ctx, on_epoch, **kw):
        calls.append((cfg.model_name, cfg.optim.seed, cfg.optim.epochs))
        return real(cfg, d, ctx, on_epoch, **kw)

    monkeypatch.setattr(bench_run, "fit_model", counted)  # the name the bench calls (imported from train.loop)
    assert bench_run.fit_model is counted and real is loop.fit_model
    doc, results = run_bench(
        BenchConfig(
            data=str(data),
            models=["mean,mlp"],
            seeds=[0, 1],
            epochs=2,
            out=str(tmp_path / "out"),
            jobs=1,
            progress=False,
        )
    )
    assert sorted(calls) == [("mean", 0, 2), ("mean", 1, 2), ("mlp", 0, 2), ("mlp", 1, 2)]
    assert [len(r["history"]) for r in results] == [2, 2, 2, 2]  # the callback ran after every epoch
    assert doc["out"] == str(tmp_path / "out") and (tmp_path / "out" / "results" / "mlp" / "seed1.json").is_file()
    assert not (tmp_path / "out" / "bench.md").exists()  # report/ writes the tables, not bench/
