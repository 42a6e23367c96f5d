"""Training: config resolution (``config``), batches from the feature cache (``data``), the loop (``loop``),
checkpoints (``checkpoint``), data-parallel runs (``dist``), run folders with evaluate/predict (``runs``),
metrics and prediction files (``predict``), end-to-end training of a video backbone (``e2e``).

    from judgemind.train import resolve_config, fit, evaluate_run
    cfg = resolve_config(sets=["data.dataset=data/synth", "data.features=tiny3d", "model.name=judgemind"])
    run = fit(cfg)
    evaluate_run(run, split="test")
"""

from judgemind.train.config import TrainConfig, resolve_config
from judgemind.train.data import CODE_DIM, FeatureDataset, code_features, prepare_data
from judgemind.train.loop import evaluate, fit, train_one_epoch
from judgemind.train.runs import evaluate_run, load_run_model, predict_run

__all__ = ["CODE_DIM", "FeatureDataset", "TrainConfig", "code_features", "evaluate", "evaluate_run", "fit",
           "load_run_model", "predict_run", "prepare_data", "resolve_config", "train_one_epoch"]
