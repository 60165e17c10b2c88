"""`new DIR`: write a fresh manuscript project in the press layout, ready to build.

The project is the folder ``press/scaffold/`` as it is, file for file; a file whose name ends in
``.jinja`` is a Jinja2 template, written without that suffix (only the metadata needs one: the title
and the copyright year). Like MkDocs' ``new``, it never overwrites: when any file it would write is
already there, it writes nothing at all and names every such file. Half a scaffold mixed into an
author's own files would be a project neither of them wrote (our metadata listing their sections,
their bibliography missing the keys our sections cite), and no build of it could be trusted.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .model import PressError, display_path, error

SCAFFOLD = Path(__file__).resolve().parent / "scaffold"
TEMPLATE_SUFFIX = ".jinja"
DEFAULT_TITLE = "Untitled manuscript"


@dataclass(frozen=True)
class ScaffoldFile:
    source: Path  # inside SCAFFOLD
    target: Path  # relative to the new project's folder

    @property
    def is_template(self) -> bool:
        return self.source.name.endswith(TEMPLATE_SUFFIX)


def scaffold_files() -> list[ScaffoldFile]:
    """Every file the scaffold writes, in a stable order."""
    found = []
    for source in sorted(p for p in SCAFFOLD.rglob("*") if p.is_file()):
        target = source.relative_to(SCAFFOLD)
        if target.name.endswith(TEMPLATE_SUFFIX):
            target = target.with_name(target.name.removesuffix(TEMPLATE_SUFFIX))
        found.append(ScaffoldFile(source, target))
    return found


def yaml_text(value: str) -> str:
    """``value`` as a YAML double-quoted scalar: JSON's string syntax is YAML's, escapes and all."""
    return json.dumps(value, ensure_ascii=False)


def copyright_year() -> int:
    """This year; or the year of ``SOURCE_DATE_EPOCH``, as the build reads it, when that is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).year
    return datetime.date.today().year


def render(file: ScaffoldFile, title: str, year: int) -> bytes:
    text = file.source.read_text(encoding="utf-8")
    if file.is_template:
        import jinja2

        env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
        env.filters["yaml_text"] = yaml_text
        text = env.from_string(text).render(title=title, year=year)
    return text.encode("utf-8")


def check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise PressError([error("--title", None, "new-title", "the title is empty", 'e.g. --title "My article"')])
    if any(ord(c) < 32 for c in title):
        raise PressError(
            [
                error(
                    "--title",
                    None,
                    "new-title",
                    "the title has a line break or control character",
                    "write it on one line",
                )
            ]
        )
    return title


# Every file in these folders is read by the build: a section not listed is a warning, another .bib
# joins the bibliography. A new project among them would not build cleanly, so they are in the way too.
READ_WHOLE = ("manuscript", "bib")


def in_the_way(folder: Path, files: list[ScaffoldFile]) -> dict[Path, str]:
    """Path -> why, for each path already there that writing the scaffold into ``folder`` would meet."""
    found: dict[Path, str] = {}
    for file in files:
        target = folder / file.target
        for parent in list(reversed(file.target.parents))[1:]:  # manuscript, ... (not the folder itself)
            if (folder / parent).exists() and not (folder / parent).is_dir():
                found[folder / parent] = "is not a folder, and the new project needs one of this name"
        if target.exists() or target.is_symlink():
            found[target] = "already exists"
    for name in READ_WHOLE:
        if (folder / name).is_dir():
            for path in sorted(p for p in (folder / name).rglob("*") if p.is_file()):
                found.setdefault(path, f"is in {name}/, where the build would read it with the new project's files")
    return found


def new_project(folder: Path, title: str = DEFAULT_TITLE) -> list[Path]:
    """Write the scaffold into ``folder`` (created when missing); the paths written.

    Raises PressError naming every path already taken, before anything is written.
    """
    title = check_title(title)
    if folder.exists() and not folder.is_dir():
        raise PressError(
            [error(display_path(folder), None, "new-not-folder", "exists and is not a folder", "name a new folder")]
        )
    files = scaffold_files()
    taken = in_the_way(folder, files)
    if taken:
        raise PressError(
            [
                error(
                    display_path(path),
                    None,
                    "new-file-exists",
                    f"{why}; new never overwrites, so nothing was written",
                    "name a new or empty folder (new creates it), or move this out of the way",
                )
                for path, why in taken.items()
            ]
        )
    year = copyright_year()
    contents = {folder / file.target: render(file, title, year) for file in files}  # every template, first
    written: list[Path] = []
    for path, data in contents.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("xb") as handle:  # "x": a file that appeared since the check is still not overwritten
                handle.write(data)
        except OSError as exc:
            done = f"; written before it: {', '.join(display_path(p) for p in written)}" if written else ""
            raise PressError(
                [error(display_path(path), None, "new-unwritable", f"cannot write it: {exc.strerror}{done}")]
            ) from None
        written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    """The ``new`` command: ``python build.py new DIR [--title TITLE]``."""
    if len(args.query) != 1:
        raise PressError(
            [
                error(
                    "new",
                    None,
                    "new-folder",
                    "name one folder for the new project" + (f", not {len(args.query)}" if args.query else ""),
                    'e.g. python build.py new my-paper --title "My article"',
                )
            ]
        )
    folder = Path(args.query[0])
    written = new_project(folder, args.title if args.title is not None else DEFAULT_TITLE)
    for path in written:
        print(f"  wrote {display_path(path)}")
    where = display_path(folder)
    print(
        f"new manuscript in {where}: fill in manuscript/metadata.yaml, then\n"
        f"  python build.py check --root {where}\n"
        f"  python build.py serve --root {where}"
    )
    return 0
