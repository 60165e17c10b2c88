"""MathJax's SVG of an equation redrawn as one path for each colour, all in absolute coordinates.

MathJax nests every glyph in groups that each move it (``<g transform>``), and WeasyPrint draws an
SVG node by node in Python: the cascade, the graphics state, the transform and the path parser for
each. The same outlines as one ``<path>`` cost it a fraction of that (README, "Measured"). The shapes
are not changed, only where their coordinates are written: each glyph's outline points are moved by
the transforms above them. Rules and frames (``<rect>``, ``<line>``) stay the elements they are,
moved to where they stand, and paint order is kept: only glyphs next to each other are merged.

    flatten(svg) -> bytes | None: the same picture in fewer nodes; None where it cannot be told safe

None (the caller keeps MathJax's SVG) for anything this module does not know to draw the same: text,
images, ellipses, opacity, dashes, strokes on glyphs, arcs, an attribute it has not seen. A nested
``<svg>`` (MathJax clips stretched pieces of braces and long arrows with one) is kept as it is, in a
group that places it where it stood.

Filling one path is the union of filling its parts one by one only when every part winds the same
way round (nonzero rule): a part that winds the other way (a mirrored glyph) is reversed first.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from xml.etree import ElementTree

SVG_NS = "{http://www.w3.org/2000/svg}"
# Coordinates are written in whole units of MathJax's (1/1000 em, as the font's outlines are; a glyph
# moves by 0.005 pt at most at 10 pt): integers are what pydyf writes back unchanged (writers/pdf).

# An affine transform (a, b, c, d, e, f): x' = a x + c y + e, y' = b x + d y + f, as SVG's matrix().
Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)

# A subpath: its start point, its segments (("L", x, y) or ("C", x1, y1, x2, y2, x, y)), all absolute,
# and whether it is closed.
Segment = tuple
Subpath = tuple[float, float, tuple[Segment, ...], bool]


@dataclass(eq=False)
class Outline:
    """The subpaths of one element, in its own coordinates, and their signed area (curves sampled)."""

    subpaths: tuple[Subpath, ...]
    area: float

    @functools.cached_property
    def written(self) -> tuple[str, tuple[float, ...], tuple[float, ...]]:
        """The path data with ``%d`` for each number, and the x and y of its points in that order."""
        template: list[str] = []
        xs: list[float] = []
        ys: list[float] = []
        for x, y, segments, closed in self.subpaths:
            if not segments:
                continue  # a lone moveto draws nothing
            template.append("M%d %d")
            xs.append(x)
            ys.append(y)
            for segment in segments:
                template.append("L%d %d" if segment[0] == "L" else "C%d %d %d %d %d %d")
                xs.extend(segment[1::2])
                ys.extend(segment[2::2])
            if closed:
                template.append("Z")
        return "".join(template), tuple(xs), tuple(ys)


# The attributes each element may carry, beside the paint ones (PAINT); any other means "not known".
ALLOWED = {
    "g": {"transform"},
    "path": {"d", "transform"},
    "rect": {"x", "y", "width", "height", "transform"},
    "line": {"x1", "y1", "x2", "y2", "transform", "class"},  # class: MathJax's page CSS, not read by WeasyPrint
}
PAINT = {"fill", "stroke", "stroke-width"}
ROOT_ATTRIBUTES = {"width", "height", "viewBox"}
NESTED_SVG = {"x", "y", "width", "height", "viewBox"}
DEFAULT_PAINT = {"fill": "black", "stroke": "none", "stroke-width": "1"}  # SVG's, and WeasyPrint's

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PATH_TOKEN = re.compile(rf"([MmLlHhVvCcSsQqTtZz])|({_NUMBER})|([^\s,])")
_TRANSFORM = re.compile(r"\s*(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)\s*,?")
_NUMBERS = re.compile(_NUMBER)
# How many numbers each path command takes.
_ARITY = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "S": 4, "Q": 4, "T": 2, "Z": 0}


class Unsupported(Exception):
    """The SVG holds something this module does not redraw."""


@dataclass
class Shape:
    colour: str
    outline: Outline
    ctm: Matrix

    @property
    def winding(self) -> float:
        """The outline's signed area where it is drawn (a transform scales it by its determinant)."""
        a, b, c, d = self.ctm[:4]
        return self.outline.area * (a * d - b * c)


