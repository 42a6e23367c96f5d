"""Planning a bench: which (model or ablation variant, seed) runs, with which settings (``--set``, ``--tune``).

Everything here is checked before any data is read: unknown models, bad ``--set`` keys, an empty tuning grid.
"""

from __future__ import annotations

import dataclasses
import dataclasses as dc
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from judgemind.errors import JudgemindError
from judgemind.models import check_model_overrides, list_models
from judgemind.models.base import build_config
from judgemind.rules.names import COMPONENTS
from judgemind.runs.config import OptimConfig

ALL_MODELS = ("codeprior", "judgemind", "usdl", "musdl", "core", "tsa", "posestats", "mlp", "mean")
# Models fitted in closed form when the training split is attached: no optimizer settings to tune.
CLOSED_FORM = ("codeprior", "posestats")
NOT_TUNED = {
    "codeprior": "closed form (per-code training means)",
    "posestats": "closed form (its ridge lambda is chosen by k-fold cross-validation on train)",
}
# --tune: the default grid (same for every model; "width" scales the model's width keys below).
DEFAULT_TUNE_GRID = "lr=1e-3,3e-4;epochs=12,24;width=0.5,1"
# The width keys of each model (scaled by the grid's "width"), and the key a width must be a multiple of.
WIDTH_KEYS = {
    "judgemind": ("d_model",),
    "mlp": ("hidden",),
    "usdl": ("hidden1", "hidden2"),
    "musdl": ("hidden1", "hidden2"),
    "core": ("hidden",),
    "tsa": ("dim", "psnet_hidden"),
}
WIDTH_MULTIPLE_OF = {("judgemind", "d_model"): "heads", ("tsa", "dim"): "heads"}
# JudgeMind's ablation switches (JudgeMindConfig keys; "global" is the alias of global_tokens) and their labels.
ABLATIONS = (
    ("segmentation", "temporal segmentation"),
    ("foreground", "foreground features"),
    ("global", "global features"),
    ("knowledge", "deduction/action knowledge"),
    ("grade_bands", "grade-band decoder"),
)
DEFAULT_EPOCHS = 12
DEFAULT_BATCH = 16

# The FineDiving protocol (docs/bench.md, "FineDiving protocol"): what each model must be set to. The batch target
# is the raw dive score already (judgemind.runs.batch), so no model multiplies by DD except MUSDL's panel rule.
FINEDIVING_OVERRIDES = {
    "core": {"exemplar": "action", "voters": 10, "target": "score"},
    "tsa": {"exemplar": "action", "voters": 10},
    "musdl": {"mode": "total", "judges": 7, "step": 0.5},
}
# Flat metric keys of one evaluation (x100 where papers print x100).
METRICS = (
    "rho",
    "rl2_x100",
    "l2",
    "final_rho",
    "final_rl2_x100",
    *(f"{c}_rho" for c in COMPONENTS),
    "aiou@0.5",
    "aiou@0.75",
    "deduction_map",
    "cov90",
    "width90",
)


@dataclass
class BenchConfig:
    """What ``judgemind bench`` runs. ``models`` may contain ``"all"``; ``sets`` are ``optim.KEY=VALUE`` (all runs)
    or ``MODEL.KEY=VALUE`` (one model's config, e.g. ``tsa.teacher_forcing=1.0``)."""

    data: str
    features: str = ""
    models: Sequence[str] = ("all",)
    seeds: Sequence[int] = (0, 1, 2)
    epochs: int = 0  # 0 -> DEFAULT_EPOCHS
    batch_size: int = 0  # 0 -> DEFAULT_BATCH
    out: str = ""
    ablations: bool | None = None  # None -> on when models is "all"
    limit: int = 0  # keep the first N videos of each split (quick runs); 0 = all
    device: str = "cpu"
    threads: int = 1  # torch CPU threads per run (small models: 1 is fastest); 0 = torch's
    jobs: int = 0  # runs in parallel processes; 0 -> 2 on a CPU with >= 2 cores, else 1
    progress: bool = True
    sets: Sequence[str] = ()
    tune: bool = False  # choose each model's lr / epochs / width on val (seed 0) first
    tune_grid: str | None = None  # None -> DEFAULT_TUNE_GRID; e.g. "lr=1e-3,3e-4;epochs=12,24;width=0.5,1"


