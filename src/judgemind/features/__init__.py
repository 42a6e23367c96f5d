"""Feature extractors (registry) and the feature cache.

    from judgemind.features import get_extractor, list_extractors, FeatureCache
    ext = get_extractor("tiny3d", steps=32)               # or "pose", "i3d" (weights=FILE), "videomae" (weights=DIR)

Modules: :mod:`~judgemind.features.base` (Extractor, Plan, Frames, registry, crops),
:mod:`~judgemind.features.pipeline` (extract_record, run_extract), :mod:`~judgemind.features.cache`,
:mod:`~judgemind.features.tiny3d`, :mod:`~judgemind.features.pose`, :mod:`~judgemind.features.i3d_extractor`
(wraps :mod:`~judgemind.features.i3d`), :mod:`~judgemind.features.videomae`. Extractor modules import torch; they
are imported on first use.
"""

from judgemind.features.base import (
    EXTRACTORS,
    Extractor,
    ExtractorInfo,
    Frames,
    Plan,
    get_extractor,
    list_extractors,
    register_extractor,
)
from judgemind.features.cache import FeatureCache, list_caches

__all__ = [
    "EXTRACTORS",
    "Extractor",
    "ExtractorInfo",
    "Frames",
    "Plan",
    "get_extractor",
    "list_extractors",
    "register_extractor",
    "FeatureCache",
    "list_caches",
]
