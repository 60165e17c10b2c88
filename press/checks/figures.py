"""Figures, checked on pandoc's parse: what each format can show, and what a journal and PDF/UA ask of them.

Errors: a file of a kind no format shows (EPS, PSD, HEIC ...), a file that cannot be read as what it
is, two figures with one id. Warnings: a figure never referred to, a figure without a caption or an
image without alt text, a raster figure under 300 dpi at its printed width, a file over 20 MB.
Missing, remote and outside files are press.checks.manuscript's (check_images).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from ..ast import elements
from ..model import Diagnostic, InOrder, Manuscript, Parsed, Section, error, warning
from .manuscript import is_local

PRINT_DPI = 300
LARGE_FILE = 20 * 2**20
# The PDF's text block is A4 less 20 mm margins (templates/print.css): a figure's default width.
TEXT_WIDTH_IN = 170 / 25.4
LENGTH = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%|cm|mm|in|pt|px)?\s*$")
INCHES_PER = {"cm": 1 / 2.54, "mm": 1 / 25.4, "in": 1.0, "pt": 1 / 72, "px": 1 / 96}


@dataclass
class Located:
    """An image of the parse, where its target stands in its section."""

    section: Section
    image: dict
    figure: dict | None  # the Figure it is the image of, if any
    line: int | None
    column: int | None

    @property
    def target(self) -> str:
        return self.image["c"][2][0]


def printed_inches(width: str | None) -> float | None:
    """The width a figure is printed at, from its ``width`` attribute (default: the text block's width)."""
    if not width:
        return TEXT_WIDTH_IN
    match = LENGTH.match(width)
    if not match:
        return None
    number, unit = float(match.group(1)), match.group(2) or "px"
    return TEXT_WIDTH_IN * number / 100 if unit == "%" else number * INCHES_PER[unit]


def located_images(manuscript: Manuscript, parsed: Parsed) -> list[Located]:
    """Every image in document order, with its figure and its place (the target searched in order)."""
    sections = ([manuscript.abstract] if manuscript.abstract else []) + manuscript.sections
    found = []
    for section, blocks in zip(sections, parsed.groups, strict=True):
        owner: dict[int, dict] = {}
        for element in elements(blocks):
            if element["t"] == "Figure":
                for inner in elements(element["c"][2]):
                    if inner["t"] == "Image":
                        owner.setdefault(id(inner), element)
        places = InOrder(section.text)
        for element in elements(blocks):
            if element["t"] == "Image":
                line, column = places.find(element["c"][2][0])
                found.append(Located(section, element, owner.get(id(element)), line, column))
    return found


def check_figures(manuscript: Manuscript, parsed: Parsed) -> list[Diagnostic]:
    """Every figure's problems, in document order."""
    if not parsed.has_images:
        return []
    root = manuscript.root.resolve()
    referenced = {use.key for use in parsed.crossrefs}
    first_defined: dict[str, Located] = {}
    found: list[Diagnostic] = []
    seen_figures: set[int] = set()
    for place in located_images(manuscript, parsed):
        shown, line, column = place.section.display, place.line, place.column
        figure = place.figure
        if figure is not None and id(figure) not in seen_figures:
            seen_figures.add(id(figure))
            found += _figure_diagnostics(place, figure, first_defined, referenced)
        elif figure is None and not _text(place.image["c"][1]):
            found.append(
                warning(
                    shown,
                    line,
                    "image-no-alt",
                    f"image '{place.target}' has no alt text",
                    "describe it in the brackets, ![a short description](...): screen readers and PDF/UA need it",
                    column=column,
                )
            )
        if not is_local(place.target) or "://" in place.target:
            continue
        path = (manuscript.layout.text_dir / unquote(place.target)).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            continue  # check_images reports it
        found += _file_diagnostics(place, path)
    return found


def _figure_diagnostics(
    place: Located, figure: dict, first_defined: dict[str, Located], referenced: set[str]
) -> list[Diagnostic]:
    shown, line, column = place.section.display, place.line, place.column
    ident = figure["c"][0][0]
    found = []
    if ident and ident in first_defined:
        first = first_defined[ident]
        found.append(
            error(
                shown,
                line,
                "figure-duplicate-id",
                f"figure id '{ident}' is given to two figures",
                f"first given at {first.section.display}:{first.line}; give each figure an id of its own",
                column=column,
            )
        )
    elif ident:
        first_defined[ident] = place
    if ident and ident not in referenced:
        found.append(
            warning(
                shown,
                line,
                "figure-unreferenced",
                f"figure '{ident}' is never referred to",
                f"refer to it in the text (@{ident}): journals ask that every figure be cited in order",
                column=column,
            )
        )
    elif not ident:
        found.append(
            warning(
                shown,
                line,
                "figure-unreferenced",
                f"figure '{place.target}' has no id, so the text cannot refer to it",
                "give it one, ![Caption.](...){#fig:name}, and refer to it as @fig:name",
                column=column,
            )
        )
    if not _text(figure["c"][1][1]):
        found.append(
            warning(
                shown,
                line,
                "figure-no-caption",
                f"figure '{place.target}' has an empty caption",
                "write the caption in the brackets, ![Caption.](...): it is the figure's alt text for PDF/UA",
                column=column,
            )
        )
    return found


def _file_diagnostics(place: Located, path: Path) -> list[Diagnostic]:
    from .. import media

    shown, line, column, target = place.section.display, place.line, place.column, place.target
    size = path.stat().st_size
    found = []
    if size > LARGE_FILE:
        found.append(
            warning(
                shown,
                line,
                "figure-large-file",
                f"figure '{target}' is {size / 2**20:.0f} MB",
                "submission systems often refuse files over 20 MB: save it compressed (PNG, or JPEG for photographs)",
                column=column,
            )
        )
    figure = media.read_figure(path)
    kind, info = figure.kind, figure.info
    if kind not in media.SUPPORTED_KINDS:
        what = "not an image any output can show" if kind == "unknown" else f"{kind.upper()}, which no output can show"
        hint = media.UNSUPPORTED_HINTS.get(kind, "use PNG, JPEG, TIFF, SVG or PDF")
        found.append(error(shown, line, "image-unsupported", f"figure '{target}' is {what}", hint, column=column))
        return found
    if isinstance(figure.problem, media.MissingTool):
        return [*found, _tool_missing(place, kind, figure.problem.tool, figure.problem.package)]
    if figure.problem is not None:
        return [
            *found,
            error(
                shown, line, "image-unreadable", f"figure '{target}' cannot be read: {figure.problem}", column=column
            ),
        ]
    if kind in ("png", "jpeg", "tiff"):
        found += _resolution(place, info)
    elif shutil.which("pdftocairo") is None:  # PDF and SVG figures are converted with it (press.media)
        found.append(_tool_missing(place, kind, "pdftocairo", media.TOOL_PACKAGES["pdftocairo"]))
    return found


def _tool_missing(place: Located, kind: str, tool: str, package: str) -> Diagnostic:
    return error(
        place.section.display,
        place.line,
        "figure-tool-missing",
        f"figure '{place.target}' is {kind.upper()}: its renditions need {tool}, which is not installed",
        f"install it: apt-get install {package}",
        column=place.column,
    )


def _resolution(place: Located, info) -> list[Diagnostic]:
    width = dict(place.image["c"][0][2]).get("width")
    inches = printed_inches(width)
    if inches is None or inches <= 0:
        return []
    dpi = info.width / inches
    if dpi >= PRINT_DPI:
        return []
    printed = f"{inches * 2.54:.1f} cm"
    needed = round(PRINT_DPI * inches)
    return [
        warning(
            place.section.display,
            place.line,
            "figure-low-resolution",
            f"figure '{place.target}' is {dpi:.0f} dpi at its printed width of {printed} "
            f"({info.width:.0f} px wide); print needs {PRINT_DPI} dpi",
            f"supply it at least {needed} px wide, or print it smaller (e.g. width={_smaller(info.width)})",
            column=place.column,
        )
    ]


def _smaller(pixels: float) -> str:
    """The width in % of the text block at which ``pixels`` make 300 dpi."""
    return f"{max(1, int(pixels / PRINT_DPI / TEXT_WIDTH_IN * 100))}%"


def _text(inlines: object) -> str:
    return "".join(e["c"] for e in elements(inlines) if e["t"] == "Str").strip()