@dataclass(frozen=True)
class RunSpec:
    """One training run of the bench."""

    label: str  # table row: model name or "judgemind -<switch>"
    model: str
    overrides: dict = field(default_factory=dict, hash=False, compare=False)
    seed: int = 0
    ablation: str | None = None  # the switched-off JudgeMind key
    optim: dict = field(default_factory=dict, hash=False, compare=False)  # this run's optim.* (over --set)
    group: str = "results"  # folder under OUT of the result file ("tune" for tuning candidates)
    tag: str = ""  # result file stem; "" -> seed<k>


def parse_data_arg(data: str) -> tuple[str, Path]:
    """``"finediving:PATH"`` -> ("finediving", PATH); anything else -> ("fineskiing", PATH)."""
    if data.startswith("finediving:"):
        return "finediving", Path(data.split(":", 1)[1])
    return "fineskiing", Path(data)


def resolve_models(models: Sequence[str]) -> tuple[list[str], bool]:
    """Model names in bench order and whether "all" was asked for; unknown names -> error."""

    known = list_models()
    names: list[str] = []
    is_all = False
    for m in models:
        for name in (x.strip() for x in str(m).split(",")):
            if not name:
                continue
            if name == "all":
                is_all = True
                names += [x for x in ALL_MODELS if x in known]
                continue
            if name not in known:
                raise JudgemindError(f"bench: unknown model {name!r}; known: {', '.join(known)} (or 'all')")
            names.append(name)
    if not names:
        raise JudgemindError("bench: no models given; pass --models all or a list like judgemind,usdl")
    return list(dict.fromkeys(names)), is_all


def parse_bench_sets(sets: Sequence[str], models: Sequence[str]) -> tuple[dict, dict[str, dict]]:
    """``optim.lr=1e-3`` -> optim overrides; ``tsa.bce_weight=0.5`` -> per-model overrides."""
    optim: dict = {}
    per_model: dict[str, dict] = {}
    for item in sets:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise JudgemindError(
                f"bench --set {item!r}: expected optim.KEY=VALUE or MODEL.KEY=VALUE "
                f"(e.g. optim.lr=1e-3, tsa.teacher_forcing=1.0)"
            )
        key, value = item.split("=", 1)
        sec, name = key.strip().split(".", 1)
        if sec == "optim":
            optim[name] = value.strip()
        elif sec in ALL_MODELS or sec in models:
            per_model.setdefault(sec, {})[name] = value.strip()
        else:
            raise JudgemindError(f"bench --set {item!r}: unknown section {sec!r}; use optim or a model name")
    return optim, per_model


def plan_runs(cfg: BenchConfig, protocol: str) -> list[RunSpec]:
    """Every (label, seed) run in table order: models, then JudgeMind's ablations."""

    names, is_all = resolve_models(cfg.models)
    _, per_model = parse_bench_sets(cfg.sets, names)
    ablations = is_all if cfg.ablations is None else bool(cfg.ablations)
    if ablations and "judgemind" not in names:
        names = ["judgemind"] + names  # the ablation table needs the full model as its reference row
    variants: list[tuple[str, str, dict, str | None]] = []
    for name in names:
        ov = dict(FINEDIVING_OVERRIDES.get(name, {}) if protocol == "finediving" else {})
        ov.update(per_model.get(name, {}))
        variants.append((name, name, ov, None))
    if ablations:
        base = dict(per_model.get("judgemind", {}))
        for key, _ in ABLATIONS:
            variants.append((f"judgemind -{key}", "judgemind", {**base, key: False}, key))
    for _, model, ov, _ in variants:
        check_model_overrides(model, ov)  # bad keys fail before any data is read
    seeds = [int(s) for s in cfg.seeds]
    if not seeds:
        raise JudgemindError("bench: no seeds given; pass --seeds 0,1,2")
    # Closed-form models are fitted when the training split is attached; more epochs would repeat one prediction.
    return [
        RunSpec(label, model, ov, s, abl, optim={"epochs": 1} if model in CLOSED_FORM else {})
        for label, model, ov, abl in variants
        for s in seeds
    ]


