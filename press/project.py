"""Where a project keeps its inputs: the one list of folders that the build fingerprints, that bounds what
the outputs may embed, and that `serve` watches.

Standard library only: a no-op build and the PDF worker import this before anything heavier.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

METADATA_FILE = Path("manuscript") / "metadata.yaml"
# Every folder of the project that the build reads. The first two hold what a section may pull in
# (images and whatever else): their files are inputs of every output, and the PDF may load them.
CONTENT_FOLDERS = ("manuscript", "figures")
INPUT_FOLDERS = (*CONTENT_FOLDERS, "bib", "templates", "journals")  # journals/: the project's journal profiles


def input_folders(root: Path) -> list[Path]:
    """The project's input folders, whether or not each exists (one may be created during a session)."""
    return [root / name for name in INPUT_FOLDERS]


def content_folders(root: Path) -> list[Path]:
    return [root / name for name in CONTENT_FOLDERS]


def project_files(root: Path) -> list[Path]:
    """Every file in the content folders: images and whatever else a section may pull in.

    Wider than the files the document names (an unused image counts too), but found without
    walking the document, and a file the outputs embed can never be missed.
    """
    return sorted(p for folder in content_folders(root) for p in folder.rglob("*") if p.is_file())


def peek_metadata(root: Path) -> dict[str, Any]:
    """The metadata as plain YAML, unvalidated: enough to start work early (press.load validates it)."""
    try:
        import yaml

        data = yaml.safe_load((root / METADATA_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except Exception:  # noqa: BLE001 - loading reports whatever is wrong with it
        return {}
