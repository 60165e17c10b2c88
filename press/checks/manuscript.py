"""Checks of the manuscript's files: Markdown files left out of the metadata, images that are not there
or not ours to load, and raw HTML that would run in the reader's browser.

A section listed in the metadata but missing is found while loading (press.load: ``section-missing``).
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..ast import elements
from ..load import display_path
from ..model import Diagnostic, InOrder, Manuscript, Parsed, Section, error, warning

MARKDOWN_SUFFIXES = (".md", ".markdown")


def check_unlisted_files(manuscript: Manuscript) -> list[Diagnostic]:
    """A Markdown file in manuscript/ that the metadata does not list is left out of the article."""
    if manuscript.layout.single:
        return []  # the paper is its one file
    folder = manuscript.layout.text_dir
    metadata = manuscript.metadata
    listed = {(folder / name).resolve() for name in [*metadata.section_files, metadata.abstract_file] if name}
    found: list[Diagnostic] = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in MARKDOWN_SUFFIXES and path.is_file() and path.resolve() not in listed:
            found.append(
                warning(
                    display_path(path),
                    None,
                    "section-unlisted",
                    f"'{path.name}' is in manuscript/ but not listed in the metadata, so it is not in the article",
                    f"add it under 'sections' in {display_path(metadata.path)}, or move it out of manuscript/",
                )
            )
    return found


def image_targets(blocks: list[dict]) -> list[str]:
    """The target of every image, in document order."""
    return [element["c"][2][0] for element in elements(blocks) if element["t"] == "Image"]


def is_local(target: str) -> bool:
    return bool(target) and "://" not in target and not target.startswith(("data:", "#", "mailto:"))


def check_images(manuscript: Manuscript, parsed: Parsed) -> list[Diagnostic]:
    """Local images must exist inside the project; they are resolved from manuscript/, as the writers do."""
    sections: list[Section] = ([manuscript.abstract] if manuscript.abstract else []) + manuscript.sections
    root = manuscript.root.resolve()
    base = manuscript.layout.text_dir
    found: list[Diagnostic] = []
    for section, blocks in zip(sections, parsed.groups, strict=True):
        places = InOrder(section.text)
        for target in image_targets(blocks):
            # Only to point at the image: the target as pandoc parsed it, searched in order in its file.
            line, column = places.find(target)
            scheme = urlsplit(target).scheme.lower()
            if scheme == "file" or target.startswith("//") or (scheme and scheme not in ("data",) and len(scheme) > 1):
                found.append(
                    error(
                        section.display,
                        line,
                        "image-remote" if scheme != "file" else "image-file-url",
                        f"image '{target}' is not a file of the project: the build loads nothing from the "
                        "network or from outside the project",
                        "download the image into the project (e.g. figures/) and link to it by a relative path",
                        column=column,
                    )
                )
                continue
            if not is_local(target):
                continue
            path = (base / unquote(target)).resolve()
            if not path.is_relative_to(root):
                found.append(
                    error(
                        section.display,
                        line,
                        "image-outside-project",
                        f"image '{target}' is outside the project",
                        "copy the image into the project (e.g. figures/) and link to the copy",
                        column=column,
                    )
                )
            elif not path.is_file():
                found.append(
                    error(
                        section.display,
                        line,
                        "image-missing",
                        f"image '{target}' does not exist",
                        _image_hint(target, root, base),
                        column=column,
                    )
                )
    return found


def _image_hint(target: str, root: Path, base: Path) -> str:
    if (root / unquote(target)).is_file():  # written relative to the project rather than to manuscript/
        return f"images are found relative to manuscript/: did you mean '../{target}'?"
    return f"images are found relative to {display_path(base)}/"


UNSAFE_TAGS = {"script", "iframe", "object", "embed", "frame", "frameset", "base", "meta", "form"}


class _UnsafeHtml(HTMLParser):
    """Collects what in a raw HTML fragment would run code in the reader's browser."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in UNSAFE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}= attribute on <{tag}>")
            elif (
                value
                and name in ("href", "src", "action", "formaction", "xlink:href", "data")
                and ("".join(value.split()).lower().startswith(("javascript:", "vbscript:", "data:text/html")))
            ):
                self.found.append(f"{value.split(':')[0].strip()}: URL in <{tag} {name}>")


def raw_html_pieces(blocks: list[dict]) -> list[tuple[str, str]]:
    """(kind, text) of raw HTML and of link targets, in document order."""
    found: list[tuple[str, str]] = []
    for element in elements(blocks, prune=frozenset({"Cite"})):  # citeproc's links are not the authors'
        kind = element["t"]
        if kind in ("RawBlock", "RawInline") and element["c"][0] == "html":
            found.append(("html", element["c"][1]))
        elif kind == "Link":
            found.append(("link", element["c"][2][0]))
    return found


def check_raw_html(manuscript: Manuscript, parsed: Parsed) -> list[Diagnostic]:
    """Raw HTML that would run in the reader's browser is an error unless the metadata allows raw HTML."""
    if manuscript.metadata.allow_raw_html:
        return []
    sections: list[Section] = ([manuscript.abstract] if manuscript.abstract else []) + manuscript.sections
    found: list[Diagnostic] = []
    for section, blocks in zip(sections, parsed.groups, strict=True):
        places = InOrder(section.text)
        for kind, text in raw_html_pieces(blocks):
            if kind == "link":
                problems = (
                    [f"{text.split(':')[0]}: link"]
                    if "".join(text.split()).lower().startswith(("javascript:", "vbscript:", "data:text/html"))
                    else []
                )
            else:
                parser = _UnsafeHtml()
                parser.feed(text)
                parser.close()
                problems = parser.found
            if not problems:
                continue
            line, column = places.find(text.strip().splitlines()[0] if text.strip() else text, past=False)
            for problem in problems:
                found.append(
                    error(
                        section.display,
                        line,
                        "raw-html-unsafe",
                        f"raw HTML that would run in the reader's browser: {problem}",
                        "remove it; if the journal really wants raw HTML, set 'allow_raw_html: true' in the metadata",
                        column=column,
                    )
                )
    return found
