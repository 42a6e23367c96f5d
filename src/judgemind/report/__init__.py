"""Reports: benchmark tables and plots (``bench``, ``tables``, ``plots``) and the judge sheet (``sheet``).

Submodules are imported on use (matplotlib and torch are heavy); e.g. ``from judgemind.report.tables import
markdown_table``.
"""
