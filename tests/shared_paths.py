"""Where the tests' real data lives (used by conftest files and tests).

* :data:`FIXTURES` (``tests/fixtures``, in the repository): small cuts of the real data -- the released TSA and
  MCoRe FineDiving predictions, a few hundred FineDiving and MTL-AQA records in their original formats (see
  ``tests/fixtures/README.md``). Tests on them always run.
* :func:`find_shared_data_dir`: the full shared annotation data, for the checks that need whole files; those tests
  skip when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


def find_shared_data_dir() -> Path:
    """The full shared annotation data (FineDiving, MTL-AQA): ``$JUDGEMIND_SHARED_DATA`` when set, else
    ``shared/data`` beside the repository (``../shared/data`` relative to its root). The folder may not exist
    (the tests that need it then skip)."""
    env = os.environ.get("JUDGEMIND_SHARED_DATA")
    if env:
        return Path(env)
    return REPO.parent / "shared" / "data"