def flatten(svg: bytes) -> bytes | None:
    """``svg`` (press.math's SVG of MathJax's output) as one ``<path>`` per run of one colour, in
    absolute coordinates, with the same width, height and viewBox; None if it cannot be done safely."""
    try:
        root = ElementTree.fromstring(svg)
        if root.tag != f"{SVG_NS}svg" or set(root.attrib) - ROOT_ATTRIBUTES:
            return None
        pieces: list[Shape | str] = []  # shapes, and nested <svg> elements as XML text
        for child in root:
            _walk(child, IDENTITY, DEFAULT_PAINT, pieces)
        body = _write(pieces)
    except (Unsupported, ElementTree.ParseError, ValueError, ZeroDivisionError, OverflowError):
        return None
    head = _attributes({name: root.get(name) for name in ("width", "height", "viewBox") if root.get(name) is not None})
    return f'<svg xmlns="http://www.w3.org/2000/svg" {head}>{body}</svg>'.encode()


# --- reading MathJax's tree --------------------------------------------------------------------------


def _walk(element: ElementTree.Element, ctm: Matrix, paint: dict[str, str], pieces: list) -> None:
    tag = element.tag.removeprefix(SVG_NS)
    if tag == "svg":
        _nested_svg(element, ctm, paint, pieces)
        return
    if tag not in ALLOWED or (element.text or "").strip() or set(element.attrib) - ALLOWED[tag] - PAINT:
        raise Unsupported(tag)
    if any(name in element.attrib for name in PAINT):
        paint = {**paint, **{name: element.get(name).strip() for name in PAINT if element.get(name) is not None}}
    if element.get("transform"):
        ctm = _multiply(ctm, _transform(element.get("transform")))
    if tag == "g":
        for child in element:
            if (child.tail or "").strip():
                raise Unsupported("text")
            _walk(child, ctm, paint, pieces)
        return
    if len(element):
        raise Unsupported(f"children of <{tag}>")
    fill, stroke, width = paint["fill"], paint["stroke"], _length(paint["stroke-width"])
    if tag == "path":
        if stroke != "none" and width != 0:
            raise Unsupported("stroked path")
        if fill != "none":
            _add(pieces, fill, _outline(element.get("d", "")), ctm)
        return
    # Rules and frames stay the elements they are, moved to where they stand: WeasyPrint draws a
    # <rect> with PDF's rectangle operator, which viewers align to the pixel grid as they do not a path.
    a, b, c, d, e, f = ctm
    if b != 0 or c != 0 or (stroke != "none" and width != 0 and abs(a) != abs(d)):
        raise Unsupported(f"<{tag}> turned, or its stroke stretched")
    attributes: dict[str, str] = {}
    if tag == "rect":
        x, y = _length(element.get("x", "0")), _length(element.get("y", "0"))
        w, h = _length(element.get("width", "0")), _length(element.get("height", "0"))
        if w <= 0 or h <= 0:
            return  # not drawn
        x1, x2, y1, y2 = sorted((a * x + e, a * (x + w) + e)) + sorted((d * y + f, d * (y + h) + f))
        attributes.update(x=_decimal(x1), y=_decimal(y1), width=_decimal(x2 - x1), height=_decimal(y2 - y1))
    else:
        for end in ("1", "2"):
            x, y = _length(element.get(f"x{end}", "0")), _length(element.get(f"y{end}", "0"))
            attributes.update({f"x{end}": _decimal(a * x + e), f"y{end}": _decimal(d * y + f)})
    attributes.update(fill=fill, stroke=stroke, **{"stroke-width": _decimal(width * abs(a))})
    pieces.append(f"<{tag} {_attributes(attributes)}></{tag}>")


