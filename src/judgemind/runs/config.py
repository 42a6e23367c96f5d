"""Training configuration: dataclasses with defaults in code < a YAML file (``--config FILE``) < ``--set k=v`` flags
< the dedicated command-line flags (``--data``, ``--epochs``, ...).

YAML layout (every section and key optional; unknown keys are an error naming the file and the key)::

    data:  {dataset: data/synth, features: tiny3d, train_split: train, val_split: val, test_split: test}
    model: {name: judgemind, knowledge: false, d_model: 128}     # name + the model's own config keys
    optim: {lr: 0.0005, weight_decay: 0.01, epochs: 40, batch_size: 16, grad_clip: 1.0, seed: 0}
    run:   {out: runs/jm, device: auto, threads: 0}

``--set model.knowledge=false``, ``--set optim.lr=1e-3`` address the same keys. The model section is checked
against the registered model's config dataclass (``judgemind.models.check_model_overrides``); the resolved config
holds every key with its value, so a run folder reproduces the run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from judgemind.errors import JudgemindError
from judgemind.models.base import build_config, check_model_overrides


@dataclass
class DataConfig:
    """Which data set, features and splits to train on."""

    dataset: str = ""  # dataset folder (FineSkiing format)
    features: str = ""  # feature cache name under DATASET/features/
    train_split: str = "train"
    val_split: str = "val"  # best.pt is chosen on its select half, intervals calibrated on its calib half
    test_split: str = "test"
    dim_global: int = 0  # expected feature sizes; 0 = take them from the cache manifest
    dim_foreground: int = 0


@dataclass
class OptimConfig:
    """AdamW with a per-step cosine schedule after a linear warm-up."""

    lr: float = 5e-4
    weight_decay: float = 0.01
    epochs: int = 40
    batch_size: int = 16  # the global batch: under torchrun each of W processes takes batch_size / W
    grad_clip: float = 1.0  # max global gradient norm; 0 = off
    warmup_epochs: float = 1.0
    schedule: str = "cosine"  # cosine | constant
    seed: int = 0
    # model-independent training augmentation of the tokens (judgemind.train.augment); 0 = off
    aug_noise: float = 0.0  # Gaussian token noise, std as a share of the video's per-dimension std
    aug_shot: float = 0.0  # probability per video of a shot-wise gain/bias (imitates a camera switch)
    aug_gain: float = 0.2  # shot gain amplitude (x in [1-g, 1+g] per dimension)
    aug_bias: float = 0.2  # shot bias amplitude, in units of the video's per-dimension std


@dataclass
class RunConfig:
    """Where and how to run."""

    out: str = ""  # run folder; default runs/<model>-<dataset name>-<features>-s<seed>
    device: str = "auto"  # auto (cuda if available) | cpu | cuda
    threads: int = 0  # torch CPU threads per process; 0 = torch's default
    eval_batch_size: int = 64
    log_test: bool = False  # also evaluate the test split every epoch, logged as "test" (the field's
    #                                "best epoch on test" number; never used to select a checkpoint)
    end_to_end: bool = False  # train a video backbone together with the model, from cached frame clips
    backbone: str = ""  # the backbone for end_to_end (tiny3d)
    e2e_steps: int = 32  # end_to_end: time steps per video (T)
    e2e_in_size: int = 64  # end_to_end: clip side in pixels
    e2e_clip_len: int = 8  # end_to_end: frames per clip
    e2e_locator: str = "auto"  # end_to_end: athlete locator for the crops (auto: annotation boxes if present)


SECTIONS = {"data": DataConfig, "optim": OptimConfig, "run": RunConfig}


@dataclass
class TrainConfig:
    """The resolved configuration of a run. ``model`` holds the model's config keys (all of them once resolved)."""

    data: DataConfig = field(default_factory=DataConfig)
    model_name: str = "judgemind"
    model: dict = field(default_factory=dict)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict:
        return {
            "data": dataclasses.asdict(self.data),
            "model": {"name": self.model_name, **self.model},
            "optim": dataclasses.asdict(self.optim),
            "run": dataclasses.asdict(self.run),
        }

    @classmethod
    def from_dict(cls, d: dict, where: str = "config") -> "TrainConfig":
        """Build and check a config from a nested dict (e.g. a run folder's ``config.yaml``)."""
        raw = _split_sections(d, where)
        name = str(raw["model"].pop("name", "judgemind"))
        cfg = cls(model_name=name, model=check_model_overrides(name, raw["model"]))
        for sec, klass in SECTIONS.items():
            setattr(cfg, sec, build_config(klass, raw[sec], where=sec))
        return cfg


