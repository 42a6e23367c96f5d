"""Adapters: other datasets' annotations -> FineSkiing records, and writing them as a dataset folder.

Each adapter is one function ``load_<name>(folder) -> (DatasetMeta, list[Record])`` producing the same
:class:`~judgemind.data.Record` type as FineSkiing data (``scoring = "diving"`` for both below):

- :func:`load_finediving`: FineDiving (``Annotations/``): stages from the per-frame sub-action labels;
- :func:`load_mtl_aqa`: MTL-AQA (CoRe's ``info/``): stages nominal, ``Record.stages_known`` is False.

:func:`convert` writes an adapter's output as a dataset folder, atomically, and checks it with the validator.
"""

from __future__ import annotations

import dataclasses
import json
import os
import os as _os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from judgemind.data.adapters._diving import CHECK_TEXT, CHECKS, format_reproduction_stats, reproduction_stats
from judgemind.data.adapters.finediving import load_finediving
from judgemind.data.adapters.mtl_aqa import load_mtl_aqa
from judgemind.data.dataset import write_dataset
from judgemind.data.records import DatasetMeta, Problem, Record
from judgemind.data.validate import validate_dataset
from judgemind.errors import JudgemindError, ValidationError
from judgemind.utils.atomic import atomic_dir, temp_dir_beside

ADAPTERS: dict[str, Callable[..., tuple[DatasetMeta, list[Record]]]] = {
    "finediving": load_finediving,
    "mtl-aqa": load_mtl_aqa,
}

__all__ = [
    "ADAPTERS",
    "CHECKS",
    "CHECK_TEXT",
    "ConvertResult",
    "convert",
    "format_reproduction_stats",
    "load_finediving",
    "load_mtl_aqa",
    "reproduction_stats",
]


@dataclass(frozen=True)
class ConvertResult:
    out: Path
    meta: DatasetMeta
    records: list[Record]
    problems: list[Problem]  # warnings from validating the written folder (errors abort the conversion)

    @property
    def stats(self) -> dict:
        return reproduction_stats(self.records)


OWN_FILES = ("annotations.jsonl", "dataset.json")  # the only files `data convert` writes into OUT


def _check_destination(src: Path, out: Path, overwrite: bool) -> list[Path]:
    """Refuse unusable destinations; return the missing ancestors that writing will create (outermost last).

    ``--overwrite`` replaces only what a conversion writes (``dataset.json`` and ``annotations.jsonl``) in a folder
    that holds a converted dataset; everything else in OUT (``videos/``, ``features/``, a user's files) is kept.
    OUT equal to SRC, inside it, or holding it is refused: a conversion never writes over its own input.
    """

    src_real, out_real = Path(_os.path.realpath(src)), Path(_os.path.realpath(out))
    if src_real == out_real or src_real in out_real.parents or out_real in src_real.parents:
        raise JudgemindError(
            f"OUT {out} and SRC {src} overlap (one is inside the other); write the dataset to a "
            f"folder outside the source annotations"
        )
    missing = []
    p = out.parent
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    if not p.is_dir():
        raise JudgemindError(f"cannot write {out}: {p} is not a folder")
    if out.exists() or out.is_symlink():
        if not out.is_dir() or out.is_symlink():
            raise JudgemindError(f"{out} exists and is not a folder; choose another output path")
        if any(out.iterdir()):
            if not overwrite:
                raise JudgemindError(
                    f"{out} is not empty; pass --overwrite to replace its dataset.json and "
                    f"annotations.jsonl, or choose another folder"
                )
            if not _converted_here(out):
                raise JudgemindError(
                    f"{out} does not hold a dataset written by `judgemind data convert` (its "
                    f"dataset.json has no extra.adapter); --overwrite replaces only converted "
                    f"datasets -- choose another folder"
                )
    return missing


def _converted_here(out: Path) -> bool:

    try:
        meta = json.loads((out / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and isinstance(meta.get("extra"), dict) and bool(meta["extra"].get("adapter"))


def _relax_permissions(folder: Path) -> None:
    """Temporary files and folders are created private (0600/0700); give the finished dataset the usual
    permissions (0666/0777 less the umask) like any other output."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for p in folder.rglob("*"):
        p.chmod((0o777 if p.is_dir() else 0o666) & ~umask)


def convert(
    adapter: str, src: str | os.PathLike, out: str | os.PathLike, *, overwrite: bool = False, **options
) -> ConvertResult:
    """Read ``src`` with adapter ``adapter`` and write a FineSkiing dataset folder at ``out``.

    The folder is built in a hidden temporary sibling, validated (annotations only), and moved into place; on any
    failure nothing is left behind and an existing ``out`` (``overwrite=True``) is kept as it was.
    """

    if adapter not in ADAPTERS:
        raise JudgemindError(f"unknown adapter {adapter!r}; choose one of {', '.join(ADAPTERS)}")
    out = Path(out)
    created = _check_destination(Path(src), out, overwrite)
    meta, records = ADAPTERS[adapter](src, **options)
    replace_files = out.is_dir() and any(out.iterdir())  # --overwrite of a converted dataset: swap its two files
    warnings: list[Problem] = []
    try:
        with temp_dir_beside(out) if replace_files else atomic_dir(out) as tmp:
            write_dataset(tmp, meta, records)
            _, problems = validate_dataset(tmp, check_videos=False)
            problems = [dataclasses.replace(p, file=p.file.replace(str(tmp), str(out), 1)) for p in problems]
            errors = [p for p in problems if p.level == "error"]
            if errors:
                raise ValidationError(
                    f"the {adapter} conversion of {src} does not pass validation "
                    f"({len(errors)} error(s)); nothing was written",
                    errors,
                )
            warnings = problems
            _relax_permissions(tmp)
            if replace_files:
                # each os.replace is atomic; annotations first, so a dataset.json always has its records
                for name in OWN_FILES:
                    os.replace(tmp / name, out / name)
    except BaseException:
        for d in created:  # innermost first
            try:
                d.rmdir()
            except OSError:
                break
        raise
    return ConvertResult(out, meta, records, warnings)
