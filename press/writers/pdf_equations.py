"""Typeset equations drawn into WeasyPrint's PDF as forms, without its SVG machinery.

An equation reaches the PDF as the SVG press.flatten wrote (``media:eq-<40 hex>.svg``): one path of
absolute moves, lines and curves in whole numbers for each colour, and rules as rectangles. Given
such an SVG, WeasyPrint fetches it through its URL fetcher (which parses MIME headers for each),
builds a node tree with a style for every node, draws it node by node in Python (the cascade, the
graphics state, the transform, its path parser at microseconds a point: 300 equations have some
160,000), and deflates the result twice with the page (pydyf deflates every stream again to hash the
file for its identifier). For these SVGs, and only these, the PDF operators are known in advance: the
path's own numbers in PDF's order, each shape filled in its colour. So when WeasyPrint loads such an
image, ``Equation`` stands in for its SVGImage: read from the media folder, parsed by ElementTree
(in C), its operators written and deflated once as a form XObject, which each place the equation
stands draws, scaled from its viewBox to its box (README, "Measured").

Any other SVG (a figure's, an equation press.flatten left as MathJax drew it, a stroke, a nested
``<svg>``) is WeasyPrint's own, as before. Only for the WeasyPrint this was checked against (pinned in
pyproject.toml; tests/test_flatten.py compares the pages, pixel for pixel, with WeasyPrint's own
drawing); any other version is left be.
"""

from __future__ import annotations

import functools
import re
import threading
import zlib
from pathlib import Path
from xml.etree import ElementTree

WEASYPRINT_FOR_EQUATIONS = "70.0"  # the version whose images.SVGImage and draw_replacedbox this was checked against

EQUATION_URL = re.compile(r"media:eq-[0-9a-f]{40}\.svg")
SVG_NS = "{http://www.w3.org/2000/svg}"
_N = r"(?:-?[1-9][0-9]*|0)"
FLAT_PATH = re.compile(rf"(?:M{_N} {_N}(?:L{_N} {_N}|C{_N}(?: {_N}){{5}})+Z?)+")  # as press.flatten writes a path
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?)")
_EM = re.compile(r"([0-9]+(?:\.[0-9]+)?)em")
_COMMAND = re.compile(r"([MLCZ])")
_OPERATOR = {"M": b" m", "L": b" l", "C": b" c"}
RECT_ATTRIBUTES = {"x", "y", "width", "height", "fill", "stroke", "stroke-width"}


class Equation:
    """An equation's image for WeasyPrint: its size in em, its viewBox, and its drawing as a PDF form.

    The form is written and deflated once, when the image is loaded; WeasyPrint then writes it into
    the PDF as it is (one object, however often the equation is drawn), where the same operators in
    the page's content stream were deflated there, twice (pydyf deflates every stream again to hash
    the file for its identifier)."""

    def __init__(self, name: str, width: float, height: float, viewbox: tuple[float, ...], content: bytes):
        self.id = name.removeprefix("eq-")[:40]  # WeasyPrint names the form after it (pdf.stream.Stream.add_image)
        self.width, self.height = width, height  # em
        self.viewbox = viewbox
        self.content = zlib.compress(content)

    @classmethod
    def read(cls, name: str, data: bytes) -> Equation | None:
        """The Equation of an SVG as press.flatten writes it; None for anything else."""
        try:
            tree = ElementTree.fromstring(data)
        except ElementTree.ParseError:
            return None
        if tree.tag != f"{SVG_NS}svg" or set(tree.attrib) != {"width", "height", "viewBox"}:
            return None
        width, height = (_EM.fullmatch(tree.get(name)) for name in ("width", "height"))
        numbers = tree.get("viewBox").split()
        if width is None or height is None or len(numbers) != 4 or not all(_DECIMAL.fullmatch(n) for n in numbers):
            return None
        viewbox = tuple(float(n) for n in numbers)
        if viewbox[2] <= 0 or viewbox[3] <= 0 or (tree.text and tree.text.strip()):
            return None
        operators = []
        for node in tree:
            if (node.text and node.text.strip()) or (node.tail and node.tail.strip()) or len(node):
                return None
            colour = _rgb(node.get("fill", "black"))
            if node.tag == f"{SVG_NS}path" and set(node.attrib) <= {"d", "fill"}:
                shape = _path(node.get("d", ""))
            elif node.tag == f"{SVG_NS}rect" and set(node.attrib) <= RECT_ATTRIBUTES:
                shape = _rect(node)
            else:
                return None
            if colour is None or shape is None:
                return None
            operators += [colour, shape]
        return cls(name, float(width.group(1)), float(height.group(1)), viewbox, b"\n".join(operators))

    def get_intrinsic_size(self, _image_resolution, font_size):
        return self.width * font_size, self.height * font_size, self.width / self.height

    def draw(self, stream, concrete_width, concrete_height, _style):
        """Drawn where WeasyPrint draws an SVGImage: in the box's coordinates (y downwards), the viewBox
        scaled to the box; draw.draw_replacedbox saves the graphics state around it."""
        x, y, width, height = self.viewbox
        scale_x, scale_y = concrete_width / width, concrete_height / height
        stream.transform(a=scale_x, d=scale_y, e=-x * scale_x, f=-y * scale_y)
        stream.draw_x_object(stream.add_image(self, False, 1))

    def get_x_object(self, _interpolate, _dpi_ratio):
        import pydyf

        x, y, width, height = self.viewbox
        extra = {
            "Type": "/XObject",
            "Subtype": "/Form",
            "BBox": pydyf.Array((x, y, x + width, y + height)),
            "Filter": "/FlateDecode",
        }
        return pydyf.Stream([self.content], extra, compress=False)


