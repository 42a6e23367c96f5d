"""Scoring models: JudgeMind and the baselines, one registry (``list_models``, ``create_model``)."""

from judgemind.models.base import DataInfo, ModelOutput, build_config, create_model, list_models, register_model

__all__ = ["DataInfo", "ModelOutput", "build_config", "create_model", "list_models", "register_model"]
