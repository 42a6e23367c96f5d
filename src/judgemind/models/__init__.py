"""Scoring models: JudgeMind and the baselines, one registry (``list_models``, ``create_model``)."""

from judgemind.models.base import (
    MODELS,
    DataInfo,
    ModelOutput,
    build_config,
    check_model_overrides,
    create_model,
    keyed_dropout,
    keyed_uniform,
    list_models,
    masked_mean,
    model_config_class,
    register_model,
    score_loss,
)

__all__ = [
    "MODELS",
    "DataInfo",
    "ModelOutput",
    "build_config",
    "check_model_overrides",
    "create_model",
    "keyed_dropout",
    "keyed_uniform",
    "list_models",
    "masked_mean",
    "model_config_class",
    "register_model",
    "score_loss",
]
