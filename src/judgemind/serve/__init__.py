"""``judgemind serve``: a local web app to score clips in a browser and to annotate a FineSkiing data set.

Modules: :mod:`.app` (the Starlette app: pages and their handlers), :mod:`.jobs` (the persistent SQLite job queue
and the server's folder), :mod:`.worker` (the scoring worker processes; :func:`~.worker.score_clip` is the one
scoring call), :mod:`.uploads` (streamed, checked, safely named uploads), :mod:`.annotate` (the data set being
annotated, the editor's values, frames), :mod:`.security` (hosts, token, CSRF, headers), :mod:`.server` (start-up,
recovery of a killed server, workers, uvicorn). Templates and static files ship in ``templates/`` and ``static/``.
See docs/serve.md.
"""