@functools.cache
def _rgb(value: str) -> bytes | None:
    """The fill colour's PDF operator, as WeasyPrint writes an opaque sRGB colour; None for any other."""
    import pydyf
    from tinycss2.color5 import parse_color

    # In an <img>, an SVG's currentColor is its own initial colour: black, as WeasyPrint draws it.
    colour = parse_color("black" if value.strip().lower() == "currentcolor" else value)
    if colour is None or isinstance(colour, str) or colour.alpha != 1 or colour.space not in ("srgb", "hsl", "hwb"):
        return None
    scratch = pydyf.Stream()
    scratch.set_color_rgb(*colour.to("srgb").coordinates)
    return scratch.stream[-1]


def _path(d: str) -> bytes | None:
    """The PDF operators that fill a path press.flatten wrote, nonzero rule; None for any other path."""
    if not FLAT_PATH.fullmatch(d):
        return None
    parts = _COMMAND.split(d)
    out = [
        b"h" if letter == "Z" else numbers.encode() + _OPERATOR[letter]
        for letter, numbers in zip(parts[1::2], parts[2::2], strict=True)
    ]
    out.append(b"f")
    return b"\n".join(out)


def _rect(node) -> bytes | None:
    """A rule: a filled rectangle, not stroked (MathJax names a stroke of width 0, which WeasyPrint does
    not draw); None for a frame or anything else."""
    stroke, stroke_width = node.get("stroke", "none"), node.get("stroke-width", "1")
    if stroke != "none" and not (_DECIMAL.fullmatch(stroke_width) and float(stroke_width) == 0):
        return None
    numbers = [node.get(name, "0") for name in ("x", "y", "width", "height")]
    if not all(_DECIMAL.fullmatch(n) for n in numbers) or float(numbers[2]) <= 0 or float(numbers[3]) <= 0:
        return None
    return " ".join(numbers).encode() + b" re\nf"


def _below(viewbox: tuple[float, ...]) -> float:
    """The share of an equation's height below the text's baseline: in press.math's viewBox, y = 0 is
    the baseline."""
    return (viewbox[1] + viewbox[3]) / viewbox[3]


class PendingEquation:
    """An equation's image for WeasyPrint, read when the layout first needs it (its size), not when
    the boxes are built: so the job can be laid out while the build is still typesetting its
    equations, each waited for (``load``) only where the layout reaches it.

    It stands for the Equation read from the media folder, or, for an SVG that is not one
    press.flatten wrote, for WeasyPrint's own image of it (``fallback``). What of it is ``below``
    the baseline seats it on the text's baseline (``install``), as ``vertical-align: -{depth}em``
    did, without the print HTML having to wait for the depth."""

    def __init__(self, path: Path, fallback):
        self.path = path
        self._fallback = fallback  # () -> WeasyPrint's own image of the SVG, or None
        self._image = None
        self._below = 0.0

    def _resolved(self):
        if self._image is None:
            equation = load(self.path)
            if equation is not None:
                self._image, self._below = equation, _below(equation.viewbox)
            else:
                image = self._fallback()
                viewbox = _root_viewbox(self.path)
                if image is None or viewbox is None or viewbox[3] <= 0:
                    raise RuntimeError(f"the typeset equation {self.path.name} cannot be read")
                self._image, self._below = image, _below(viewbox)
        return self._image

    @property
    def below(self) -> float:
        """The share of its height that is below the baseline."""
        self._resolved()
        return self._below

    def get_intrinsic_size(self, image_resolution, font_size):
        return self._resolved().get_intrinsic_size(image_resolution, font_size)

    def draw(self, stream, concrete_width, concrete_height, image_rendering):
        return self._resolved().draw(stream, concrete_width, concrete_height, image_rendering)


_VIEWBOX = re.compile(rb'<svg\b[^>]*?\sviewBox="([^"]*)"')


