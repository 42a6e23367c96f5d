"""``judgemind bench``: JudgeMind and the classic AQA baselines on the same features and splits, over seeds.

    doc, results = run_bench(BenchConfig(data="data/synth", features="tiny3d", models=("all",), seeds=(0, 1, 2)))
    judgemind.report.bench.write_bench_outputs(Path(doc["out"]), doc, results)     # bench.md, bench.csv, plots

* :mod:`.plan` -- which runs (models, JudgeMind's ablations, seeds) with which settings (``--set``, ``--tune``);
* :mod:`.run` -- the data read once, every run trained by ``judgemind.train.loop.fit_model`` (the loop
  ``judgemind train`` uses) with an epoch callback that evaluates val and test; one result file per run, resumable;
* :mod:`.summary` -- mean +- std over seeds, the data set's floor/ceiling, the findings.

Two protocols come from one run: **ours** (the epoch with the best validation rho is the checkpoint; its test
metrics are reported; test plays no part in the choice) and **best epoch on test** (the field's protocol: the best
test rho and the lowest test R-l2 over epochs, reported only beside published tables, clearly labelled).

``data="finediving:PATH"`` selects the FineDiving protocol on a FineSkiing-format folder converted from FineDiving
(``judgemind data convert``): features ``i3d`` by default, raw dive score as the target (never x DD), exemplars of
the same dive number with 10 voters at test (CoRe, TSA), 7-judge MUSDL (21 bins of 0.5). See docs/bench.md.
"""

from judgemind.bench.plan import ABLATIONS, ALL_MODELS, BenchConfig, RunSpec, plan_runs
from judgemind.bench.run import BenchData, load_bench_data, run_bench

__all__ = [
    "ABLATIONS",
    "ALL_MODELS",
    "BenchConfig",
    "BenchData",
    "RunSpec",
    "load_bench_data",
    "plan_runs",
    "run_bench",
]
