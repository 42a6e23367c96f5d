"""What every scoring model (JudgeMind and the baselines) shares: the batch layout, the output type, the registry.

Batch: a dict of tensors built by ``judgemind.runs.batch`` (B videos, T time steps, K catalogue items, J judges):

    global        float (B, T, Dg)   whole-frame tokens
    foreground    float (B, T, Df)   athlete-crop tokens
    mask          bool  (B, T)       True for real (not padded) steps
    shot          long  (B, T)       camera-shot index of each step (0, 1, ...; cuts split shots)
    stage         long  (B, T)       stage label per step (0 take-off, 1 flight, 2 landing; -100 unknown)
    bounds        long  (B, 2)       first step of flight and first step of landing (-1 unknown)
    code          float (B, C)       parsed action code features (judgemind.runs.batch.code_features)
    action        long  (B,)         index of the action code in the training vocabulary (-1 unseen)
    dd            float (B,)         degree of difficulty
    score         float (B,)         final score (target)
    components    float (B, 3)       panel mean Air, Form, Landing (NaN where the dataset has none, e.g. diving)
    judges        float (B, J)       per-judge totals (NaN-padded)
    deductions    float (B, K)       multi-hot deduction items
    ded_points    float (B, K)       annotated points of each item (0 where absent)
    ded_steps     float (B, K, T)    1 at the steps inside an annotated item's frames (its evidence), else 0
    index         long  (B,)         position of the record in its split

Training batches also carry

    seed          long  (B,)         per-sample random seed for training-time augmentation, derived from the run
                                     seed, the epoch and the record (absent in evaluation); draw numbers from it
                                     with :func:`keyed_uniform`, so that a sample's augmentation does not depend on
                                     which batch or process it lands in (DDP gives the same result as 1 process)

Exemplar-based models (CoRe, TSA) set ``needs_train_set = True``; the trainer then calls
``model.attach_train_set(tensors)`` with the whole training split stacked as above (same keys, first dim = N
training videos; ``judgemind.runs.batch.FeatureDataset.tensors``) before training and before
evaluation/prediction.

Every model returns a :class:`ModelOutput` and implements ``loss(out, batch) -> (loss, parts)``; the training
loop does nothing else with it. Conventions the trainer relies on:

* ``loss`` is the **mean over the batch of per-sample losses** (a target missing for a sample contributes 0 to
  that sample, it does not change the denominator). Then the loss of a batch split over W processes, each scaled
  by its share, adds up to the loss of the whole batch, and distributed training equals single-process training.
* ``parts`` maps names to Python floats (batch means of the weighted terms), for the log.
* Randomness in ``forward`` during training comes from ``batch["seed"]`` (:func:`keyed_uniform`), not from the
  global generator (so no ``nn.Dropout``; use :func:`keyed_dropout`).
* Optional hook ``set_epoch(epoch, n_epochs)``: called by the trainer before each training epoch (schedules).
* Optional hook ``fit_on_select(select, batch_size)``: called by the trainer after each training epoch, before the
  epoch is evaluated, with val's select half (a FeatureDataset: the split that picks the checkpoint epoch, never
  the calib half or test); a model may fit a few post-hoc numbers there (JudgeMind: its statistics prior's share).

Adding a model (e.g. a baseline): one file ``judgemind/models/<name>.py`` with a config dataclass and

    @register_model("name", "one-line description", config=NameConfig)
    def build(overrides: dict, info: DataInfo):
        cfg = build_config(NameConfig, overrides)
        return NameModel(cfg, info), cfg

It is then listed by ``judgemind models``, trainable with ``judgemind train --model name`` and covered by the
smoke test that loops over :func:`list_models`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import torch
from torch import nn

from judgemind.errors import JudgemindError
from judgemind.rules.names import SCORING_FORMATS
from judgemind.utils.registry import Registry


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
    stage_scores    (B, 3)    per-stage contributions to the judges' total J (models that score stages directly,
                              e.g. JudgeMind on diving data where there are no Air/Form/Landing marks)
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
    stage_scores: torch.Tensor | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DataInfo:
    """Facts about the data a model is built for (dimensions, vocabularies, scoring format)."""

    dim_global: int
    dim_foreground: int
    steps: int
    n_items: int  # catalogue size K (0 for datasets without deductions)
    n_judges: int  # 5 for aerials, 7/3/5 for diving (max)
    code_dim: int
    n_actions: int  # training action-code vocabulary size
    scoring: str = "aerials5"  # "aerials5" | "aerials7" | "diving"
    item_ids: tuple[str, ...] = ()
    item_texts: tuple[str, ...] = ()  # one-sentence descriptions (knowledge bank)
    score_max: float = 150.0
    # Extensions (all optional, with defaults, so older call sites keep working):
    item_stages: tuple[str, ...] = ()  # stage of each catalogue item (takeoff / flight / landing)
    item_components: tuple[str, ...] = ()  # component of each catalogue item (air / form / landing)
    catalogue_version: str = ""
    action_codes: tuple[str, ...] = ()  # the training vocabulary behind ``batch["action"]``
    score_mean: float = 0.0  # training-split mean and std of the final score (target scaling)
    score_std: float = 1.0
    dd_mean: float = 1.0  # training-split mean DD
    item_points_min: tuple[float, ...] = ()  # catalogue point range of each item (knowledge that enters the score)
    item_points_max: tuple[float, ...] = ()
    item_rates: tuple[float, ...] = ()  # share of training videos with each item (positive weighting)

    def to_dict(self) -> dict:
        """JSON-ready dict (tuples become lists); inverse of :meth:`from_dict`."""

        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "DataInfo":

        if not isinstance(d, dict):
            raise JudgemindError(f"DataInfo: expected a mapping, got {type(d).__name__}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(fields))
        if unknown:
            raise JudgemindError(
                f"DataInfo: unknown field(s) {', '.join(map(str, unknown))} (written by a newer judgemind?)"
            )
        missing = sorted(n for n, f in fields.items() if f.default is dataclasses.MISSING and n not in d)
        if missing:
            raise JudgemindError(f"DataInfo: missing field(s) {', '.join(missing)}")
        out = {}
        for k, v in d.items():
            kind = str(fields[k].type)
            if kind.startswith("tuple[float"):
                if not isinstance(v, (list, tuple)) or not all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v
                ):
                    raise JudgemindError(f"DataInfo.{k}: expected a list of finite numbers")
                v = tuple(float(x) for x in v)
            elif kind.startswith("tuple"):
                if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
                    raise JudgemindError(f"DataInfo.{k}: expected a list of strings")
                v = tuple(v)
            elif kind == "str":
                if not isinstance(v, str):
                    raise JudgemindError(f"DataInfo.{k}: expected text, got {type(v).__name__}")
            else:  # int / float
                ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                if not ok or (kind == "int" and (not isinstance(v, int) or not 0 <= v <= 1 << 20)):
                    raise JudgemindError(f"DataInfo.{k}: expected a {kind} within limits, got {str(v)[:40]}")
            out[k] = v
        if out.get("scoring", "aerials5") not in SCORING_FORMATS:
            raise JudgemindError(f"DataInfo.scoring: unknown scoring format {str(out.get('scoring'))[:40]!r}")
        return cls(**out)


MODELS = Registry("model", package="judgemind.models", skip=("base",), hint="`judgemind models` lists them")


def register_model(name: str, description: str = "", config: type | None = None):
    """Decorator: ``@register_model("judgemind", "description", config=JudgeMindConfig)`` on a factory
    ``fn(cfg_overrides: dict, info: DataInfo)`` returning ``(model, config_dataclass_instance)``.

    ``config`` (the model's config dataclass, required: its fields are the model's options) lets the trainer check
    ``--set model.*`` keys before any data is loaded (:func:`check_model_overrides`)."""

    def deco(fn):
        if config is None:
            raise JudgemindError(
                f"model registry: {name!r} needs its config dataclass (register_model(..., "
                f"config=...)); its fields are the model's options"
            )
        return MODELS.register(
            name, fn, description=description or (fn.__doc__ or "").strip().split("\n")[0], config=config
        )

    return deco


def list_models() -> dict[str, str]:
    return {e.name: e.description for e in MODELS.entries()}


def create_model(name: str, cfg: dict | None, info: DataInfo) -> tuple[nn.Module, object]:
    """Build a registered model. ``cfg`` holds overrides of its config dataclass (unknown keys -> error)."""
    overrides = MODELS.check_options(name, cfg or {})
    return MODELS.get(name).obj(overrides, info)


def model_config_class(name: str) -> type:
    """The config dataclass a model registered with."""
    return MODELS.get(name).config


def check_model_overrides(name: str, overrides: dict) -> dict:
    """Resolve ``overrides`` against the model's config dataclass without building the model: returns the full
    config as a dict (defaults filled in); unknown keys or bad values -> :class:`JudgemindError`."""

    overrides = MODELS.check_options(name, overrides)
    return dataclasses.asdict(build_config(model_config_class(name), overrides, where="model"))


def build_config(cls, overrides: dict, where: str = "model"):
    """Instantiate config dataclass ``cls`` with ``overrides``; unknown keys and bad types -> clear error."""

    aliases = getattr(cls, "ALIASES", {})  # e.g. {"global": "global_tokens"}
    overrides = {aliases.get(k, k): v for k, v in overrides.items()}
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise JudgemindError(f"unknown {where} config key(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    kw = {}
    for k, v in overrides.items():
        default = (
            getattr(cls(), k)
            if all(
                f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
                for f in names.values()
            )
            else None
        )
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
        elif isinstance(default, float) and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        elif isinstance(default, int) and not isinstance(default, bool) and isinstance(v, float) and v.is_integer():
            v = int(v)
        kw[k] = _checked_value(where, k, v, default)
    return cls(**kw)


def _checked_value(where: str, key: str, v, default):
    """A config value of the default's type, finite, not negative where the default is not, and bounded (a
    checkpoint or YAML file is untrusted input: a wrong type must not reach the model's constructor)."""

    name = f"{where}.{key}"
    if default is None:
        return v
    if isinstance(default, bool):
        if not isinstance(v, bool):
            raise JudgemindError(f"{name} expects true/false, got {str(v)[:40]!r}")
        return v
    if isinstance(default, (int, float)):
        if (
            isinstance(v, bool)
            or not isinstance(v, (int, float))
            or (isinstance(default, int) and isinstance(v, float))
        ):
            raise JudgemindError(f"{name} expects a {type(default).__name__}, got {str(v)[:40]!r}")
        if isinstance(v, float) and not math.isfinite(v):
            raise JudgemindError(f"{name} must be a finite number, got {v}")
        if default >= 0 and v < 0:
            raise JudgemindError(f"{name} must be >= 0, got {v}")
        limit = 2**63 - 1 if "seed" in key else (1 << 16) if where == "model" and isinstance(v, int) else 10**9
        if abs(v) > limit:
            raise JudgemindError(f"{name} = {v} is larger than judgemind allows ({limit})")
        return v
    if isinstance(default, str):
        if not isinstance(v, str):
            raise JudgemindError(f"{name} expects text, got {type(v).__name__}")
        return v
    if isinstance(default, (tuple, list)):
        if not isinstance(v, (tuple, list)):
            raise JudgemindError(f"{name} expects a list, got {type(v).__name__}")
        return type(default)(v)
    return v


