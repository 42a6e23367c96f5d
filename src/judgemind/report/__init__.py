"""Reports: files only, rendered from the documents other packages compute.

* ``score_outputs`` -- one jump of ``judgemind score``: result.json, sheet.html (``sheet``), timeline.png
  (``timeline``); ``round`` -- a round's index.html and round.json;
* ``predictions`` -- metrics.json and predictions.jsonl of ``judgemind evaluate`` / ``predict``;
* ``bench`` -- bench.md, bench.csv, bench.json and plots of ``judgemind bench`` (``tables``, ``plots``).

Submodules are imported on use (matplotlib and torch are heavy); e.g. ``from judgemind.report.tables import
markdown_table``.
"""
