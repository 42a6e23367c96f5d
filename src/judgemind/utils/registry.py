"""One registry helper for every kind of plug-in: models, feature extractors, athlete locators.

    MODELS = Registry("model", package="judgemind.models")

    @MODELS.register("mlp", description="...", config=MLPConfig)   # or MODELS.register("mlp", build_fn)
    def build(overrides, info): ...

    MODELS.get("mlp").obj           # the registered object (a factory or a class)
    MODELS.check_options("mlp", {"hidden": 32})
    MODELS.names()                  # every registered name, sorted

The same behaviour for every kind (the point of having one helper):

* a name registered twice (by another object) is a :class:`JudgemindError` naming the registry, the name and both
  objects; registering the very same object again is a no-op;
* an unknown name is a :class:`JudgemindError` naming the registry and listing the available names (with a
  "did you mean" when one is close);
* an unknown option is a :class:`JudgemindError` naming the registry, the name and the bad option and listing the
  valid ones; option values are checked for type and size by :func:`judgemind.utils.options.check_options`
  (entries registered with a ``config`` dataclass check values when the dataclass is built instead).

Modules register themselves when imported. A registry finds them in its ``package``: every module of that package
whose name does not start with ``_`` (and is not in ``skip``) is imported before listing, or when a name is not
yet known; ``modules`` maps the built-in names to their module so that asking for one imports only that module.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from judgemind.errors import JudgemindError
from judgemind.utils.options import check_options

__all__ = ["Entry", "Registry"]


@dataclass(frozen=True)
class Entry:
    """One registered object. ``config``: a dataclass whose fields are the options (None: the options are the
    keyword parameters of ``obj``, the ``__init__`` of a class)."""

    name: str
    obj: Any
    description: str = ""
    config: type | None = None


def _where(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}"


def _option_names(target: Any) -> tuple[str, ...] | None:
    """Keyword options of a config dataclass (fields and their ``ALIASES``) or of a callable (None when it takes
    ``**kwargs`` and so accepts anything)."""
    if dataclasses.is_dataclass(target):
        return tuple(f.name for f in dataclasses.fields(target)) + tuple(getattr(target, "ALIASES", {}))
    fn = target.__init__ if isinstance(target, type) else target
    params = [p for n, p in inspect.signature(fn).parameters.items() if n != "self"]
    if any(p.kind is p.VAR_KEYWORD for p in params) and not isinstance(target, type):
        return None
    return tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


class Registry:
    """Named objects of one ``kind`` ("model", "extractor", "locator"); see the module docstring.

    ``package``: the package whose modules register into this registry; ``modules``: built-in name -> module;
    ``skip``: modules of ``package`` that register nothing (imported only if something else needs them);
    ``hint``: appended to the unknown-name error (e.g. the command that lists them)."""

    def __init__(
        self,
        kind: str,
        *,
        package: str | None = None,
        modules: Mapping[str, str] | None = None,
        skip: Iterable[str] = (),
        hint: str = "",
    ):
        self.kind = kind
        self.package = package
        self.modules = dict(modules or {})
        self.skip = frozenset(skip)
        self.hint = hint
        self._entries: dict[str, Entry] = {}
        self._all_loaded = False

    # -- registering ---------------------------------------------------------------------------------------------

    def register(self, name: str, obj: Any = None, *, description: str = "", config: type | None = None):
        """Register ``obj`` as ``name``; without ``obj``, a decorator that registers what it decorates. Returns
        the object, so that a decorated class or function stays what it was."""
        if obj is None:
            return lambda o: self.register(name, o, description=description, config=config)
        if not isinstance(name, str) or not name:
            raise JudgemindError(f"{self.kind} registry: {_where(obj)} has no name; give it one (a non-empty string)")
        old = self._entries.get(name)
        if old is not None and old.obj is not obj:
            raise JudgemindError(
                f"{self.kind} registry: {name!r} is registered twice, by {_where(old.obj)} and by "
                f"{_where(obj)}; give one of them another name"
            )
        if config is not None and not dataclasses.is_dataclass(config):
            raise JudgemindError(f"{self.kind} registry: the config of {name!r} must be a dataclass, got {config!r}")
        self._entries[name] = Entry(name, obj, description, config)
        return obj

    # -- finding -------------------------------------------------------------------------------------------------

    def _load_all(self) -> None:
        if self._all_loaded:
            return
        for module in self.modules.values():
            importlib.import_module(module)
        if self.package is not None:
            pkg = importlib.import_module(self.package)
            for m in pkgutil.iter_modules(pkg.__path__):
                if not m.name.startswith("_") and m.name not in self.skip:
                    importlib.import_module(f"{self.package}.{m.name}")
        self._all_loaded = True

    def get(self, name: str) -> Entry:
        """The entry of ``name``; importing its module first when needed. Unknown name -> JudgemindError."""
        if name not in self._entries and name in self.modules:
            importlib.import_module(self.modules[name])
        if name not in self._entries:
            self._load_all()
        if name not in self._entries:
            names = sorted(self._entries)
            close = difflib.get_close_matches(str(name), names, n=3)
            raise JudgemindError(
                f"unknown {self.kind} {name!r}; available: {', '.join(names) or 'none'}"
                + (f" (did you mean {', '.join(close)}?)" if close else "")
                + (f" ({self.hint})" if self.hint else "")
            )
        return self._entries[name]

    def __contains__(self, name: str) -> bool:
        self._load_all()
        return name in self._entries

    def names(self) -> list[str]:
        """Every registered name, sorted (imports every module of the package first)."""
        self._load_all()
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        """Every entry, sorted by name."""
        return [self._entries[n] for n in self.names()]

    # -- options -------------------------------------------------------------------------------------------------

    def option_names(self, name: str) -> tuple[str, ...] | None:
        """The options ``name`` accepts (None: anything)."""
        e = self.get(name)
        return _option_names(e.config if e.config is not None else e.obj)

    def check_options(self, name: str, options: Mapping[str, Any]) -> dict:
        """``options`` for ``name``, checked: an unknown option is a JudgemindError listing the valid ones; values
        of class/function options are checked for type and size (:func:`judgemind.utils.options.check_options`).
        Returns them as a dict."""
        e = self.get(name)
        options = dict(options)
        valid = self.option_names(name)
        if valid is not None:
            bad = sorted(str(k) for k in options if k not in valid)
            if bad:
                raise JudgemindError(
                    f"{self.kind} {name!r} has no option {', '.join(bad)}; its options are {', '.join(valid) or 'none'}"
                )
        if e.config is None:
            target: Callable = e.obj.__init__ if isinstance(e.obj, type) else e.obj
            check_options(target, options, f"{self.kind} {name!r}")
        return options

    def create(self, name: str, **options: Any) -> Any:
        """``obj(**options)`` after :meth:`check_options` (for registries of classes)."""
        e = self.get(name)
        return e.obj(**self.check_options(name, options))