def _nested_svg(element: ElementTree.Element, ctm: Matrix, paint: dict[str, str], pieces: list) -> None:
    """Kept as it is (its viewBox clips), in a group that places it and carries the paint it inherits."""
    if set(element.attrib) - NESTED_SVG:
        raise Unsupported("svg attribute")
    for inner in element.iter():
        tag = inner.tag.removeprefix(SVG_NS)
        known = NESTED_SVG if tag == "svg" else ALLOWED.get(tag)
        if known is None or set(inner.attrib) - known - PAINT or (inner.text or "").strip():
            raise Unsupported(f"<{tag}> in a nested svg")
    for inner in element.iter():
        inner.tag = inner.tag.removeprefix(SVG_NS)
        inner.tail = None
    text = ElementTree.tostring(element, encoding="unicode")
    attributes = {"transform": f"matrix({' '.join(_decimal(v) for v in ctm)})", **paint}
    pieces.append(f"<g {_attributes(attributes)}>{text}</g>")


def _length(value: str) -> float:
    """A number, or a length in px (what MathJax writes); anything else is not known."""
    value = value.strip()
    return float(value[:-2] if value.endswith("px") else value)


def _transform(text: str) -> Matrix:
    matrix = IDENTITY
    position = 0
    while position < len(text.strip()):
        found = _TRANSFORM.match(text, position)
        if not found:
            raise Unsupported(f"transform {text!r}")
        position = found.end()
        name, values = found.group(1), [float(v) for v in _NUMBERS.findall(found.group(2))]
        matrix = _multiply(matrix, _one_transform(name, values))
    return matrix


