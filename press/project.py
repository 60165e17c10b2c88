"""Where a project keeps its inputs: which layout it has, the one list of folders that the build
fingerprints, that bounds what the outputs may embed, and that `serve` watches.

Two layouts are one ``Project``: the press layout (``manuscript/metadata.yaml``, sections under
``manuscript/``, ``bib/``, ``figures/``) and a single Markdown file with YAML front matter (a JOSS
``paper.md``, a Quarto ``index.qmd``), whose folder holds its figures and bibliography. Nothing after
``press.load`` needs to know which.

Standard library only: a no-op build and the PDF worker import this before anything heavier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METADATA_FILE = Path("manuscript") / "metadata.yaml"
# Every folder of the project that the build reads. The first two hold what a section may pull in
# (images and whatever else): their files are inputs of every output, and the PDF may load them.
CONTENT_FOLDERS = ("manuscript", "figures")
INPUT_FOLDERS = (*CONTENT_FOLDERS, "bib", "templates", "journals")  # journals/: the project's journal profiles
MARKDOWN_SUFFIXES = (".md", ".qmd", ".markdown")
# The names a single-file paper goes by, most likely first, when its folder has several Markdown files.
PAPER_NAMES = ("paper.md", "index.qmd", "index.md", "manuscript.md", "article.md", "paper.qmd", "manuscript.qmd")
# What a single-file paper's folder may hold that is no input: outputs, tools' caches, environments.
NOT_INPUT = {"build", "dist", "_site", "_freeze", "_book", "node_modules", "__pycache__", "venv", ".venv"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".pdf", ".tif", ".tiff", ".webp", ".eps"}
FRONT_MATTER_START = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n")


class NoManuscript(Exception):  # noqa: N818 - a finding, not a failure of ours: press.load reports it
    """No manuscript where the path points: ``reason`` and ``hint`` say why and what to do."""

    def __init__(self, path: Path, reason: str, hint: str):
        super().__init__(reason)
        self.path, self.reason, self.hint = path, reason, hint


@dataclass(frozen=True)
class Project:
    root: Path  # the folder: build/ and a project's own templates/ are here
    source: Path  # manuscript/metadata.yaml, or the Markdown file whose front matter is the metadata

    @property
    def single(self) -> bool:
        return self.source.suffix.lower() in MARKDOWN_SUFFIXES

    @property
    def text_dir(self) -> Path:
        """The folder that sections' relative paths (figures, section files) start from."""
        return self.source.parent if self.single else self.root / "manuscript"

    @property
    def bib_dir(self) -> Path:
        return self.text_dir if self.single else self.root / "bib"

    def content_folders(self) -> list[Path]:
        return [self.root] if self.single else [self.root / name for name in CONTENT_FOLDERS]

    def input_folders(self) -> list[Path]:
        """The input folders, whether or not each exists (one may be created during a session)."""
        if self.single:
            return [self.root, self.root / "templates"]
        return [self.root / name for name in INPUT_FOLDERS]

    def files(self) -> list[Path]:
        """Every file a section may pull in: everything in the content folders of the press layout,
        the images of a single-file paper's folder (which also holds code, data and outputs).

        Wider than the files the document names (an unused image counts too), but found without
        walking the document, and a file the outputs embed can never be missed.
        """
        if not self.single:
            return sorted(p for folder in self.content_folders() for p in folder.rglob("*") if p.is_file())
        return sorted(_images_under(self.root))


def _images_under(folder: Path) -> list[Path]:
    found = []
    for path in folder.iterdir():
        if path.name.startswith(".") or path.name in NOT_INPUT:
            continue
        if path.is_dir():
            if not (path / ".press-record.json").exists():  # an output folder (--out) is no input
                found += _images_under(path)
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            found.append(path)
    return found


# The paper named on the command line for its folder (python build.py drafts/paper.md): the commands
# then work on the folder, as for a project, and every locate() of it in this process finds that file.
_CHOSEN: dict[Path, Path] = {}


