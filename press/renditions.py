"""The media stage: each figure of the document resolved once into the rendition each format shows.

A figure's file is read once; its renditions (press.media: a PDF figure as SVG for the page and the
PDF and as PNG for Word, a TIFF as PNG, every file without its metadata) are kept by content in the
output folder's ``.press-media/``, so an unchanged figure converts nothing on the next build.
Writers never read or convert a figure themselves: they ask for the document with its images
pointing at their format's renditions (``retarget``), and the page's renditions are published
beside it under ``figures/`` (``published``).
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from . import siunitx
from .ast import elements, replaced
from .equations import aligned_rows
from .formats import FORMATS
from .model import PressError, display_path, error
from .project import Project, locate
from .publish import replace
from .siunitx import COMMAND as SIUNITX

if TYPE_CHECKING:  # imported when a document has figures: press.media's import costs every build
    from . import media

MEDIA_DIR = ".press-media"
# In MEDIA_DIR beside the equations' SVGs: each one's size and its SVG's SHA-256, for the next build.
# One file for all of them, written once a build (Media.keep): a file an equation cost as much again
# as its SVG did to write, in the build's busiest second.
EQUATIONS = "equations.json"
PUBLISHED_DIR = "figures"  # beside the HTML page
BUNDLE_SUFFIX = {"png": "png", "jpeg": "jpg", "svg": "svg", "pdf": "pdf", "tiff": "tif"}


@dataclass(frozen=True)
class Source:
    """A figure's file as the Markdown names it."""

    target: str  # as written, relative to manuscript/
    path: Path
    kind: str
    data: bytes
    info: media.ImageInfo

    @property
    def shown(self) -> str:
        return display_path(self.path)


def _size(vouched: dict[str, Any]) -> dict[str, float]:
    """An equation's size in em, of what EQUATIONS (or this build) vouches for its SVG."""
    return {"width": vouched["width"], "height": vouched["height"], "depth": vouched["depth"]}