def _one_transform(name: str, v: list[float]) -> Matrix:
    if name == "matrix" and len(v) == 6:
        return (v[0], v[1], v[2], v[3], v[4], v[5])
    if name == "translate" and len(v) in (1, 2):
        return (1.0, 0.0, 0.0, 1.0, v[0], v[1] if len(v) == 2 else 0.0)
    if name == "scale" and len(v) in (1, 2):
        return (v[0], 0.0, 0.0, v[1] if len(v) == 2 else v[0], 0.0, 0.0)
    if name == "rotate" and len(v) in (1, 3):
        a = math.radians(v[0])
        rotation = (math.cos(a), math.sin(a), -math.sin(a), math.cos(a), 0.0, 0.0)
        if len(v) == 1:
            return rotation
        cx, cy = v[1], v[2]
        return _multiply(_multiply((1.0, 0.0, 0.0, 1.0, cx, cy), rotation), (1.0, 0.0, 0.0, 1.0, -cx, -cy))
    if name == "skewX" and len(v) == 1:
        return (1.0, 0.0, math.tan(math.radians(v[0])), 1.0, 0.0, 0.0)
    if name == "skewY" and len(v) == 1:
        return (1.0, math.tan(math.radians(v[0])), 0.0, 1.0, 0.0, 0.0)
    raise Unsupported(f"{name}({v})")


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    """m then n applied to a point as m(n(p)): SVG's "m n" transform list."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + c * b2,
        b * a2 + d * b2,
        a * c2 + c * d2,
        b * c2 + d * d2,
        a * e2 + c * f2 + e,
        b * e2 + d * f2 + f,
    )


# --- paths -----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _outline(d: str) -> Outline:
    """SVG path data as absolute subpaths of lines and cubic curves (quadratic ones raised exactly).

    Kept by its text: an equation's glyphs are the same few outlines, again and again."""
    tokens: list[str | float] = []
    for command, number, other in _PATH_TOKEN.findall(d):
        if other:
            raise Unsupported(f"path data {other!r}")  # arcs (A) among them
        tokens.append(command or float(number))
    subpaths: list[Subpath] = []
    segments: list[Segment] = []
    start = current = (0.0, 0.0)
    closed = False
    last_control: tuple[float, float] | None = None  # the previous curve's second control point (S, T)
    last_kind = ""
    i = 0
    command = ""
    while i < len(tokens):
        if isinstance(tokens[i], str):
            command = tokens[i]
            i += 1
        elif not command or command in "Zz":
            raise Unsupported("numbers without a command")
        upper = command.upper()
        arity = _ARITY[upper]
        values = tokens[i : i + arity]
        if len(values) < arity or any(isinstance(v, str) for v in values):
            raise Unsupported("a path command short of numbers")
        i += arity
        relative = command.islower()
        x0, y0 = current
        if upper == "Z":
            if segments or closed is False:
                subpaths.append((*start, tuple(segments), True))
            segments, current, closed = [], start, True
            last_kind, last_control = "Z", None
            continue
        if upper == "M":
            if segments:
                subpaths.append((*start, tuple(segments), False))
            x, y = values
            current = start = (x + x0, y + y0) if relative else (x, y)
            segments, closed = [], False
            command = "l" if relative else "L"  # numbers after a moveto are linetos
            last_kind, last_control = "M", None
            continue
        closed = False
        if upper == "H":
            (x,) = values
            point = (x + x0 if relative else x, y0)
            segments.append(("L", *point))
            kind, control = "L", None
        elif upper == "V":
            (y,) = values
            point = (x0, y + y0 if relative else y)
            segments.append(("L", *point))
            kind, control = "L", None
        elif upper == "L":
            point = _absolute(values, x0, y0, relative)[0]
            segments.append(("L", *point))
            kind, control = "L", None
        elif upper == "C":
            c1, c2, point = _absolute(values, x0, y0, relative)
            segments.append(("C", *c1, *c2, *point))
            kind, control = "C", c2
        elif upper == "S":
            c2, point = _absolute(values, x0, y0, relative)
            c1 = _mirror(last_control, current) if last_kind == "C" else current
            segments.append(("C", *c1, *c2, *point))
            kind, control = "C", c2
        elif upper == "Q":
            q, point = _absolute(values, x0, y0, relative)
            segments.append(_quadratic(current, q, point))
            kind, control = "Q", q
        else:  # T
            point = _absolute(values, x0, y0, relative)[0]
            q = _mirror(last_control, current) if last_kind == "Q" else current
            segments.append(_quadratic(current, q, point))
            kind, control = "Q", q
        current, last_kind, last_control = point, kind, control
    if segments:
        subpaths.append((*start, tuple(segments), False))
    return Outline(tuple(subpaths), _area(subpaths))


def _absolute(values: list, x0: float, y0: float, relative: bool) -> list[tuple[float, float]]:
    points = [(values[k], values[k + 1]) for k in range(0, len(values), 2)]
    return [(x + x0, y + y0) for x, y in points] if relative else points


def _mirror(point: tuple[float, float] | None, about: tuple[float, float]) -> tuple[float, float]:
    assert point is not None
    return (2 * about[0] - point[0], 2 * about[1] - point[1])


def _quadratic(p0: tuple[float, float], q: tuple[float, float], p: tuple[float, float]) -> Segment:
    """A quadratic curve as the cubic that is the same curve."""
    return (
        "C",
        p0[0] + 2 / 3 * (q[0] - p0[0]),
        p0[1] + 2 / 3 * (q[1] - p0[1]),
        p[0] + 2 / 3 * (q[0] - p[0]),
        p[1] + 2 / 3 * (q[1] - p[1]),
        p[0],
        p[1],
    )


