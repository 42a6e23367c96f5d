"""Checkpoints: one ``torch.save`` file read back with ``torch.load(weights_only=True)`` (tensors and plain
containers only, never arbitrary pickled objects).

Contents (``FORMAT`` = "judgemind-checkpoint/1")::

    format, model_name, config (the resolved TrainConfig as a dict), data_info (DataInfo.to_dict()),
    features_manifest (the feature cache's manifest.json: how to extract the same features for new videos;
    None for end-to-end runs), judgemind_version, git_revision, epoch (last finished, 0-based),
    model (state_dict), val (metrics of that epoch), best {epoch, rho}, best_val
    -- last.pt only: optimizer, scheduler (state_dicts), rng {torch, cuda?, numpy, python}

Writes are atomic (``judgemind.utils.atomic``), so a process killed while saving leaves the previous file intact.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from judgemind.errors import CheckpointError
from judgemind.runs.config import config_diff
from judgemind.utils import display_text, not_a_file_reason
from judgemind.utils.atomic import atomic_path
from judgemind.version import __version__

FORMAT = "judgemind-checkpoint/1"


def git_revision(start: str | os.PathLike | None = None) -> str:
    """The commit of the git checkout holding ``start`` (default: this package), read from ``.git`` files without
    running git; ``"unknown"`` outside a checkout."""
    here = Path(start or __file__).resolve()
    for d in [here, *here.parents]:
        g = d / ".git"
        if g.is_file():  # worktree / submodule: "gitdir: PATH"
            text = g.read_text(errors="replace").strip()
            if text.startswith("gitdir:"):
                g = (d / text.split(":", 1)[1].strip()).resolve()
        if g.is_dir():
            return _read_head(g)
    return "unknown"


def _read_head(g: Path) -> str:
    try:
        head = (g / "HEAD").read_text().strip()
    except OSError:
        return "unknown"
    if not head.startswith("ref:"):
        return head
    ref = head.split(":", 1)[1].strip()
    for base in (g, _common_dir(g)):
        p = base / ref
        if p.is_file():
            return p.read_text().strip()
        packed = base / "packed-refs"
        if packed.is_file():
            for line in packed.read_text().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref:
                    return parts[0]
    return "unknown"


def _common_dir(g: Path) -> Path:
    p = g / "commondir"
    return (g / p.read_text().strip()).resolve() if p.is_file() else g


def rng_state() -> dict[str, Any]:
    """Every random generator's state, as tensors and plain values (loadable with ``weights_only=True``)."""
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": {
            "name": np_state[0],
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached": float(np_state[4]),
        },
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(_tuplify(state["python"]))
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _tuplify(x):
    return tuple(_tuplify(v) for v in x) if isinstance(x, (list, tuple)) else x


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Write ``payload`` (see the module docstring) atomically, adding format, version and git revision."""
    full = {"format": FORMAT, "judgemind_version": __version__, "git_revision": git_revision(), **payload}
    with atomic_path(path) as tmp:
        torch.save(full, tmp)


def load_checkpoint(
    path: str | os.PathLike,
    expect_model: str | None = None,
    expect_config: dict | None = None,
    ignore: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Read a checkpoint safely (``weights_only=True``) and check what it is for.

    ``expect_model``: the model name it must hold; ``expect_config``: the resolved config dict it must have been
    made with (keys in ``ignore`` may differ). Any mismatch, a missing/corrupt file or another format ->
    :class:`CheckpointError` saying what differs and what to do.
    """

    p = Path(path)
    why = not_a_file_reason(p)
    if why:
        raise CheckpointError(f"checkpoint {display_text(p)} {why}")
    try:
        ck = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises UnpicklingError, RuntimeError, EOFError ... for bad files
        raise CheckpointError(
            f"{display_text(p)}: not a loadable judgemind checkpoint ({load_failure(e)}); it may "
            f"be damaged or contain objects other than tensors and plain data"
        ) from None
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        fmt = ck.get("format") if isinstance(ck, dict) else None
        raise CheckpointError(
            f"{display_text(p)}: not a judgemind checkpoint (format {str(fmt)[:60]!r}, expected {FORMAT!r})"
        )
    check_payload(ck, display_text(p))
    if expect_model is not None and ck["model_name"] != expect_model:
        raise CheckpointError(
            f"{p} holds model {ck['model_name']!r}, not {expect_model!r}; use a checkpoint of "
            f"{expect_model!r} or --model {ck['model_name']}"
        )
    if expect_config is not None:
        diff = config_diff(ck["config"], expect_config, ignore)
        if diff:
            raise CheckpointError(
                f"{p} was made with another config ({'; '.join(diff[:8])}"
                f"{' ...' if len(diff) > 8 else ''}); resume with the same settings or start a new "
                f"run folder (--out)"
            )
    return ck


def load_failure(e: BaseException) -> str:
    """A short reason why ``torch.load`` refused a file, without torch's advice to load it with
    ``weights_only=False`` (which would run code from the file: a user must never be told to do that)."""

    text = str(e)
    m = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if m:
        return f"it refers to {m.group(1)}, which is not plain data"
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if "weights_only" in first or "WeightsUnpickler" in first:
        first = "it holds objects other than tensors and plain data"
    return f"{type(e).__name__}: {first[:160]}" if first else type(e).__name__


_PAYLOAD = {"model_name": str, "config": dict, "data_info": dict, "model": dict, "epoch": int}
_RESUME = {"optimizer": dict, "scheduler": dict, "rng": dict, "best": dict}


def check_payload(ck: dict, where: str, resume: bool = False) -> None:
    """The keys and types every reader of a checkpoint relies on; a :class:`CheckpointError` naming the first
    missing or mistyped one (a checkpoint is untrusted input like any file)."""

    def bad(key: str, why: str) -> CheckpointError:
        return CheckpointError(
            f"{where}: not a usable judgemind checkpoint: {key} {why}; use a checkpoint written by `judgemind train`"
        )

    for key, typ in {**_PAYLOAD, **(_RESUME if resume else {})}.items():
        if key not in ck:
            raise bad(repr(key), "is missing")
        if not isinstance(ck[key], typ) or isinstance(ck[key], bool):
            raise bad(repr(key), f"should be {typ.__name__}, not {type(ck[key]).__name__}")
    if not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in ck["model"].items()):
        raise bad("'model'", "should map parameter names to tensors")
    if not 0 <= ck["epoch"] < 10**7:
        raise bad("'epoch'", f"is out of range ({ck['epoch']})")
    fm = ck.get("features_manifest")
    if fm is not None and not isinstance(fm, dict):
        raise bad("'features_manifest'", f"should be a mapping or None, not {type(fm).__name__}")
    if resume:
        b = ck["best"]
        if (
            not isinstance(b.get("epoch"), int)
            or isinstance(b.get("epoch"), bool)
            or not (b.get("rho") is None or isinstance(b.get("rho"), (int, float)))
        ):
            raise bad("'best'", "should hold an integer epoch and a number (or null) rho")


def load_model_state(model: torch.nn.Module, ck: dict, path: str | os.PathLike = "checkpoint") -> None:
    """``model.load_state_dict(ck["model"])`` with a :class:`CheckpointError` naming the differing keys."""
    try:
        model.load_state_dict(ck["model"], strict=True)
    except RuntimeError as e:
        raise CheckpointError(
            f"{path}: weights do not fit the model {ck.get('model_name')!r} built from its "
            f"config ({str(e).splitlines()[0][:300]}); the checkpoint belongs to another model "
            f"or config"
        ) from None
