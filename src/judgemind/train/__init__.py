"""Training: config resolution (``config``), batches from the feature cache (``data``), the loop (``loop``: the
one training loop, :func:`fit_model`, and ``judgemind train``'s :func:`fit`), checkpoints (``checkpoint``),
data-parallel runs (``dist``), run folders (``runs``), metrics of model outputs (``predict``), 90 % intervals and
the in-distribution reference (``calibrate``), end-to-end training of a video backbone (``e2e``). Loading a
finished run and scoring with it is ``judgemind.infer``.

    from judgemind.train import resolve_config, fit
    from judgemind.infer import evaluate_run
    cfg = resolve_config(sets=["data.dataset=data/synth", "data.features=tiny3d", "model.name=judgemind"])
    run = fit(cfg)
    evaluate_run(run, split="test")
"""

from judgemind.runs.batch import CODE_DIM, FeatureDataset, code_features, prepare_data
from judgemind.runs.config import TrainConfig, resolve_config
from judgemind.runs.model import load_run_model
from judgemind.train.loop import evaluate, fit, fit_model, train_one_epoch

__all__ = [
    "CODE_DIM",
    "FeatureDataset",
    "TrainConfig",
    "code_features",
    "evaluate",
    "fit",
    "fit_model",
    "load_run_model",
    "prepare_data",
    "resolve_config",
    "train_one_epoch",
]
