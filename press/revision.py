"""The earlier version of a manuscript, for the revision round: a git revision, or another copy of it.

A revision's files are read with ``git archive`` into a temporary folder; nothing is ever checked
out, so the working tree, the index and the repository stay as they are.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .model import Diagnostic, PressError, display_path, error
from .project import MARKDOWN_SUFFIXES, METADATA_FILE, NoManuscript, choose, locate


def manuscript_file(root: Path) -> Path:
    """The file that makes the project at ``root`` a manuscript, relative to it: its metadata, or its paper."""
    try:
        project = locate(root)
    except NoManuscript:
        return METADATA_FILE
    return project.source.relative_to(project.root)


def _fail(where: str, code: str, message: str, hint: str | None = None) -> PressError:
    return PressError([error(where, None, code, message, hint)])


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except OSError:  # git itself is missing
        raise _fail(
            display_path(root), "not-a-repository", "git is not installed", "compare with a copy: --against DIR"
        ) from None


@contextlib.contextmanager
def revision_project(root: Path, revision: str) -> Iterator[Path]:
    """The project at ``root`` as it was at git ``revision``, in a temporary folder (removed afterwards).

    Raises PressError, one line each: not a git repository, an unknown revision, a revision where
    the manuscript did not exist yet.
    """
    shown = display_path(root)
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise _fail(shown, "not-a-repository", "not a git repository", "compare with a copy instead: --against DIR")
    prefix = _git(root, "rev-parse", "--show-prefix").stdout.decode().strip()
    if revision.startswith("-") or _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}").returncode:
        raise _fail(
            revision,
            "unknown-revision",
            f"'{revision}' is not a revision of the git repository at {shown}",
            "name a tag, a branch or a commit: `git tag` and `git log --oneline` list them",
        )
    # The tree of the project's folder at that revision ("REV:" is the repository's top).
    tree = f"{revision}:{prefix}"
    # From the repository's top: run in a subfolder, git archive limits itself to that folder's path.
    archive = _git(Path(top.stdout.decode().strip()), "archive", "--format=tar", tree)
    source = manuscript_file(root)
    if archive.returncode != 0 or not _has(root, f"{tree}{source.as_posix()}"):
        raise _fail(
            revision,
            "manuscript-absent",
            f"there is no manuscript at revision '{revision}' ({prefix or './'}{source.as_posix()} did not exist yet)",
        )
    with tempfile.TemporaryDirectory(prefix="press-revision-") as folder:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(folder, filter="data")
        # A paper in one file: the one the working copy has, whatever else its folder held then.
        yield choose(Path(folder) / source) if source.suffix.lower() in MARKDOWN_SUFFIXES else Path(folder)


def _has(root: Path, object_name: str) -> bool:
    return _git(root, "cat-file", "-e", object_name).returncode == 0


def copy_project(folder: Path) -> Path:
    """The project root of ``--against DIR``: DIR itself, or its parent when DIR is a manuscript folder."""
    try:
        project = locate(folder)
    except NoManuscript as exc:
        raise _fail(display_path(folder), "manuscript-absent", exc.reason, exc.hint) from None
    if project.source.is_file():
        return project.root
    if (folder / METADATA_FILE.name).is_file() and folder.name == METADATA_FILE.parent.name:
        return folder.parent
    raise _fail(
        display_path(folder),
        "manuscript-absent",
        f"there is no manuscript in {display_path(folder)} (no {METADATA_FILE.as_posix()})",
        "give the folder that holds manuscript/ and bib/",
    )


def prefixed(diagnostics: list[Diagnostic], folder: Path, label: str) -> list[Diagnostic]:
    """``diagnostics`` of the version in ``folder``, each file named as ``label:path`` (``v1:manuscript/x.md``)."""
    roots = {str(folder), str(folder.resolve()), display_path(folder)}
    out = []
    for diagnostic in diagnostics:
        name = diagnostic.file
        for root in sorted(roots, key=len, reverse=True):
            if name == root or name.startswith(root + "/"):
                name = name[len(root) :].lstrip("/") or "."
                break
        out.append(dataclasses.replace(diagnostic, file=f"{label}:{name}"))
    return out
