"""What every scoring model (JudgeMind and the baselines) shares: the batch layout, the output type, the registry.

Batch: a dict of tensors built by ``judgemind.train.data`` (B videos, T time steps, K catalogue items, J judges):

    global        float (B, T, Dg)   whole-frame tokens
    foreground    float (B, T, Df)   athlete-crop tokens
    mask          bool  (B, T)       True for real (not padded) steps
    shot          long  (B, T)       camera-shot index of each step (0, 1, ...; cuts split shots)
    stage         long  (B, T)       stage label per step (0 take-off, 1 flight, 2 landing; -100 unknown)
    bounds        long  (B, 2)       first step of flight and first step of landing (-1 unknown)
    code          float (B, C)       parsed action code features (judgemind.train.data.code_features)
    action        long  (B,)         index of the action code in the training vocabulary (-1 unseen)
    dd            float (B,)         degree of difficulty
    score         float (B,)         final score (target)
    components    float (B, 3)       panel mean Air, Form, Landing (NaN where the dataset has none, e.g. diving)
    judges        float (B, J)       per-judge totals (NaN-padded)
    deductions    float (B, K)       multi-hot deduction items
    index         long  (B,)         position of the record in its split

Exemplar-based models (CoRe, TSA) set ``needs_train_set = True``; the trainer then calls
``model.attach_train_set(tensors)`` with the whole training split stacked as above (same keys, first dim = N
training videos) before training and before evaluation/prediction.

Every model returns a :class:`ModelOutput` and implements ``loss(out, batch) -> (loss, parts)``; the training
loop does nothing else with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from judgemind.errors import JudgemindError


@dataclass
class ModelOutput:
    """What a model predicts for a batch. Only ``score`` is required.

    score           (B,)      final score (differentiable; the rules engine composes the official value later)
    components      (B, 3)    Air, Form, Landing of a consensus judge
    stage_logits    (B, T, 3) per-step stage logits
    bounds          (B, 2)    decoded first step of flight / landing (long)
    deduction_logits (B, K)   multi-label deduction logits
    deduction_step  (B, K)    time step of strongest evidence per item (long)
    band_logits     dict component -> (B, n_bands)
    judges          (B, J)    per-judge totals (MUSDL)
    extra           anything else worth reporting (attention maps, gates)
    """

    score: torch.Tensor
    components: torch.Tensor | None = None
    stage_logits: torch.Tensor | None = None
    bounds: torch.Tensor | None = None
    deduction_logits: torch.Tensor | None = None
    deduction_step: torch.Tensor | None = None
    band_logits: dict | None = None
    judges: torch.Tensor | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DataInfo:
    """Facts about the data a model is built for (dimensions, vocabularies, scoring format)."""

    dim_global: int
    dim_foreground: int
    steps: int
    n_items: int                      # catalogue size K (0 for datasets without deductions)
    n_judges: int                     # 5 for aerials, 7/3/5 for diving (max)
    code_dim: int
    n_actions: int                    # training action-code vocabulary size
    scoring: str = "aerials5"         # "aerials5" | "aerials7" | "diving"
    item_ids: tuple[str, ...] = ()
    item_texts: tuple[str, ...] = ()  # one-sentence descriptions (knowledge bank)
    score_max: float = 150.0


_REGISTRY: dict[str, Callable] = {}
_DESCRIPTIONS: dict[str, str] = {}


def register_model(name: str, description: str = ""):
    """Decorator: ``@register_model("judgemind")`` on a factory ``fn(cfg_overrides: dict, info: DataInfo)``
    returning ``(model, config_dataclass_instance)``."""

    def deco(fn):
        if name in _REGISTRY:
            raise RuntimeError(f"model {name!r} registered twice")
        _REGISTRY[name] = fn
        _DESCRIPTIONS[name] = description or (fn.__doc__ or "").strip().split("\n")[0]
        return fn

    return deco


def _import_all() -> None:
    # Importing the model modules registers them.
    import importlib
    import pkgutil

    import judgemind.models as pkg
    for m in pkgutil.iter_modules(pkg.__path__):
        if m.name not in ("base",) and not m.name.startswith("_"):
            importlib.import_module(f"judgemind.models.{m.name}")


def list_models() -> dict[str, str]:
    _import_all()
    return dict(sorted(_DESCRIPTIONS.items()))


def create_model(name: str, cfg: dict | None, info: DataInfo) -> tuple[nn.Module, object]:
    """Build a registered model. ``cfg`` holds overrides of its config dataclass (unknown keys -> error)."""
    _import_all()
    if name not in _REGISTRY:
        import difflib
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        raise JudgemindError(f"unknown model {name!r}; known: {', '.join(sorted(_REGISTRY))}"
                             + (f" (did you mean {', '.join(close)}?)" if close else ""))
    return _REGISTRY[name](dict(cfg or {}), info)


def build_config(cls, overrides: dict, where: str = "model"):
    """Instantiate config dataclass ``cls`` with ``overrides``; unknown keys and bad types -> clear error."""
    import dataclasses

    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise JudgemindError(f"unknown {where} config key(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    kw = {}
    for k, v in overrides.items():
        default = getattr(cls(), k) if all(f.default is not dataclasses.MISSING or
                                           f.default_factory is not dataclasses.MISSING
                                           for f in names.values()) else None
        if isinstance(default, bool) and not isinstance(v, bool):
            if str(v).lower() in ("true", "1", "yes", "on"):
                v = True
            elif str(v).lower() in ("false", "0", "no", "off"):
                v = False
            else:
                raise JudgemindError(f"{where}.{k} expects true/false, got {v!r}")
        elif isinstance(default, (int, float)) and not isinstance(default, bool) and isinstance(v, str):
            try:
                v = type(default)(v)
            except ValueError:
                raise JudgemindError(f"{where}.{k} expects a {type(default).__name__}, got {v!r}") from None
        kw[k] = v
    return cls(**kw)
