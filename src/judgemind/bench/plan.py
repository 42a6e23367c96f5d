"""Planning a bench: which (model or ablation variant, seed) runs, with which settings (``--set``, ``--tune``).

Everything here is checked before any data is read: unknown models, bad ``--set`` keys, an empty tuning grid.
"""

from __future__ import annotations

import dataclasses
import dataclasses as dc
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from judgemind.errors import JudgemindError
from judgemind.models import check_model_overrides, list_models
from judgemind.models.base import build_config
from judgemind.rules.names import COMPONENTS
from judgemind.runs.config import OptimConfig

ALL_MODELS = ("codeprior", "judgemind", "usdl", "musdl", "core", "tsa", "posestats", "mlp", "mean")
# Models fitted in closed form when the training split is attached: no optimizer settings to tune.
CLOSED_FORM = ("codeprior", "posestats")
# Models --tune leaves alone, and why (recorded in bench.json ``tuning.not_tuned``).
NOT_TUNED = {
    "codeprior": "closed form (per-code training means); nothing to tune",
    "posestats": "closed form; its own regularisation, the ridge lambda per target, is chosen by 5-fold "
    "cross-validation on train (bench.json rows.posestats.fit)",
    "mean": "one constant (the training mean); nothing to tune",
}
# --tune: the default grid (the same for every model; "width" scales the model's width keys below, "aug" the
# model-independent augmentation, AUG_UNIT). Each axis brackets the trainer's default (lr 5e-4, weight decay 0.01)
# from both sides, so a chosen value on an edge says the grid was too narrow for that model.
DEFAULT_TUNE_GRID = "lr=3e-3,1e-3,5e-4,3e-4,1e-4;epochs=12,24,36;width=0.5,1,2;weight_decay=0,0.01,0.1;aug=0,1"
# --tune-budget: grid points tried per model (the same points for every model); 0 = the whole grid.
DEFAULT_TUNE_BUDGET = 8
TUNE_SEED = 0  # the fixed permutation the budget's points are drawn from
# aug=a sets optim.aug_noise = a x 0.1 and optim.aug_shot = min(1, a x 0.5) (judgemind.train.augment), for every
# model alike (0.5 is JudgeMind's own shot-augmentation probability, cut_aug).
AUG_UNIT = {"aug_noise": 0.1, "aug_shot": 0.5}
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


@dataclass(frozen=True)
class Ablation:
    """One JudgeMind variant of the ablation table: ``overrides`` on :class:`JudgeMindConfig` (``"global"`` is the
    alias of ``global_tokens``), its bench ``label`` and the paper claim it tests."""

    name: str  # RunSpec.ablation and the findings' key
    overrides: dict = field(hash=False, compare=False)
    label: str = ""
    what: str = ""


# The paper's claims, one variant each: a module switched off ("judgemind -KEY") or replaced ("judgemind NAME").
ABLATIONS = (
    Ablation("segmentation", {"segmentation": False}, "judgemind -segmentation", "temporal segmentation"),
    Ablation("foreground", {"foreground": False}, "judgemind -foreground", "foreground features (global only)"),
    Ablation("global", {"global": False}, "judgemind -global", "global features (foreground only)"),
    Ablation(
        "knowledge", {"knowledge": False}, "judgemind -knowledge", "the text knowledge bank (learned item queries)"
    ),
    Ablation(
        "shuffled_knowledge",
        {"shuffled_knowledge": True},
        "judgemind shuffled-knowledge",
        "the right description per item (text bank rows deranged)",
    ),
    Ablation("grade_bands", {"grade_bands": False}, "judgemind -grade_bands", "grade-band decoder"),
    Ablation(
        "plain_head",
        {"plain_head": True},
        "judgemind plain-head",
        "the grade-aware decoder (a plain regressor head on the decoder states)",
    ),
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
    # the judge sheet's deduction listing (calibrated on val's calib half): fractions, items per clean stage
    "ded_precision",
    "ded_recall",
    "ded_ece",
    "ded_clean_items",
    # 90 % conformal intervals on test, calibrated on val's calib half: coverage (%) and mean width
    *(f"{m}_{t}" for t in ("score", *COMPONENTS) for m in ("cover", "width")),
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
    tune: bool = False  # choose each model's lr / epochs / width / ... on val's select half (seed 0) first
    tune_grid: str | None = None  # None -> DEFAULT_TUNE_GRID; e.g. "lr=1e-3,3e-4;epochs=12,24;width=0.5,1"
    tune_budget: int = DEFAULT_TUNE_BUDGET  # grid points per model (the same for every model); 0 = all
    settings_from: str = ""  # another bench's bench.json: train with the settings it chose per model (no tuning)
    train_size: int = 0  # train on a fixed subset of N training videos (nested across N); 0 = all


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
        for a in ABLATIONS:
            variants.append((a.label, "judgemind", {**base, **a.overrides}, a.name))
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

    Keys: ``width`` (a factor on each model's width keys, :data:`WIDTH_KEYS`), ``aug`` (a factor on the
    model-independent augmentation, :data:`AUG_UNIT`) or any ``optim`` key (lr, epochs, weight_decay, batch_size,
    aug_noise, aug_shot, ...); values are checked like ``--set optim.KEY=VALUE``. An empty grid, an axis without
    values or an unknown key -> :class:`JudgemindError`."""

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
        elif key == "aug":
            try:
                parsed = [float(v) for v in values]
            except ValueError:
                raise JudgemindError(f"bench --tune-grid: aug values are factors like 0,1; got {vals!r}") from None
            if not all(math.isfinite(v) and 0 <= v <= 10 for v in parsed):
                raise JudgemindError(f"bench --tune-grid: aug factors must be in [0, 10], got {vals!r}")
        elif key in optim_keys:
            parsed = [getattr(build_config(OptimConfig, {key: v}, where="optim"), key) for v in values]
        else:
            raise JudgemindError(
                f"bench --tune-grid: unknown axis {key!r}; use width, aug or an optim key "
                f"({', '.join(sorted(optim_keys))})"
            )
        grid[key] = list(dict.fromkeys(parsed))
    return grid


def grid_points(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's axes, in order (the last axis varies fastest)."""

    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]


