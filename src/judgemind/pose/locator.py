"""The ``aerialspose`` locator: AerialsPose's learned detector, refined by the box of its predicted points.

Made for SynthAerials renders (the detector and the pose network are trained on them: ``judgemind pose train``);
for real footage use ``mediapipe`` or ``hog``. Boxes are the extent of the predicted in-picture points (what the
``skeleton`` features call the box); frames where the detector finds nobody are filled between detections of the
same shot and flagged. Keypoints are not given in MediaPipe's 33-landmark layout (the ``aerialspose`` extractor
reads the 19-point skeleton itself).
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from judgemind.errors import JudgemindError
from judgemind.pose.infer import AerialsPose, default_weights
from judgemind.utils.atomic import sha256_file
from judgemind.video.locators import Detection, Locator, fill_gaps, register_locator


@register_locator
class AerialsPoseLocator(Locator):
    """AerialsPose detector (+ the pose network's refinement).

    Args:
        weights: AerialsPose weights file (default: the weights shipped with judgemind).
        refine: replace the detector's box by the box of the predicted points (default true).
        threshold: presence probability below which a frame has no athlete (default 0.5).
    """

    name = "aerialspose"
    description = "AerialsPose learned detector + 19-point crop network (trained on SynthAerials renders)"
    requires = ("torch", "cv2")

    def __init__(self, weights: str | None = None, refine: bool = True, threshold: float = 0.5):

        if not 0.0 < float(threshold) < 1.0:
            raise JudgemindError(f"locator 'aerialspose': threshold is a probability in (0, 1), got {threshold!r}")
        self.weights, self.refine, self.threshold = weights, bool(refine), float(threshold)
        self._est = None

    def _estimator(self):
        if self._est is None:
            self._est = AerialsPose(self.weights, refine=self.refine, threshold=self.threshold)
        return self._est

    def config(self) -> dict[str, Any]:

        return {
            "name": self.name,
            "refine": self.refine,
            "threshold": self.threshold,
            "weights_sha256": sha256_file(default_weights(self.weights)),
        }

    def detect(self, frame: np.ndarray, index: int) -> Detection:
        return self._detections([frame])[0]

    def _detections(self, frames: list[np.ndarray]) -> list[Detection]:
        res = self._estimator()(frames)
        return [
            Detection(tuple(float(v) for v in res.box[k]), float(res.confidence[k]))
            if res.found[k]
            else Detection(None, float(res.confidence[k]))
            for k in range(len(frames))
        ]

    def locate(
        self, frames: Iterable[tuple[int, np.ndarray]], *, record=None, scale: float = 1.0, cuts: Sequence[int] = ()
    ) -> list[Detection]:
        frames = list(frames)
        if not frames:
            return []
        dets = self._detections([f for _, f in frames])  # batched: the networks are stateless across frames
        h, w = frames[0][1].shape[:2]
        return fill_gaps([int(i) for i, _ in frames], dets, (w, h), sorted(int(c) for c in cuts))