# --------------------------------------------------------------------------------------------------------------
# Helpers shared by the models.

_M64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def keyed_uniform(seed: torch.Tensor, n: int, stream: int = 0) -> torch.Tensor:
    """Per-sample random numbers: ``(B,)`` long seeds -> ``(B, n)`` float32 uniform in [0, 1), on the CPU.

    Row ``i`` is drawn from a generator seeded by a hash of (``seed[i]``, ``stream``) only, never from the global
    generator or the other rows, so training augmentation is identical however a global batch is split over
    processes. Use a different ``stream`` for each independent use inside a model.
    """
    g = torch.Generator()
    rows = []
    for s in seed.reshape(-1).tolist():
        g.manual_seed(_splitmix64((int(s) & _M64) ^ _splitmix64(stream)) & ((1 << 63) - 1))
        rows.append(torch.rand(n, generator=g))
    return torch.stack(rows) if rows else torch.empty(0, n)


def keyed_dropout(x: torch.Tensor, seed: torch.Tensor | None, p: float, stream: int) -> torch.Tensor:
    """Inverted dropout of ``x`` (B, ...) with per-sample keyed masks; identity when ``seed`` is None or p == 0."""
    if seed is None or p <= 0:
        return x
    keep = keyed_uniform(seed, x[0].numel(), stream).reshape(x.shape).to(x.device) >= p
    return x * keep.to(x.dtype) / (1.0 - p)


def masked_mean(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over time of ``x`` (B, T, D) where ``mask`` (B, T) is True -> (B, D); every step when ``mask`` is
    None."""
    if mask is None:
        return x.mean(1)
    w = mask.to(x.dtype).unsqueeze(-1)
    return (x * w).sum(1) / w.sum(1).clamp_min(1.0)


def score_loss(pred: torch.Tensor, batch: dict, info: DataInfo) -> torch.Tensor:
    """Per-sample squared error of the final score in units of the training score std: (B,) -> (B,)."""
    return ((pred - batch["score"]) / max(info.score_std, 1e-6)) ** 2