def choose(path: Path) -> Path:
    """The project folder of ``path`` (a folder, or a Markdown file, which becomes its folder's paper)."""
    path = path.resolve()
    if path.suffix.lower() in MARKDOWN_SUFFIXES and not path.is_dir():
        _CHOSEN[path.parent] = path
        return path.parent
    return path


def locate(path: Path | Project) -> Project:
    """The project at ``path``: a folder in the press layout or with one paper in it, or a Markdown file.

    Raises NoManuscript when there is none, or several papers and no way to choose.
    """
    if isinstance(path, Project):
        return path
    path = path.resolve()
    path = _CHOSEN.get(path, path)
    if path.is_file() or path.suffix.lower() in MARKDOWN_SUFFIXES:
        if path.suffix.lower() not in MARKDOWN_SUFFIXES:
            raise NoManuscript(path, "not a Markdown file", "name a .md or .qmd file, or a project folder")
        if not path.is_file():
            raise NoManuscript(path, "file not found", "check the path")
        return Project(path.parent, path)
    if (path / METADATA_FILE).is_file() or not path.is_dir():
        return Project(path, path / METADATA_FILE)  # a missing folder: press.load says the metadata is missing
    papers = [p for p in sorted(path.iterdir()) if p.suffix.lower() in MARKDOWN_SUFFIXES and _has_front_matter(p)]
    chosen = _quarto_article(path) or next((path / n for n in PAPER_NAMES if path / n in papers), None)
    if chosen is None and len(papers) == 1:
        chosen = papers[0]
    if chosen is not None:
        return Project(path, chosen)
    if papers:
        names = ", ".join(p.name for p in papers)
        raise NoManuscript(
            path,
            f"several Markdown files with front matter ({names}): which is the paper?",
            f"name it: python build.py {papers[0].name}",
        )
    return Project(path, path / METADATA_FILE)


def _has_front_matter(path: Path) -> bool:
    try:
        with path.open("rb") as stream:
            head = stream.read(64).decode("utf-8", "replace")
    except OSError:
        return False
    return FRONT_MATTER_START.match(head) is not None


def _quarto_article(folder: Path) -> Path | None:
    """The article a Quarto manuscript project names (``manuscript: article: index.qmd``)."""
    config = folder / "_quarto.yml"
    if not config.is_file():
        return None
    data = _yaml_mapping(config.read_text(encoding="utf-8", errors="replace"))
    manuscript = data.get("manuscript")
    article = manuscript.get("article") if isinstance(manuscript, dict) else None
    if isinstance(article, str) and (folder / article).is_file():
        return folder / article
    return None


def front_matter_text(text: str) -> tuple[str, int] | None:
    """The YAML of the front matter block that opens ``text`` and the number of lines the block takes
    (its fences included), or None when the text opens with none."""
    if not FRONT_MATTER_START.match(text):
        return None
    lines = text.splitlines(keepends=True)
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "".join(lines[1:index]), index + 1
    return None


def _yaml_mapping(text: str) -> dict[str, Any]:
    try:
        import yaml

        data = yaml.safe_load(text)
        return data if isinstance(data, dict) else {}
    except Exception:  # noqa: BLE001 - only a peek: press.load reports whatever is wrong
        return {}


def peek_metadata(path: Path | Project) -> dict[str, Any]:
    """The metadata as plain YAML, unvalidated: enough to start work early (press.load validates it)."""
    try:
        project = locate(path)
        text = project.source.read_text(encoding="utf-8")
    except (NoManuscript, OSError, UnicodeDecodeError):
        return {}
    if not project.single:
        return _yaml_mapping(text)
    block = front_matter_text(text)
    return _yaml_mapping(block[0]) if block else {}


def input_folders(root: Path) -> list[Path]:
    """The input folders of the project at ``root`` (``serve`` watches them)."""
    return locate(root).input_folders()