class Media:
    """The document's figures and their renditions, each converted at most once (and kept)."""

    def __init__(self, root: Path | Project, folder: Path | None = None):
        project = locate(root)
        self.root = project.root
        self.base = project.text_dir
        self._scratch = None if folder is not None else tempfile.TemporaryDirectory(prefix="press-media-")
        self.folder = Path(folder if folder is not None else self._scratch.name).resolve()  # the renditions
        self._sources: dict[str, Source | None] = {}
        # What the parse found (expect): None until told, and then no walk looks for what is not there.
        self._images: bool | None = None
        self._math: bool | None = None
        self._units: bool | None = None  # siunitx commands in math (press.siunitx)
        self._renditions: dict[tuple[str, str], Future] = {}  # (target, rendition kind) -> its file
        self._published: dict[str, Path] = {}  # name beside the page -> rendition file
        self._vouched: dict[str, dict[str, Any]] = {}  # eq-<key> -> size and SVG hash, of those used (keep)
        self._kept_equations: dict[str, Any] | None = None  # EQUATIONS as the last build wrote it
        self._key: Any = None  # math.keys(), once a build
        self._alt_texts: set[str] = set()
        self._sizes: dict[str, Future] = {}  # eq-<key> -> its size (em), once typeset and kept (_keep)
        self._to_keep: deque[tuple[str, bool, str | None, Future]] = deque()  # what _keep keeps next, in order
        self._keeping = False  # whether _keep's thread runs
        # Told each typeset equation's SVG as it is kept, or why it could not be (the PDF worker reads
        # them as they come, its layout perhaps begun): (path, None, the SVG's bytes, or None if not
        # read here) or (path, failure, None).
        self.on_kept: Callable[[Path, str | None, bytes | None], None] | None = None
        self._keeping_allowed = threading.Event()  # hold_keeping, let_keep
        self._keeping_allowed.set()
        self._lock = threading.RLock()

    def expect(self, images: bool, math: bool, units: bool = True) -> None:
        """Whether the document has images and math at all, and siunitx commands in its math
        (press.equations sees every element)."""
        self._images, self._math, self._units = images, math, units

    @property
    def math_expected(self) -> bool | None:
        """Whether the document has math: None when not told (expect)."""
        return self._math

    @functools.cached_property
    def cache(self) -> media.RenditionCache:
        from . import media

        return media.RenditionCache(self.folder)

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()

    def source(self, target: str) -> Source | None:
        """The figure file ``target`` names, or None when it is no file of the project (the checks said so)."""
        with self._lock:
            if target not in self._sources:
                self._sources[target] = self._read(target)
            return self._sources[target]

    def _read(self, target: str) -> Source | None:
        from . import media

        if not target or "://" in target or target.startswith(("data:", "#", "mailto:", "/")):
            return None
        path = (self.base / unquote(target)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        figure = media.read_figure(path)
        if figure.info is None:
            return None  # not a figure any format shows: the checks have said so
        return Source(target, path, figure.kind, figure.data, figure.info)

    def sources(self) -> list[Source]:
        """Every figure file asked for so far, in the order first asked."""
        with self._lock:
            return [source for source in self._sources.values() if source is not None]

    def rendition(self, source: Source, fmt: str) -> Path:
        """The file of ``source``'s rendition for ``fmt``, made now (once, whoever asks first) unless kept."""
        from . import media

        kind = media.renditions_for(source.kind, FORMATS[fmt].renditions)
        with self._lock:
            future = self._renditions.get((source.target, kind))
            mine = future is None
            if mine:
                future = self._renditions[(source.target, kind)] = Future()
        if mine:
            try:
                future.set_result(self._make(source, kind))
            except BaseException as exc:
                future.set_exception(exc)
        return future.result()

    def _make(self, source: Source, kind: str) -> Path:
        from . import media

        try:
            return self.cache.path(source.data, source.kind, kind)
        except media.MediaError as exc:
            hint = f"install it: apt-get install {exc.package}" if isinstance(exc, media.MissingTool) else None
            message = f"cannot make the {kind.upper()} of it: {exc}"
            raise PressError([error(source.shown, None, "figure-conversion", message, hint)]) from None

    def prefetch(self, ast: dict[str, Any], formats: list[str], pool: Executor) -> None:
        """Start making the renditions ``formats`` will ask for, in ``pool``, beside the rest of the build."""
        from . import media

        if self._images is False:
            return
        for element in elements(ast["blocks"]):
            if element["t"] == "Image" and (source := self.source(element["c"][2][0])) is not None:
                for fmt in formats:
                    kind = media.renditions_for(source.kind, FORMATS[fmt].renditions)
                    with self._lock:
                        asked = (source.target, kind) in self._renditions
                    if not asked:
                        pool.submit(self.rendition, source, fmt)

    def retarget(self, ast: dict[str, Any], fmt: str) -> dict[str, Any]:
        """``ast`` with every figure pointing at its rendition for ``fmt``, and, for the PDF, every equation
        an <img> of its typeset SVG (kept as node answers: _keep); ``ast`` itself when it has neither.

        A copy where it changes, sharing the rest (press.ast.replaced): the document is shared by
        every rendering, and none of them changes it in place.
        """
        typeset = fmt == "pdf"  # the others show math as MathML (HTML, JATS) or Word equations (DOCX)
        # The DOCX's Word equations come from pandoc's TeX reader: TeX it cannot read is given as its
        # reading of MathJax's MathML (press.mathml). The page and the JATS are mended after pandoc.
        word = self._word_tex(ast) if fmt == "docx" and self._math is not False else {}
        # pandoc's math reader runs siunitx's units together: the others get its LaTeX reader's reading.
        units = not typeset and self._math is not False and self._units is not False
        if self._images is False and not word and not units and (not typeset or self._math is False):
            return ast
        # The rows of an environment LaTeX numbers row by row, set one by one with their columns lined up.
        rows = aligned_rows(ast["blocks"]) if typeset and self._math is not False else {}

        def retargeted(element: dict) -> dict | None:
            kind = element["t"]
            if kind == "Image" and (source := self.source(element["c"][2][0])) is not None:
                attr, inlines, (_, title) = element["c"]
                attr, target = self._image(source, attr, fmt)
                return {"t": "Image", "c": [attr, inlines, [target, title]]}
            if kind == "Math" and (typeset or word or units):
                mode, tex = element["c"]
                display = mode["t"] == "DisplayMath"
                if typeset:
                    padded = rows.get(id(element))
                    shown = self._equation_html(padded or tex, display, alt=tex, fallback=tex if padded else None)
                    return {"t": "RawInline", "c": ["html", shown]}
                if (tex, display) in word:
                    return {"t": "Math", "c": [mode, word[(tex, display)]]}
                if units and SIUNITX.search(tex):
                    return {"t": "Math", "c": [mode, siunitx.expanded(tex)]}
            return None

        blocks = replaced(ast["blocks"], retargeted)
        return ast if blocks is ast["blocks"] else {**ast, "blocks": blocks}

    @staticmethod
    def _word_tex(ast: dict[str, Any]) -> dict[tuple[str, bool], str]:
        """For each equation in ``ast`` that pandoc's TeX reader cannot read, the TeX it reads from
        MathJax's MathML of it (press.mathml): empty for a document whose math pandoc reads."""
        from . import mathml

        pairs = [(e["c"][1], e["c"][0]["t"] == "DisplayMath") for e in elements(ast["blocks"]) if e["t"] == "Math"]
        unreadable = mathml.unreadable(pairs) if pairs else set()
        return mathml.word_tex(sorted(unreadable)) if unreadable else {}

    def finished(self, page: str) -> str:
        """``page`` (pandoc's HTML of a rendering) as it is shown: each equation pandoc left as TeX
        written from MathJax's MathML (press.mathml)."""
        from . import mathml

        return mathml.in_page(page)

    def equation(self, tex: str, display: bool) -> tuple[str, dict[str, float]]:
        """The file name of the equation's SVG in the folder and its size (em), typeset once and kept."""
        name, size, _svg = self._equation(tex, display)
        return name, size

    def _equation(
        self, tex: str, display: bool, fallback: str | None = None
    ) -> tuple[str, dict[str, float], bytes | None]:
        """``equation``, and the SVG's bytes where they were read or typeset by this call; ``fallback``
        typeset in its place (under its name) should MathJax not typeset ``tex``."""
        from . import math

        stem = self._stem(tex, display)
        name = f"{stem}.svg"
        with self._lock:
            known = self._vouched.get(stem)
        if known is not None:
            return name, _size(known), None
        try:
            vouched = self._kept_equation(stem)
            size = _size(vouched)
            svg = (self.folder / name).read_bytes()
            if hashlib.sha256(svg).hexdigest() != vouched["sha256"]:
                raise ValueError(f"{name} is not the SVG its sizes vouch for")
        except (OSError, ValueError, KeyError, TypeError):
            try:
                rendered = math.render(tex, display)
            except math.MathError:
                if fallback is None:
                    raise
                rendered = math.render(fallback, display)
            svg = rendered.svg
            size = {"width": rendered.width, "height": rendered.height, "depth": rendered.depth}
            # Not synced to disk (300 equations cost a clean build seconds of fsync): the sizes carry
            # the SVG's hash, so a file torn by a crash is typeset again, never used.
            vouched = {**size, "sha256": hashlib.sha256(svg).hexdigest()}
            replace(self.folder, name, svg, durable=False)
        with self._lock:
            self._vouched[stem] = vouched
        return name, size, svg

    def _stem(self, tex: str, display: bool) -> str:
        """The equation's file name without its suffix: ``eq-`` and 40 hex digits of its math.key."""
        from . import math

        if self._key is None:
            self._key = math.keys()
        return f"eq-{self._key(tex, display)[:40]}"

    def _kept_equation(self, stem: str) -> dict[str, Any]:
        """What the last build's EQUATIONS says of an equation's SVG; KeyError when nothing."""
        with self._lock:
            if self._kept_equations is None:
                try:
                    kept = json.loads((self.folder / EQUATIONS).read_bytes())
                except (OSError, ValueError):
                    kept = None
                self._kept_equations = kept if isinstance(kept, dict) else {}
            return self._kept_equations[stem]

    def keep(self) -> None:
        """Write the size and SVG hash of each equation this build showed, for the next build to use.

        Written once, after the SVGs, and not synced: a torn file is unreadable JSON, and then every
        equation is typeset again. None written by a build that showed no equation (an HTML-only one);
        one that did removes the SVGs of the equations it no longer shows (``_prune``).
        """
        with self._lock:
            vouched = dict(sorted(self._vouched.items()))
        if vouched and vouched != self._kept_equations:
            replace(self.folder, EQUATIONS, json.dumps(vouched, sort_keys=True).encode("utf-8"), durable=False)
        if vouched:
            self._prune(set(vouched))

    def _prune(self, shown: set[str]) -> None:
        """Remove the equations' files this build's PDF did not show: an edited equation's old SVG, and
        an earlier version's sizes files (``eq-*.json``). The folder then holds what the PDF shows."""
        for path in self.folder.glob("eq-*"):
            if path.suffix in (".svg", ".json") and not (path.suffix == ".svg" and path.stem in shown):
                path.unlink(missing_ok=True)

    def _equation_html(self, tex: str, display: bool, alt: str | None = None, fallback: str | None = None) -> str:
        """An <img> of the typeset equation, its TeX the alt text; its size and its depth below the
        baseline are the SVG's own (press.writers.pdf_equations), so the print rendering needs no
        equation typeset: it goes to pandoc, and the PDF's layout may begin, while node typesets.
        Meanwhile each equation is kept (``equation``) as node answers, in a thread of this Media's
        (``_keep``), and said to ``on_kept``.
        """
        stem = self._stem(tex, display)
        alt = " ".join((alt or tex).split())
        with self._lock:
            self._alt_texts.add(alt)
            if stem not in self._sizes:
                self._sizes[stem] = Future()
                self._to_keep.append((tex, display, fallback, self._sizes[stem]))
                if not self._keeping:
                    self._keeping = True
                    threading.Thread(target=self._keep, name="press-equations", daemon=True).start()
        kind = "display" if display else "inline"
        return f'<img class="math {kind}" src="media:{quote(stem)}.svg" alt="{html.escape(alt)}">'

    def hold_keeping(self) -> None:
        """Keep no equation until ``let_keep``: a build whose PDF job goes to its worker early holds
        them until it is sent, so that writing and flattening the SVGs takes none of this process's
        time before then (the worker's layout reaches the first equation later)."""
        self._keeping_allowed.clear()

    def let_keep(self) -> None:
        self._keeping_allowed.set()

    def _keep(self) -> None:
        """Keep each equation _equation_html asked for, in order, until none is left (then the thread ends)."""
        self._keeping_allowed.wait()
        while True:
            with self._lock:
                if not self._to_keep:
                    self._keeping = False
                    return
                tex, display, fallback, future = self._to_keep.popleft()
            try:
                name, size, svg = self._equation(tex, display, fallback)
            except BaseException as exc:  # noqa: BLE001 - raised where the equations are waited for (kept)
                future.set_exception(exc)
                if self.on_kept is not None:
                    path = self.folder / f"{self._stem(tex, display)}.svg"
                    self.on_kept(path, f"{type(exc).__name__}: {exc}", None)
                continue
            if self.on_kept is not None:
                self.on_kept(self.folder / name, None, svg)
            future.set_result(size)

    def kept(self) -> None:
        """Wait until every equation asked for so far is typeset and kept; raises what keeping one raised."""
        with self._lock:
            futures = list(self._sizes.values())
        for future in futures:
            future.result()

    def equation_alt_texts(self) -> set[str]:
        """The alt texts of the typeset equations (their TeX): the PDF tags those images as formulas."""
        with self._lock:
            return set(self._alt_texts)

    def _image(self, source: Source, attr: list, fmt: str) -> tuple[list, str]:
        """The image's attributes and target in ``fmt``."""
        ident, classes, pairs = attr
        given = dict(pairs)
        rendition = self.rendition(source, fmt)
        if fmt == "html":
            name = PurePosixPath(PUBLISHED_DIR, f"{Path(source.target).stem}-{rendition.stem[:12]}{rendition.suffix}")
            with self._lock:
                self._published[str(name)] = rendition
            width, height = self._pixels(source, rendition)
            style = "; ".join(
                filter(None, [given.pop("style", ""), f"width: {given.pop('width')}" if "width" in given else ""])
            )
            given.pop("height", None)
            pairs = [
                *given.items(),
                *([("style", style)] if style else []),
                ("width", str(width)),
                ("height", str(height)),
                ("loading", "lazy"),
            ]
            return [ident, classes, pairs], quote(str(name))
        if fmt == "docx":  # pandoc embeds the file; at the text width unless asked otherwise, as in the PDF
            given.setdefault("width", "100%")
            # By name, found on pandoc's --resource-path (the cache folder): pandoc writes the name into
            # the DOCX, where a path would tell where the build ran (and whose folder it was).
            return [ident, classes, list(given.items())], rendition.name
        # The PDF: WeasyPrint loads it by a name that is the same wherever the project is (url_fetcher_for).
        return [ident, classes, list(given.items())], f"media:{quote(rendition.name)}"

    @staticmethod
    def _pixels(source: Source, rendition: Path) -> tuple[int, int]:
        """Width and height attributes for the page: its intrinsic size, so the page never shifts as it loads."""
        info = source.info
        if info.unit == "pt":  # a PDF page: CSS px are 1/96 in
            return round(info.width * 96 / 72), round(info.height * 96 / 72)
        return round(info.width), round(info.height)

    def bundled(self, ast: dict[str, Any]) -> tuple[dict[str, Any], dict[str, bytes]]:
        """``ast`` with each figure pointing at its own file in the submission bundle, and those files.

        Submission systems take figures as separate uploads: ``figure-1.<ext>``, ``figure-2.<ext>``, ...
        in the order the figures stand (an image outside a figure is ``image-N``; one file shown twice
        is one file). Each is the author's own kind, without its metadata where a cleaner exists
        (PNG, JPEG, SVG); PDF and TIFF figures go as they are.
        """
        if not any(e["t"] == "Image" and self.source(e["c"][2][0]) for e in elements(ast["blocks"])):
            return ast, {}
        copy = json.loads(json.dumps(ast))
        in_figures = {
            id(image)
            for figure in elements(copy["blocks"])
            if figure["t"] == "Figure"
            for image in elements(figure["c"][2])
            if image["t"] == "Image"
        }
        names: dict[str, str] = {}
        files: dict[str, bytes] = {}
        counts = {"figure": 0, "image": 0}
        for element in elements(copy["blocks"]):
            if element["t"] != "Image" or (source := self.source(element["c"][2][0])) is None:
                continue
            if source.target not in names:
                stem = "figure" if id(element) in in_figures else "image"
                counts[stem] += 1
                names[source.target] = f"{stem}-{counts[stem]}.{BUNDLE_SUFFIX[source.kind]}"
                files[names[source.target]] = self._as_submitted(source)
            element["c"][2][0] = names[source.target]
        return copy, files

    def _as_submitted(self, source: Source) -> bytes:
        from . import media

        if (source.kind, source.kind) in media.CONVERSIONS:
            return self.cache.get(source.data, source.kind, source.kind)
        return source.data

    def published(self) -> dict[str, bytes]:
        """The page's renditions, by their name beside it (``figures/...``)."""
        with self._lock:
            return {name: path.read_bytes() for name, path in sorted(self._published.items())}