def _reversed(outline: Outline) -> Outline:
    """The same outline traced the other way round."""
    subpaths = []
    for x, y, segments, closed in outline.subpaths:
        ends = [(x, y)] + [(s[-2], s[-1]) for s in segments]
        backwards: list[Segment] = []
        for k in range(len(segments) - 1, -1, -1):
            segment, (px, py) = segments[k], ends[k]
            if segment[0] == "C":
                backwards.append(("C", segment[3], segment[4], segment[1], segment[2], px, py))
            else:
                backwards.append(("L", px, py))
        subpaths.append((*ends[-1], tuple(backwards), closed))
    return Outline(tuple(subpaths), -outline.area)


def _area(subpaths: list[Subpath]) -> float:
    """Signed area (positive counter-clockwise with y up) of the subpaths, their curves sampled."""
    total = 0.0
    for x, y, segments, _ in subpaths:
        first_x, first_y = x, y
        for segment in segments:
            if segment[0] == "C":
                x1, y1, x2, y2, x3, y3 = segment[1:]
                for t in (0.25, 0.5, 0.75, 1.0):
                    u = 1 - t
                    nx = u * u * u * x + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * x3
                    ny = u * u * u * y + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y3
                    total += x * ny - nx * y
                    x, y = nx, ny
            else:
                nx, ny = segment[1], segment[2]
                total += x * ny - nx * y
                x, y = nx, ny
        total += x * first_y - first_x * y
    return total / 2


def _add(pieces: list, colour: str, outline: Outline, ctm: Matrix) -> None:
    if outline.subpaths:
        # WeasyPrint paints currentColor as the SVG's color attribute, black when there is none (there is none).
        pieces.append(Shape("black" if colour == "currentColor" else colour, outline, ctm))


# --- writing ---------------------------------------------------------------------------------------


def _write(pieces: list[Shape | str]) -> str:
    """The pieces in their order, shapes of one colour next to each other merged into one path."""
    shapes = [piece for piece in pieces if isinstance(piece, Shape)]
    windings = [shape.winding for shape in shapes]
    # The way most of the ink winds; a shape winding the other way is traced backwards, so that
    # wherever shapes overlap their windings add up and never cancel.
    sense = 1.0 if sum(w for w in windings if w > 0) >= -sum(w for w in windings if w < 0) else -1.0
    out: list[str] = []
    run: list[str] = []
    run_colour: str | None = None

    def end_run() -> None:
        if run:
            fill = "" if run_colour == "black" else f' fill="{_escape(run_colour or "")}"'
            out.append(f'<path{fill} d="{"".join(run)}"></path>')
            run.clear()

    for piece in pieces:
        if isinstance(piece, str):
            end_run()
            run_colour = None
            out.append(piece)
            continue
        outline = _reversed(piece.outline) if piece.winding * sense < 0 else piece.outline
        if piece.colour != run_colour:
            end_run()
            run_colour = piece.colour
        _path_data(outline, piece.ctm, run)
    end_run()
    return "".join(out)


def _path_data(outline: Outline, m: Matrix, parts: list[str]) -> None:
    """The outline moved by ``m``, as absolute M, L, C and Z with whole numbers: what writers/pdf's
    equation paths copy into the PDF as they are."""
    template, xs, ys = outline.written
    a, b, c, d, e, f = m
    values: list[int] = [0] * (2 * len(xs))
    if b == 0 and c == 0:  # MathJax moves and scales, and rarely turns
        values[0::2] = [round(a * x + e) for x in xs]
        values[1::2] = [round(d * y + f) for y in ys]
    else:
        values[0::2] = [round(a * x + c * y + e) for x, y in zip(xs, ys, strict=True)]
        values[1::2] = [round(b * x + d * y + f) for x, y in zip(xs, ys, strict=True)]
    parts.append(template % tuple(values))


def _decimal(value: float) -> str:
    """At most four decimals, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _attributes(attributes: dict[str, str]) -> str:
    return " ".join(f'{name}="{_escape(value)}"' for name, value in attributes.items())


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