# --tune: each model's own optimizer settings and width, chosen on val (seed 0) from one grid


def parse_tune_grid(text: str) -> dict[str, list]:
    """``"lr=1e-3,3e-4;epochs=12,24;width=0.5,1"`` -> {"lr": [0.001, 0.0003], "epochs": [12, 24], "width": [0.5, 1.0]}.

    Keys: ``width`` (a factor on each model's width keys, :data:`WIDTH_KEYS`) or any ``optim`` key (lr, epochs,
    weight_decay, batch_size, aug_noise, aug_shot, ...); values are checked like ``--set optim.KEY=VALUE``. An
    empty grid, an axis without values or an unknown key -> :class:`JudgemindError`."""

    grid: dict[str, list] = {}
    axes = [a.strip() for a in str(text).replace("\n", ";").split(";") if a.strip()]
    if not axes:
        raise JudgemindError(
            f"bench --tune-grid {text!r}: the grid is empty; give axes like "
            f"{DEFAULT_TUNE_GRID!r} (or leave --tune-grid out for that default)"
        )
    optim_keys = {f.name for f in dc.fields(OptimConfig)} - {"seed"}
    for axis in axes:
        if "=" not in axis:
            raise JudgemindError(f"bench --tune-grid: {axis!r} is not KEY=V1,V2 (e.g. lr=1e-3,3e-4)")
        key, vals = (x.strip() for x in axis.split("=", 1))
        values = [v.strip() for v in vals.split(",") if v.strip()]
        if not values:
            raise JudgemindError(
                f"bench --tune-grid: the axis {key!r} has no values (e.g. {key}=V1,V2); an empty "
                f"grid cannot choose anything"
            )
        if key in grid:
            raise JudgemindError(f"bench --tune-grid: the axis {key!r} is given twice")
        if key == "width":
            try:
                parsed = [float(v) for v in values]
            except ValueError:
                raise JudgemindError(f"bench --tune-grid: width values are factors like 0.5,1; got {vals!r}") from None
            if not all(math.isfinite(v) and 0 < v <= 16 for v in parsed):
                raise JudgemindError(f"bench --tune-grid: width factors must be in (0, 16], got {vals!r}")
        elif key in optim_keys:
            parsed = [getattr(build_config(OptimConfig, {key: v}, where="optim"), key) for v in values]
        else:
            raise JudgemindError(
                f"bench --tune-grid: unknown axis {key!r}; use width or an optim key ({', '.join(sorted(optim_keys))})"
            )
        grid[key] = list(dict.fromkeys(parsed))
    return grid


