"""What judgemind tells its users cites only the repository's own documents: every ``*.md`` named in the sources
(docstrings, messages, the catalogue), in docs/ or in the README is a file of the repository, and nothing points at
a folder outside it (``../shared``, ``shared/docs``)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MD = re.compile(r"[\w./{}-]*\w\.md\b")
OUTSIDE = ("../shared", "shared/docs", "shared/data")
# names of files judgemind writes (``judgemind bench`` writes OUT/bench.md), not documents
WRITTEN = re.compile(r"^(OUT/|\{out\}/)")


def _cited_files() -> list[Path]:
    src = [p for p in (ROOT / "src" / "judgemind").rglob("*") if p.suffix in (".py", ".json")]
    return sorted(src) + sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]


def _missing_documents() -> list[str]:
    out = []
    for path in _cited_files():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for m in MD.finditer(line):
                ref = m.group(0)
                if WRITTEN.match(ref):
                    continue
                if not any(c.is_file() for c in (ROOT / ref, ROOT / "docs" / ref, path.parent / ref)):
                    out.append(f"{path.relative_to(ROOT)}:{n}: {ref}")
    return out


def test_every_cited_document_is_in_the_repository():
    missing = _missing_documents()
    assert not missing, "documents cited but not in the repository (cite docs/...):\n" + "\n".join(missing)


def test_nothing_points_outside_the_repository():
    found = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in _cited_files()
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if any(o in line for o in OUTSIDE)
    ]
    assert not found, "references to folders outside the repository:\n" + "\n".join(found)
