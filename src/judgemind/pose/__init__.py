"""AerialsPose: the project's own learned perception for aerials renders.

A small detector finds the athlete in each frame and a small crop network gives its 19 skeleton points
(:data:`judgemind.data.skeleton.SKELETON_POINTS`), their visibility and a pelvis-relative 3D pose. Both learn on the
CPU from a data set with per-frame skeletons (``judgemind pose train``); the weights trained on the SynthAerials
bench preset ship inside the package (``weights/aerialspose_v1.safetensors``, model card beside it).

- :mod:`judgemind.pose.net`       the networks; safetensors weights with their layout and model card
- :mod:`judgemind.pose.data`      frames + skeletons of a data set (the crop geometry: judgemind.video.crop)
- :mod:`judgemind.pose.train`     training (resumable), ``judgemind pose train``
- :mod:`judgemind.pose.infer`     :class:`AerialsPose` on frames
- :mod:`judgemind.pose.evaluate`  PCK per joint and group, ``judgemind pose eval``
- :mod:`judgemind.pose.locator`   the ``aerialspose`` athlete locator (registered with the video locators)

The ``aerialspose`` extractor (:mod:`judgemind.features.aerialspose`) and locator put it between the video and the
judge. Layering: ``pose`` imports ``data`` and ``video``; ``features`` imports ``pose``; ``video`` never does (its
registry names the locator's module as a string).
"""
