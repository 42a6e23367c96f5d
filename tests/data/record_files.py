"""A valid aerials record and hand-written dataset folders, for the data tests (a module of its own, not the
conftest: ``from conftest import ...`` finds whichever conftest pytest loaded last when several test folders run
together)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

# A valid 5-judge aerials jump: judge totals 8.9, 8.9, 8.9 (counted), 9.7 and 7.8 (dropped); J = 26.7;
# 26.7 x 4.425 = 118.1475 -> truncated 118.14.
VALID_RECORD = {
    "id": "jump_0001",
    "video": "videos/jump_0001.mp4",
    "frames": [0, 10],
    "action_code": "bFdFF",
    "dd": 4.425,
    "sex": "M",
    "stages": {"takeoff": [0, 3], "flight": [3, 7], "landing": [7, 10]},
    "judges": [
        {"air": 1.8, "form": 4.4, "landing": 2.7},
        {"air": 1.9, "form": 4.5, "landing": 2.5},
        {"air": 1.8, "form": 4.3, "landing": 2.8},
        {"air": 2.0, "form": 4.8, "landing": 2.9},
        {"air": 1.5, "form": 3.9, "landing": 2.4},
    ],
    "final_score": 118.14,
    "deductions": [{"item": "bent_knees", "stage": "flight", "points": 0.3, "frames": [4, 6], "severity": 0.4}],
}


def aerials_record_dict(**changes) -> dict:
    """A fresh copy of :data:`VALID_RECORD` with top-level fields replaced (``None`` deletes a field)."""
    d = copy.deepcopy(VALID_RECORD)
    for k, v in changes.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    return d


def write_folder(root: Path, lines: list, splits: dict | None = None, **meta) -> Path:
    """Write ``dataset.json`` and ``annotations.jsonl`` by hand (lines: dicts, or raw strings written as is)."""
    root.mkdir(parents=True, exist_ok=True)
    ids = [x["id"] for x in lines if isinstance(x, dict) and isinstance(x.get("id"), str)]
    d = {
        "name": "test",
        "schema_version": 1,
        "fps": 25,
        "scoring": "aerials5",
        "stage_names": ["take-off", "flight", "landing"],
        "catalogue_version": "1",
        "splits": splits if splits is not None else {"train": ids},
        **meta,
    }
    (root / "dataset.json").write_text(json.dumps(d), encoding="utf-8")
    text = "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines)
    (root / "annotations.jsonl").write_text(text, encoding="utf-8")
    return root
