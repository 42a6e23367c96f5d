"""No import circle inside judgemind, and no private name used across modules: read every module's imports with
``ast`` (nothing is executed) and look for cycles in the graph of judgemind modules.

Imports inside functions count too (a circle hidden in a function still couples the two modules both ways and
breaks as soon as one import moves to the top); imports under ``if TYPE_CHECKING:`` do not, since they never run.
``from judgemind.pkg import name`` is an edge to ``judgemind.pkg.name`` when that is a module, else to
``judgemind.pkg``. The import of a package's ``__init__`` implied by importing one of its modules is not an edge.

Private names (``_x``) stay in their module: no ``from judgemind.m import _x`` (relative imports included), no
``m._x`` on an imported judgemind module; a private module (``judgemind.pkg._m``) is imported only inside ``pkg``.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in sorted((SRC / "judgemind").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _absolute(module: str | None, level: int, name: str, is_pkg: bool) -> str:
    """The absolute module of ``from <level dots><module> import ...`` written in module ``name``."""
    if not level:
        return module or ""
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _imports(name: str, path: Path, is_pkg: bool, modules) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if _is_type_checking(node):
            for child in getattr(node, "orelse", []):
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            mod = _absolute(node.module, node.level, name, is_pkg)
            for a in node.names:
                found.add(f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, is_pkg, modules) for name, (path, is_pkg) in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(frozenset(comp))
    return out


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert len(graph) > 100 and "judgemind.errors" in graph["judgemind.utils.registry"]
    # a function-level import (cmd_data imports the dataset loader only when the command runs)
    assert "judgemind.data" in graph["judgemind.cli.cmd_data"]


def test_no_import_cycle():
    found = [sorted(c) for c in cycles(import_graph())]
    assert not found, f"import circle(s) between judgemind modules: {found}"


# The one arrow from inference, benchmarking or reporting into training: the bench trains through the one loop.
TRAINING_ARROWS = {("judgemind.bench.run", "judgemind.train.loop"): {"fit_model"}}


def test_inference_benchmarks_and_reports_never_climb_into_training():
    """``infer/``, ``bench/`` and ``report/`` use what they share with training from the floor below both
    (``judgemind.runs``); the only arrow into ``train/`` is ``bench -> train.loop.fit_model``."""
    graph, modules = import_graph(), _modules()
    arrows = {
        (m, d)
        for m, deps in graph.items()
        for d in deps
        if m.split(".")[1:2] in (["infer"], ["bench"], ["report"]) and d.split(".")[1:2] == ["train"]
    }
    assert arrows <= set(TRAINING_ARROWS), f"arrows into train/: {sorted(arrows - set(TRAINING_ARROWS))}"
    for (m, d), names in TRAINING_ARROWS.items():
        tree = ast.parse(modules[m][0].read_text(encoding="utf-8"))
        taken = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == d for a in n.names}
        assert taken <= names, f"{m} takes {sorted(taken - names)} from {d}; only {sorted(names)} may be"


def _private_module_outside(name: str, module: str) -> bool:
    """Whether ``module`` is (inside) a private module (``judgemind.pkg._m``) of a package that ``name`` is not in."""
    parts = module.split(".")
    return any(
        _is_private(part) and not (name + ".").startswith(".".join(parts[:i]) + ".") for i, part in enumerate(parts)
    )


def private_uses(name: str, source: str, is_pkg: bool = False, modules=()) -> set[tuple[str, str]]:
    """``(name, other_module.private)`` for every private name (``_x``, not dunder) that module ``name`` takes from
    another judgemind module: ``from judgemind.m import _x`` (relative imports included), ``m._x`` where ``m`` is an
    imported judgemind module (``from judgemind import m``, ``import judgemind.m as m``, or the dotted
    ``judgemind.m._x`` after ``import judgemind.m``). A private module (``judgemind.pkg._m``, one of ``modules``) is
    private to its package: importing it from outside ``judgemind.pkg`` counts too."""
    out = set()
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    plain_imports = False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            mod = _absolute(node.module, node.level, name, is_pkg)
            if not mod.startswith("judgemind"):
                continue
            if _private_module_outside(name, mod):
                out.add((name, mod))
            for a in node.names:
                target = f"{mod}.{a.name}"
                if _is_private(a.name):
                    if target in modules:
                        if _private_module_outside(name, target):
                            out.add((name, target))
                    elif mod != name:
                        out.add((name, target))
                aliases[a.asname or a.name] = target
        elif isinstance(node, ast.Import):
            for a in node.names:
                if not a.name.startswith("judgemind"):
                    continue
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    plain_imports = True
                if _private_module_outside(name, a.name):
                    out.add((name, a.name))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _is_private(node.attr)):
            continue
        chain, value = [], node.value
        while isinstance(value, ast.Attribute):
            chain.append(value.attr)
            value = value.value
        if not isinstance(value, ast.Name):
            continue
        if value.id in aliases:
            owner = ".".join([aliases[value.id]] + chain[::-1])
        elif value.id == "judgemind" and plain_imports:
            owner = ".".join(["judgemind"] + chain[::-1])
        else:
            continue
        target = f"{owner}.{node.attr}"
        if owner != name and not (target in modules and not _private_module_outside(name, target)):
            out.add((name, target))
    return out


def private_imports() -> set[tuple[str, str]]:
    """:func:`private_uses` of every judgemind module."""
    modules = _modules()
    out = set()
    for name, (path, is_pkg) in modules.items():
        out |= private_uses(name, path.read_text(encoding="utf-8"), is_pkg, set(modules))
    return out


def test_the_private_name_finder_sees_every_form():
    modules = {
        "judgemind.a",
        "judgemind.a.cache",
        "judgemind.b",
        "judgemind.b.mod",
        "judgemind.b.other",
        "judgemind.b._util",
        "judgemind.c",
        "judgemind.c._util",
    }

    def uses(source, name="judgemind.b.mod", is_pkg=False):
        return {t for _, t in private_uses(name, source, is_pkg, modules)}

    # a private function or constant of another module, however it is reached
    assert uses("from judgemind.a.cache import _safe_name") == {"judgemind.a.cache._safe_name"}
    assert uses("def f():\n    from judgemind.a import x as y, _z as z\n") == {"judgemind.a._z"}
    assert uses("from judgemind.a import cache\ncache._safe_name('x')") == {"judgemind.a.cache._safe_name"}
    assert uses("import judgemind.a.cache as c\nc._safe_name('x')") == {"judgemind.a.cache._safe_name"}
    assert uses("import judgemind.a.cache\njudgemind.a.cache._safe_name('x')") == {"judgemind.a.cache._safe_name"}
    assert uses("from judgemind import a\na.cache._safe_name('x')") == {"judgemind.a.cache._safe_name"}
    assert uses("from .other import _helper") == {"judgemind.b.other._helper"}
    assert uses("from . import _helper") == {"judgemind.b._helper"}
    assert uses("from judgemind.b import _util\n_util._inner()") == {"judgemind.b._util._inner"}
    # private modules: fine inside their package, not outside it
    assert uses("from judgemind.b._util import helper") == set()
    assert uses("from judgemind.b import _util") == set()
    assert uses("from . import _util", name="judgemind.b", is_pkg=True) == set()
    assert uses("from judgemind.c._util import helper") == {"judgemind.c._util"}
    assert uses("from judgemind.c import _util") == {"judgemind.c._util"}
    assert uses("import judgemind.c._util as u") == {"judgemind.c._util"}
    # what is not a private name across modules
    assert uses("from judgemind.a import __version__\nimport os\nos._exit\nself._x = 1\nx = _y") == set()
    assert uses("import judgemind.b.mod as me\nme._own()") == set()


def test_no_private_name_is_used_across_modules():
    found = private_imports()
    assert not found, f"private names used outside their module (make them public or move the code): {sorted(found)}"
