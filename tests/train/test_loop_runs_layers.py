"""train.rundir (writing run folders) is below train.loop (the loop): it never imports it, so the two form no circle."""

from __future__ import annotations

import ast
from pathlib import Path

import judgemind.train.rundir as runs


def _imports(path: Path) -> set[str]:
    out = set()
    for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(n, ast.ImportFrom) and n.module:
            out |= {n.module} | {f"{n.module}.{a.name}" for a in n.names}
        elif isinstance(n, ast.Import):
            out |= {a.name for a in n.names}
    return out


def test_runs_does_not_import_the_loop_or_inference():
    names = _imports(Path(runs.__file__))
    assert not any(x.startswith(("judgemind.train.loop", "judgemind.infer", "judgemind.bench")) for x in names)


def test_train_never_imports_infer_bench_or_report():
    for path in Path(runs.__file__).parent.glob("*.py"):
        bad = [x for x in _imports(path) if x.startswith(("judgemind.infer", "judgemind.bench", "judgemind.report"))]
        assert not bad, (path.name, bad)
