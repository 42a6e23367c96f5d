"""The package version, in a module of its own: every module that records it (checkpoints, caches, results) imports
it from here, so that ``judgemind/__init__.py`` can export the public API lazily without an import circle."""

__version__ = "0.1.0"