def _root_viewbox(path: Path) -> tuple[float, ...] | None:
    try:
        found = _VIEWBOX.search(path.read_bytes())
        numbers = tuple(float(n) for n in found.group(1).split()) if found else ()
    except (OSError, ValueError):
        return None
    return numbers if len(numbers) == 4 else None


def install() -> None:
    """Let WeasyPrint load each equation press.math typeset as a PendingEquation of the fetcher's media
    folder (press.writers.pdf.url_fetcher_for), and seat each inline one on the baseline by its
    depth; every other image stays its own. Only for the WeasyPrint this was checked against; done
    once."""
    import weasyprint
    from weasyprint import document
    from weasyprint.layout import inline

    loader = document.original_get_image_from_uri
    if weasyprint.__version__ != WEASYPRINT_FOR_EQUATIONS or hasattr(loader, "weasyprint"):
        return

    def get_image_from_uri(cache, url_fetcher, options, url, *args, **kwargs):
        folder = getattr(url_fetcher, "media_dir", None)
        if folder is not None and EQUATION_URL.fullmatch(url or ""):
            if url not in cache:
                path = Path(folder) / url.removeprefix("media:")
                # An SVG press.flatten did not write is WeasyPrint's own; not from its cache, where
                # this one stands under the same URL.
                own = get_image_from_uri.weasyprint
                cache[url] = PendingEquation(path, lambda: own({}, url_fetcher, options, url, *args, **kwargs))
            return cache[url]
        return get_image_from_uri.weasyprint(cache, url_fetcher, options, url, *args, **kwargs)

    laid_out = inline.atomic_box

    def atomic_box(context, box, *args, **kwargs):
        box = laid_out(context, box, *args, **kwargs)
        if isinstance(getattr(box, "replacement", None), PendingEquation):
            # An inline replaced box's baseline is its bottom: raised by the depth (as a share of the
            # height it is drawn at), the equation reaches that far below the line's baseline.
            box.baseline = box.margin_height() - box.height * box.replacement.below
        return box

    get_image_from_uri.weasyprint = loader  # what loads every other image (a test watches it)
    document.original_get_image_from_uri = get_image_from_uri
    inline.atomic_box = atomic_box


class _Announced:
    """The equations the build has said are typeset (press.pdf_worker), for a worker whose job came
    before them: ``load`` waits for each until it is said, or until nothing more will be."""

    def __init__(self):
        self.lock = threading.Lock()
        self.expected = False  # set in a worker: an equation not yet said is waited for
        self.closed = False  # nothing more will be said: what is not said is read as it is
        self.said: dict[Path, threading.Event] = {}
        self.failed: dict[Path, str] = {}
        self.read: dict[Path, Equation | None] = {}  # read as soon as said, before the layout needs it

    def event(self, path: Path) -> threading.Event:
        with self.lock:
            if path not in self.said:
                self.said[path] = threading.Event()
                if self.closed:
                    self.said[path].set()
            return self.said[path]


_announced = _Announced()
ANNOUNCE_TIMEOUT = 600.0  # seconds: far beyond any build's typesetting


def expect_announcements() -> None:
    """In a worker laying out a job sent before its equations were typeset: wait for each (``announce``)."""
    _announced.expected = True


def announce(path: Path, failure: str | None = None, equation: Equation | None = None) -> None:
    """The build has typeset (and kept) the equation at ``path``, or, with ``failure``, could not:
    read it now, before the layout reaches it, unless the build sent its ``equation`` made."""
    if failure is None:
        equation = equation if equation is not None else _read(path)
        with _announced.lock:
            _announced.read[path] = equation
    else:
        with _announced.lock:
            _announced.failed[path] = failure
    _announced.event(path).set()


def close_announcements() -> None:
    """Nothing more will be announced (the build closed the worker's input): stop waiting."""
    with _announced.lock:
        _announced.closed = True
        events = list(_announced.said.values())
    for event in events:
        event.set()


def load(path: Path) -> Equation | None:
    """The Equation of the SVG at ``path``, once the build has said it is there (in a worker:
    ``expect_announcements``); None when it is not one press.flatten wrote (or not there)."""
    if _announced.expected and not _announced.event(path).wait(ANNOUNCE_TIMEOUT):
        raise RuntimeError(f"the equation {path.name} was not typeset within {ANNOUNCE_TIMEOUT:.0f} s")
    with _announced.lock:
        failure = _announced.failed.get(path)
        if path in _announced.read:
            return _announced.read.pop(path)  # each is loaded once a layout: WeasyPrint keeps its images
    if failure is not None:
        raise RuntimeError(f"the equation {path.name} was not typeset: {failure}")
    return _read(path)


def _read(path: Path) -> Equation | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return Equation.read(path.name, data)
