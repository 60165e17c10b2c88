"""What a build keeps in its output folder for the next one: ``build/.press-kept.json``.

Work that is costly to redo and wholly determined by a key made from its inputs: citeproc's
renderings of the citations (press.citeproc), the HTML of each part of the document and of each
citation in each rendering (press.writers.shared.HtmlParts) and the "How to cite" line
(press.context), and which metadata texts were found valid (press.metadata). A build uses an entry only when its key matches exactly, so the file can never
make an output wrong; a missing, unreadable or foreign file only costs the work again. Like the build record it is written after
the outputs are published, and it holds only what the last build used, so it never grows.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

NAME = ".press-kept.json"
SCHEMA = 1
# section -> type of a value; "metadata": metadata texts found valid against the schema (press.metadata)
# "math": the keys of the equations MathJax typeset (press.checks.equations): not checked again.
SECTIONS = {"citations": dict, "html-print": str, "html-web": str, "how-to-cite": str, "metadata": str, "math": str}


class Memo:
    """One section's entries: the ones an earlier build kept, and the ones this build used."""

    def __init__(self, previous: dict[str, Any] | None = None):
        self.previous = dict(previous or {})
        self.used: dict[str, Any] = {}
        self._lock = threading.Lock()  # writers in several threads share a memo

    def get(self, key: str) -> Any | None:
        with self._lock:
            value = self.previous.get(key)
            if value is not None:
                self.used[key] = value
            return value

    def offer(self, key: str, value: Any) -> None:
        """An entry made ahead of its use: kept for the next build only once ``get`` uses it."""
        with self._lock:
            self.previous[key] = value

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self.previous[key] = value
            self.used[key] = value


class Kept:
    """Every section's memo, read from an output folder (empty for a forced or first build)."""

    def __init__(self, data: Any = None):
        data = data if isinstance(data, dict) else {}
        self.memos = {section: Memo(_valid(data.get(section), kind)) for section, kind in SECTIONS.items()}
        self._read = self.to_keep()

    def __getitem__(self, section: str) -> Memo:
        return self.memos[section]

    def to_keep(self) -> dict[str, dict[str, Any]]:
        """What the next build should find: per section, what this build used, else what it found."""
        return {section: dict(memo.used or memo.previous) for section, memo in self.memos.items()}

    @property
    def changed(self) -> bool:
        return self.to_keep() != self._read


def entry_key(*inputs: str | bytes) -> str:
    """The key of an entry: SHA-256 of pandoc's identity and of ``inputs``, everything else it depends on.

    Every entry is pandoc's output, so pandoc's binary and version are part of every key.
    """
    from . import pandoc

    digest = hashlib.sha256(f"{pandoc.pandoc_path()}\0{pandoc.pandoc_version()}".encode())
    for item in inputs:
        digest.update(b"\0" + (item.encode("utf-8") if isinstance(item, str) else item))
    return digest.hexdigest()


def _valid(entries: Any, kind: type) -> dict[str, Any]:
    """The entries of the expected type: the file is in the output folder, anything may be in it."""
    if not isinstance(entries, dict):
        return {}
    return {key: value for key, value in entries.items() if isinstance(value, kind)}


def read_kept(out_dir: Path) -> Kept:
    """What the last build kept in ``out_dir``; empty when absent, unreadable or of another schema."""
    try:
        data = json.loads((out_dir / NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Kept()
    return Kept(data if isinstance(data, dict) and data.get("schema") == SCHEMA else None)


def write_kept(out_dir: Path, kept: Kept) -> None:
    from .publish import replace

    data = {"schema": SCHEMA, **kept.to_keep()}
    replace(out_dir, NAME, json.dumps(data, ensure_ascii=False).encode("utf-8"))
