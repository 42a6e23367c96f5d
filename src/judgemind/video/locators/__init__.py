"""Athlete locators: where is the athlete in each frame? (See :mod:`judgemind.video.locators.base`.)

    loc = get_locator("hog", detect_every=5)
    dets = loc.locate([(i, frame) for i, frame in frames], cuts=record.cuts)

The code lives in :mod:`~judgemind.video.locators.base` (Detection, Locator, gap filling, the registry); this
package re-exports it. Built-in locators: :mod:`~.annotation`, :mod:`~.mp_pose`, :mod:`~.hog`, :mod:`~.motion`,
and ``aerialspose`` (:mod:`judgemind.pose.locator`, beside the networks it runs).
"""

from judgemind.video.locators.base import (
    LOCATORS,
    N_KEYPOINTS,
    Box,
    Detection,
    Locator,
    LocatorInfo,
    boxes_array,
    fill_gaps,
    get_locator,
    interpolate_boxes,
    list_locators,
    register_locator,
    require_package,
)

__all__ = [
    "Box",
    "Detection",
    "Locator",
    "LocatorInfo",
    "LOCATORS",
    "register_locator",
    "get_locator",
    "list_locators",
    "fill_gaps",
    "interpolate_boxes",
    "boxes_array",
    "require_package",
    "N_KEYPOINTS",
]