def grid_points(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's axes, in order (the last axis varies fastest)."""

    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def scale_width(model: str, overrides: dict, factor: float) -> dict:
    """``overrides`` with the model's width keys (:data:`WIDTH_KEYS`) multiplied by ``factor`` (rounded; a key that
    must be a multiple of another, e.g. ``d_model`` of ``heads``, is rounded to that multiple, at least one)."""

    keys = WIDTH_KEYS.get(model, ())
    if factor == 1 or not keys:
        return dict(overrides)
    resolved = check_model_overrides(model, overrides)
    out = dict(overrides)
    for k in keys:
        if k not in resolved:
            continue  # the model no longer has this key: nothing to scale
        mult = int(resolved.get(WIDTH_MULTIPLE_OF.get((model, k), ""), 1) or 1)
        out[k] = max(mult, int(round(float(resolved[k]) * factor / mult)) * mult)
    check_model_overrides(model, out)
    return out


def _tag(point: dict) -> str:
    return "-".join(f"{k}{v:g}" if isinstance(v, float) else f"{k}{v}" for k, v in point.items())


def apply_point(spec: RunSpec, point: dict, **changes) -> RunSpec:
    """``spec`` trained with the grid point's settings (optim keys and width)."""
    optim = {**spec.optim, **{k: v for k, v in point.items() if k != "width"}}
    ov = scale_width(spec.model, spec.overrides, float(point.get("width", 1.0)))
    return dataclasses.replace(spec, overrides=ov, optim=optim, **changes)


def plan_tuning(specs: list[RunSpec], grid: dict[str, list]) -> list[tuple[RunSpec, dict]]:
    """The tuning runs as (spec, grid point): every point for every tuned model (not the ablations: they take
    JudgeMind's choice; not the closed-form models), on seed 0, stored under ``OUT/tune/<label>/<point>.json``."""
    labels = list(dict.fromkeys(s.label for s in specs if s.ablation is None and s.model not in CLOSED_FORM))
    first = {lab: next(s for s in specs if s.label == lab) for lab in labels}
    plan = []
    for lab in labels:
        # A model without width keys (e.g. the training mean) is not run once per width factor.
        axes = {k: v for k, v in grid.items() if k != "width" or WIDTH_KEYS.get(first[lab].model)}
        plan += [
            (apply_point(dataclasses.replace(first[lab], seed=0), p, group="tune", tag=_tag(p) or "default"), p)
            for p in grid_points(axes)
        ]
    return plan


def _val_key(res: dict) -> tuple[float, float]:
    """Higher is better: (val rho at the run's chosen epoch, -val R-l2); undefined values rank last."""
    v = res["ours"]["val"]
    rho, rl2 = v.get("rho"), v.get("rl2_x100")
    return (
        rho if rho is not None and math.isfinite(rho) else -math.inf,
        -rl2 if rl2 is not None and math.isfinite(rl2) else -math.inf,
    )


def choose_settings(tuning: list[tuple[RunSpec, dict]], results: list[dict]) -> dict:
    """Per tuned label: the grid point with the best validation rho (ties and undefined rho: lower val R-l2; then
    the first in grid order), the settings it gives the model (``optim``, width keys) and every candidate's val
    numbers."""
    out: dict[str, dict] = {}
    keys: dict[str, list] = {}
    for (spec, point), res in zip(tuning, results):
        entry = out.setdefault(spec.label, {"candidates": []})
        entry["candidates"].append(
            {
                "point": point,
                "val_rho": res["ours"]["val"].get("rho"),
                "val_rl2_x100": res["ours"]["val"].get("rl2_x100"),
                "epoch": res["ours"]["epoch"],
            }
        )
        keys.setdefault(spec.label, []).append((_val_key(res), spec))
    for lab, entry in out.items():
        i = max(range(len(keys[lab])), key=lambda j: keys[lab][j][0])  # max keeps the first of equals
        best, spec = entry["candidates"][i], keys[lab][i][1]
        widths = {k: spec.overrides[k] for k in WIDTH_KEYS.get(spec.model, ()) if k in spec.overrides}
        entry.update(
            {
                "chosen": best["point"],
                "optim": dict(spec.optim),
                "width_keys": widths,
                "val_rho": best["val_rho"],
                "val_rl2_x100": best["val_rl2_x100"],
                "epoch": best["epoch"],
            }
        )
    return out


def apply_tuning(specs: list[RunSpec], chosen: dict) -> list[RunSpec]:
    """The main runs with each model's chosen point; JudgeMind's ablations take the full model's choice."""
    out = []
    for s in specs:
        lab = "judgemind" if s.ablation else s.label
        if lab in chosen:
            s = apply_point(s, chosen[lab]["chosen"])
        out.append(s)
    return out


def result_path(out: Path, spec: RunSpec) -> Path:
    """Where a run's result is stored: ``OUT/<group>/<safe label>/<tag or seed<k>>.json``."""
    return out / spec.group / safe_label(spec.label) / f"{spec.tag or f'seed{spec.seed}'}.json"


def safe_label(label: str) -> str:
    """A table label as a file name: ``"judgemind -foreground"`` -> ``"judgemind-no_foreground"``."""
    return label.replace(" -", "-no_").replace(" ", "_")
