"""The data of a run, read once for whoever trains or evaluates it: features from a cache (``runs.batch``) or frame
clips for end-to-end training (``runs.e2e``)."""

from __future__ import annotations

from judgemind.runs.batch import load_feature_split, prepare_data, split_records
from judgemind.runs.config import TrainConfig
from judgemind.runs.e2e import prepare_e2e_data

__all__ = ["prepare_run_data"]


def prepare_run_data(cfg: TrainConfig):
    """The data of a run (features from a cache, or frame clips for end-to-end training)."""
    if cfg.run.end_to_end:
        return prepare_e2e_data(cfg)
    data = prepare_data(cfg.data)
    if cfg.run.log_test:
        data.test = load_feature_split(
            data.cache, split_records(data.dataset, cfg.data.test_split, "test"), data.info, cfg.data.test_split
        )
    return data