def centre_point(grid: dict[str, list]) -> dict:
    """The grid's centre: each axis's middle value in sorted order (the lower middle of an even axis)."""
    return {k: sorted(v)[(len(v) - 1) // 2] for k, v in grid.items()}


def budget_points(grid: dict[str, list], budget: int = DEFAULT_TUNE_BUDGET, seed: int = TUNE_SEED) -> list[dict]:
    """The ``budget`` grid points every tuned model tries: the centre (:func:`centre_point`) first, then the
    others in the order of a fixed seeded permutation of the grid. The same points for every model and every
    run of the bench; ``budget`` <= 0 or >= the grid's size: the whole grid (in grid order, centre first)."""
    points = grid_points(grid)
    centre = centre_point(grid)
    rest = [p for p in points if p != centre]
    if budget <= 0 or budget >= len(points):
        return [centre] + rest
    order = np.random.default_rng(seed).permutation(len(rest))
    return [centre] + [rest[i] for i in order[: budget - 1]]


def is_tuned(grid: dict[str, list], budget: int = DEFAULT_TUNE_BUDGET) -> bool:
    """Whether a grid chooses anything: more than one point is tried."""
    return len(budget_points(grid, budget)) > 1


def edge_marks(grid: dict[str, list], chosen: dict) -> dict[str, bool | None]:
    """Per axis: does the chosen value sit on an edge of the grid (its axis's minimum or maximum)? ``None`` for an
    axis with one value (nothing to sit between)."""
    out: dict[str, bool | None] = {}
    for k, vals in grid.items():
        if len(vals) < 2 or k not in chosen:
            out[k] = None
        else:
            out[k] = chosen[k] in (min(vals), max(vals))
    return out


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


def point_optim(point: dict) -> dict:
    """The optim settings of a grid point: its optim keys, and ``aug`` as :data:`AUG_UNIT` x the factor."""
    optim = {k: v for k, v in point.items() if k not in ("width", "aug")}
    if "aug" in point:
        a = float(point["aug"])
        optim.update(aug_noise=AUG_UNIT["aug_noise"] * a, aug_shot=min(1.0, AUG_UNIT["aug_shot"] * a))
    return optim


def apply_point(spec: RunSpec, point: dict, **changes) -> RunSpec:
    """``spec`` trained with the grid point's settings (optim keys, augmentation and width)."""
    optim = {**spec.optim, **point_optim(point)}
    ov = scale_width(spec.model, spec.overrides, float(point.get("width", 1.0)))
    return dataclasses.replace(spec, overrides=ov, optim=optim, **changes)


def plan_tuning(
    specs: list[RunSpec], grid: dict[str, list], budget: int = DEFAULT_TUNE_BUDGET
) -> list[tuple[RunSpec, dict]]:
    """The tuning runs as (spec, grid point): the same :func:`budget_points` for every tuned model (not the
    ablations: they take JudgeMind's choice; not :data:`NOT_TUNED`), on seed 0, stored under
    ``OUT/tune/<label>/<point>.json``. A grid with a single point tunes nothing: no runs."""
    points = budget_points(grid, budget)
    if len(points) < 2:
        return []
    labels = list(dict.fromkeys(s.label for s in specs if s.ablation is None and s.model not in NOT_TUNED))
    first = {lab: next(s for s in specs if s.label == lab) for lab in labels}
    return [
        (apply_point(dataclasses.replace(first[lab], seed=0), p, group="tune", tag=_tag(p) or "default"), p)
        for lab in labels
        for p in points
    ]


def _val_key(res: dict) -> tuple[float, float]:
    """Higher is better: (val rho at the run's chosen epoch, -val R-l2); undefined values rank last."""
    v = res["ours"]["val"]
    rho, rl2 = v.get("rho"), v.get("rl2_x100")
    return (
        rho if rho is not None and math.isfinite(rho) else -math.inf,
        -rl2 if rl2 is not None and math.isfinite(rl2) else -math.inf,
    )


def choose_settings(tuning: list[tuple[RunSpec, dict]], results: list[dict], grid: dict | None = None) -> dict:
    """Per tuned label: the grid point with the best validation rho (ties and undefined rho: lower val R-l2; then
    the first tried), the settings it gives the model (``optim``, width keys), every candidate's val numbers,
    and the warnings of a too narrow grid: ``edges`` (per axis of ``grid``, :func:`edge_marks`) and
    ``epoch_at_ceiling`` (the checkpoint is the last epoch of the chosen run: more epochs might have helped)."""
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
                "epochs": res.get("epochs"),
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
                "epochs": best["epochs"],
                "epoch_at_ceiling": best["epochs"] is not None and best["epoch"] == best["epochs"],
                "edges": edge_marks(grid or {}, best["point"]),
                "tuned": True,
            }
        )
        entry["on_edge"] = sorted(k for k, v in entry["edges"].items() if v)
    return out


