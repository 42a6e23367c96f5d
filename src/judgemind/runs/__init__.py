"""What training and inference share, one floor below both: a run's config (``config``), its batches from the
feature cache (``batch``) or frame clips (``e2e``), its model built and loaded (``model``: ``build_model``,
``load_run_model``), its data read once (``prepare``), checkpoints (``checkpoint``), devices and processes
(``dist``), metrics of model outputs (``outputs``), 90 % intervals and the in-distribution reference
(``calibrate``), and reading a run folder (``folder``). ``judgemind.train`` trains with them;
``judgemind.infer`` and ``judgemind.bench`` use them without climbing into ``train``."""