def _split_sections(d: Any, where: str) -> dict[str, dict]:
    if d is None:
        d = {}
    if not isinstance(d, dict):
        raise JudgemindError(
            f"{where}: expected a mapping with sections data, model, optim, run; got {type(d).__name__}"
        )
    unknown = sorted(set(d) - set(SECTIONS) - {"model"})
    if unknown:
        raise JudgemindError(f"{where}: unknown section(s) {', '.join(unknown)}; sections are data, model, optim, run")
    out = {}
    for sec in ("data", "model", "optim", "run"):
        v = d.get(sec) or {}
        if not isinstance(v, dict):
            raise JudgemindError(f"{where}: section {sec!r} must be a mapping of keys to values, got {v!r}")
        out[sec] = dict(v)
    return out


def _merge(base: dict, upd: dict) -> dict:
    out = {k: dict(v) for k, v in base.items()}
    for sec, vals in upd.items():
        out.setdefault(sec, {}).update(vals)
    return out


def load_yaml(path: str | Path) -> dict:
    """Read a YAML config file into the nested section dict (checked for unknown sections)."""

    p = Path(path)
    if not p.is_file():
        raise JudgemindError(f"config file {p} does not exist")
    try:
        d = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise JudgemindError(f"{p}: not valid YAML ({e})") from None
    return _split_sections(d, str(p))


def parse_config_sets(sets: list[str] | None) -> dict[str, dict]:
    """``["model.knowledge=false", "optim.lr=1e-3"]`` -> ``{"model": {"knowledge": "false"}, ...}``. Values stay
    text; the dataclasses convert them by the type of each key's default."""
    out: dict[str, dict] = {}
    for item in sets or []:
        if "=" not in item:
            raise JudgemindError(f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. --set model.knowledge=false")
        key, value = item.split("=", 1)
        if "." not in key:
            raise JudgemindError(
                f"--set {item!r}: the key needs a section (data, model, optim or run), e.g. optim.{key}={value}"
            )
        sec, name = key.strip().split(".", 1)
        if sec not in ("data", "model", "optim", "run"):
            raise JudgemindError(f"--set {item!r}: unknown section {sec!r}; sections are data, model, optim, run")
        out.setdefault(sec, {})[name.strip()] = value.strip()
    return out


def resolve_config(
    config_file: str | None = None,
    sets: list[str] | None = None,
    flags: dict[str, dict] | None = None,
    base: dict | None = None,
) -> TrainConfig:
    """defaults < ``base`` (e.g. a run's saved config) < YAML file < ``--set`` < ``flags`` (``{section: {key:
    value}}`` from dedicated command-line options; None values are ignored)."""
    layers = [base or {}]
    if config_file:
        layers.append(load_yaml(config_file))
    layers.append(parse_config_sets(sets))
    layers.append({s: {k: v for k, v in vals.items() if v is not None} for s, vals in (flags or {}).items()})
    merged: dict = {}
    for layer in layers:
        merged = _merge(merged, _split_sections(layer, "config"))
    return TrainConfig.from_dict(merged)


def config_diff(a: dict, b: dict, ignore: tuple[str, ...] = ()) -> list[str]:
    """``["optim.lr: 0.001 != 0.0005", ...]`` for the keys where two resolved config dicts differ."""
    out = []
    for sec in sorted(set(a) | set(b)):
        va, vb = a.get(sec) or {}, b.get(sec) or {}
        for k in sorted(set(va) | set(vb)):
            key = f"{sec}.{k}"
            if key not in ignore and va.get(k) != vb.get(k):
                out.append(f"{key}: {va.get(k)!r} != {vb.get(k)!r}")
    return out


def dump_yaml(cfg: TrainConfig) -> str:

    return yaml.safe_dump(cfg.to_dict(), sort_keys=False, default_flow_style=False)