def fixed_settings(specs: list[RunSpec], grid: dict[str, list]) -> dict:
    """A grid with one point chooses nothing: every model that would be tuned just runs that point, recorded like
    :func:`choose_settings` but with ``tuned`` false and no candidates."""
    point = grid_points(grid)[0]
    out = {}
    for s in specs:
        if s.ablation is None and s.model not in NOT_TUNED and s.label not in out:
            p = apply_point(s, point)
            out[s.label] = {
                "candidates": [],
                "chosen": point,
                "optim": dict(p.optim),
                "width_keys": {k: p.overrides[k] for k in WIDTH_KEYS.get(s.model, ()) if k in p.overrides},
                "val_rho": None,
                "val_rl2_x100": None,
                "epoch": None,
                "epochs": None,
                "epoch_at_ceiling": None,
                "edges": edge_marks(grid, point),
                "on_edge": [],
                "tuned": False,
            }
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


def load_chosen_settings(path: str | Path, specs: list[RunSpec]) -> tuple[dict, dict]:
    """The settings another bench chose per model (``--settings-from BENCH_JSON``): ``(chosen, record)`` where
    ``chosen`` is that bench's ``tuning.models`` for the labels of ``specs`` (as :func:`apply_tuning` takes it) and
    ``record`` what bench.json notes about it. A file that is not a bench.json, or that chose nothing for a model
    these runs train (and that is tuned at all), -> :class:`JudgemindError` naming the file and the model."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JudgemindError(f"bench --settings-from {path}: not readable as a bench.json ({exc})") from None
    models = (
        doc.get("tuning", {}).get("models") if isinstance(doc, dict) and isinstance(doc.get("tuning"), dict) else None
    )
    if not isinstance(models, dict):
        raise JudgemindError(
            f"bench --settings-from {path}: no tuning.models in it; give the bench.json of a "
            f"`judgemind bench --tune` run"
        )
    chosen = {}
    for s in specs:
        if s.ablation is not None or s.model in NOT_TUNED or s.label in chosen:
            continue
        entry = models.get(s.label)
        if not isinstance(entry, dict) or not isinstance(entry.get("chosen"), dict):
            raise JudgemindError(
                f"bench --settings-from {path}: it chose no settings for {s.label!r} (it has "
                f"{', '.join(sorted(models)) or 'none'}); tune that model there first or leave it out of --models"
            )
        chosen[s.label] = entry
    record = {
        **doc["tuning"],
        "models": chosen,
        "from": str(path.resolve()),
        "reused": True,
        "note": "settings chosen on val's select half by the bench in 'from' (its candidates shown); not tuned again",
    }
    return chosen, record


def result_path(out: Path, spec: RunSpec) -> Path:
    """Where a run's result is stored: ``OUT/<group>/<safe label>/<tag or seed<k>>.json``."""
    return out / spec.group / safe_label(spec.label) / f"{spec.tag or f'seed{spec.seed}'}.json"


def safe_label(label: str) -> str:
    """A table label as a file name: ``"judgemind -foreground"`` -> ``"judgemind-no_foreground"``."""
    return label.replace(" -", "-no_").replace(" ", "_")
