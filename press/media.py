"""Figure files in, the renditions each output format needs out: pure conversions, bytes to bytes.

An author's figure is a PNG, JPEG, SVG, PDF (its first page, kept vector) or TIFF. The HTML and the
PDF (WeasyPrint) take SVG, PNG and JPEG; Word takes PNG and JPEG. ``renditions_for`` picks what a
format gets for a figure, ``convert`` makes it, ``RenditionCache`` keeps it between builds.

Every conversion is deterministic (the same bytes in give the same bytes out, run after run) and
writes nothing that could name a person: no PDF or SVG metadata, no PNG text or EXIF chunks, no
timestamps. Tools, chosen by measuring time, size, fidelity and determinism against pdf2svg, Inkscape,
pypdfium2, pdftoppm, CairoSVG and rsvg-convert, and by needing no new dependency:

- PDF to SVG and PDF to PNG: ``pdftocairo`` (Debian ``poppler-utils``, which the project already needs);
- SVG to PNG: WeasyPrint draws the SVG on a page of its size (the same renderer as the PDF output,
  so the Word figure looks like the PDF's), then ``pdftocairo`` rasterises that page;
- TIFF to PNG and the metadata stripping of PNG/JPEG: Pillow, and byte-level chunk filters;
- SVG cleaning: lxml.

External tools run without a shell, read their input from stdin, run in a private temporary
folder with a time limit, and fail with ``ConversionError`` carrying the tool's own message; a tool
that is not installed raises ``MissingTool`` naming the Debian package that provides it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import logging
import math
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CONVERSIONS",
    "DEFAULT_DPI",
    "MAX_PIXELS",
    "RENDITIONS",
    "SUPPORTED_KINDS",
    "TOOL_PACKAGES",
    "UNSUPPORTED_HINTS",
    "Conversion",
    "ConversionError",
    "ImageInfo",
    "MediaError",
    "MissingTool",
    "RenditionCache",
    "clean_raster",
    "clean_svg",
    "convert",
    "inspect",
    "pdf_to_png",
    "pdf_to_svg",
    "renditions_for",
    "sniff",
    "svg_to_png",
    "tiff_to_png",
]

# Bumped whenever this module's code changes what a conversion writes, so the cache recomputes.
REVISION = 1

DEFAULT_DPI = 300
TIMEOUT = 60.0  # seconds for one external tool run; a figure takes well under one
MAX_PIXELS = 100_000_000  # a rendition larger than this is refused: 100 Mpx of RGB is 300 MB in memory

SUPPORTED_KINDS = ("png", "jpeg", "svg", "pdf", "tiff")

UNSUPPORTED_HINTS: dict[str, str] = {
    "eps": "EPS is not accepted: convert it to PDF, e.g. `ps2pdf -dEPSCrop figure.eps figure.pdf` "
    "(Ghostscript; -dEPSCrop keeps the figure's bounding box), and use the PDF",
    "ps": "PostScript is not accepted: convert it to PDF, e.g. `ps2pdf figure.ps figure.pdf` (Ghostscript), "
    "and use the PDF; if it is an EPS figure without the EPSF header, add -dEPSCrop to crop it to its bounding box",
    "psd": "Photoshop documents are not accepted: export the flattened image as PNG or TIFF "
    "(Photoshop: File > Export > Export As), or `convert 'figure.psd[0]' figure.png` (ImageMagick; [0] is the "
    "flattened image)",
    "heic": "HEIC/HEIF images are not accepted: export it as PNG, TIFF or JPEG, e.g. "
    "`heif-convert figure.heic figure.png` (Debian package libheif-examples)",
    "avif": "AVIF images are not accepted: export it as PNG or JPEG, e.g. `avifdec figure.avif figure.png` "
    "(Debian package libavif-bin)",
    "webp": "WebP images are not accepted: export it as PNG, e.g. `dwebp figure.webp -o figure.png` "
    "(Debian package webp)",
    "gif": "GIF images are not accepted: export it as PNG (lossless, the same pixels), e.g. "
    "`convert 'figure.gif[0]' figure.png` (ImageMagick; [0] is the first frame)",
    "bmp": "BMP images are not accepted: export it as PNG (lossless, the same pixels), e.g. "
    "`convert figure.bmp figure.png` (ImageMagick)",
    "jp2": "JPEG 2000 images are not accepted: export it as PNG or TIFF, e.g. "
    "`opj_decompress -i figure.jp2 -o figure.png` (Debian package libopenjp2-tools)",
    "svgz": "compressed SVG is not accepted: decompress it, `gunzip -c figure.svgz > figure.svg`, and use the SVG",
}

# Which Debian package brings each external tool: named in MissingTool, so the diagnostic can say it.
TOOL_PACKAGES = {"pdftocairo": "poppler-utils", "pdfinfo": "poppler-utils"}


# For each figure kind, the renditions in order of preference: vector first, then lossless raster.
# TIFF is always converted (browsers do not show it; WeasyPrint and Word show it unreliably).
RENDITIONS: dict[str, tuple[str, ...]] = {
    "pdf": ("svg", "png"),
    "svg": ("svg", "png"),
    "png": ("png",),
    "jpeg": ("jpeg", "png"),
    "tiff": ("png",),
}

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_SVG = "{" + SVG_NS + "}"

# Namespaces of editors' private data and of metadata: nothing in them renders, and they carry
# author names, file paths (sodipodi:docname, inkscape:export-filename) and whole editor documents
# (Illustrator's i:pgf).
EDITOR_NAMESPACES = frozenset(
    {
        "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
        "http://www.inkscape.org/namespaces/inkscape",
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "http://purl.org/dc/elements/1.1/",
        "http://purl.org/dc/terms/",
        "http://creativecommons.org/ns#",
        "http://web.resource.org/cc/",
        "http://ns.adobe.com/AdobeIllustrator/10.0/",
        "http://ns.adobe.com/Extensibility/1.0/",
        "http://ns.adobe.com/Graphs/1.0/",
        "http://ns.adobe.com/SaveForWeb/1.0/",
        "http://ns.adobe.com/Variables/1.0/",
        "http://ns.adobe.com/ImageReplacement/1.0/",
        "http://ns.adobe.com/GenericCustomNamespace/1.0/",
        "http://ns.adobe.com/XPath/1.0/",
        "http://www.bohemiancoding.com/sketch/ns",
        "http://www.serif.com/",
    }
)


class MediaError(Exception):
    """A figure could not be turned into a rendition."""


class ConversionError(MediaError):
    """The input is broken or not what its kind says; ``message`` says why, with the tool's own words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class MissingTool(MediaError):
    """An external program is not installed; ``package`` is the Debian package that provides it."""

    def __init__(self, tool: str, package: str):
        super().__init__(f"'{tool}' is not installed: install the Debian package {package} (apt-get install {package})")
        self.tool = tool
        self.package = package


# ---------------------------------------------------------------------------------------------------
# Sniffing


def sniff(data: bytes, name: str = "") -> str:
    """The figure's kind from its first bytes, never from ``name`` (a JPEG called figure.png is "jpeg").

    One of SUPPORTED_KINDS; for a known unsupported format its key in UNSUPPORTED_HINTS ("eps", "ps",
    "psd", "heic", "avif", "webp", "gif", "bmp", "jp2", "svgz"); "unknown" otherwise. ``name`` is
    accepted only so a caller can pass what it has; it changes nothing.
    """
    del name  # the extension is what the author believes the file is: the bytes decide
    head = data[:32]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):  # TIFF and BigTIFF
        return "tiff"
    if head.startswith(b"\xc5\xd0\xd3\xc6"):  # DOS EPS binary header (EPS with a TIFF/WMF preview)
        return "eps"
    if head.startswith(b"%!"):
        first_line = data[:128].splitlines()[0] if data[:128] else b""
        return "eps" if b"EPSF" in first_line else "ps"
    # PDF readers accept a header anywhere in the first 1024 bytes (some writers put junk before it)
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"8BPS"):
        return "psd"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM" and len(head) >= 18 and struct.unpack("<I", head[14:18])[0] in (12, 40, 52, 56, 64, 108, 124):
        return "bmp"  # "BM" alone is too common a start: the DIB header size must be a real one
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xff\x4f\xff\x51"):
        return "jp2"  # the JP2 signature box, or a raw JPEG 2000 codestream
    if head[4:8] == b"ftyp":
        return _sniff_isobmff(data)
    if head.startswith(b"\x1f\x8b"):
        return "svgz" if _svg_root(_gunzip_head(data)) else "unknown"
    if _svg_root(data):
        return "svg"
    return "unknown"


def _sniff_isobmff(data: bytes) -> str:
    """HEIF and AVIF share the ISO media file box: the ftyp box's brands tell them apart."""
    size = struct.unpack(">I", data[:4])[0]
    box = data[8 : min(size, 256)]
    brands = {box[i : i + 4] for i in range(0, len(box) - 3, 4) if i != 4}  # skip minor_version
    if brands & {b"avif", b"avis"}:
        return "avif"
    if brands & {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}:
        return "heic"
    return "unknown"


def _gunzip_head(data: bytes, limit: int = 65536) -> bytes:
    try:
        return zlib.decompressobj(wbits=31).decompress(data, limit)
    except zlib.error:
        return b""


def _svg_root(data: bytes) -> bool:
    """Whether the XML's root element is <svg> (in the SVG namespace or in none).

    Only the start of the document is parsed: the XML declaration, a BOM, a doctype, comments and
    processing instructions may come before the root.
    """
    from lxml import etree

    text = _strip_leading_space(data)
    if not text.removeprefix(b"\xef\xbb\xbf").startswith((b"<", b"\xff\xfe<", b"\xfe\xff\x00<")):
        return False  # not XML: do not hand binary to the parser
    try:
        for _event, element in etree.iterparse(io.BytesIO(text), events=("start",), **_PARSER_OPTIONS):
            return etree.QName(element).localname == "svg" and etree.QName(element).namespace in (None, SVG_NS)
    except etree.XMLSyntaxError:
        return False
    return False


def _strip_leading_space(data: bytes) -> bytes:
    """Whitespace before the XML declaration is an XML error, but editors write it and browsers do not mind
    when there is no declaration: drop it (after a UTF-8 BOM, which libxml2 understands itself)."""
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data  # UTF-16: leading space would be two bytes each; libxml2 reads the BOM
    return bom + data[len(bom) :].lstrip(b" \t\r\n")


# The only parser this module uses on an author's XML: internal entities (which Illustrator uses
# for its namespace URIs) are expanded, external ones are not defined and so refused, nothing is
# fetched from the network, no DTD is loaded, and libxml2's limits stop entity bombs and huge nodes.
_PARSER_OPTIONS = {
    "resolve_entities": "internal",
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
}


def _parse_svg(data: bytes):
    """The author's SVG as an lxml root element, or ConversionError with the parser's message."""
    from lxml import etree

    parser = etree.XMLParser(remove_comments=True, remove_pis=True, **_PARSER_OPTIONS)
    try:
        root = etree.fromstring(_strip_leading_space(data), parser)
    except etree.XMLSyntaxError as exc:
        raise ConversionError(f"the SVG is not well-formed XML: {exc}") from None
    qname = etree.QName(root)
    if qname.localname != "svg" or qname.namespace not in (None, SVG_NS):
        raise ConversionError(f"the XML's root element is <{qname.localname}>, not <svg>")
    return root


# ---------------------------------------------------------------------------------------------------
# Inspecting


@dataclass(frozen=True)
class ImageInfo:
    """What a figure declares about its size.

    ``width``/``height``: pixels for raster kinds (as displayed, after an EXIF orientation), CSS px
    for SVG, points for PDF (the first page's crop box, as a viewer shows it, after its rotation).
    ``dpi``: the resolution a raster file declares, None when it declares none (always None for
    SVG and PDF). ``pages``: pages of a PDF, frames of a TIFF, else 1. ``size_source`` says where the
    size came from: "pixels", "attributes", "viewBox", "default" (an SVG with neither: CSS's 300x150
    for a replaced element) or "page".
    """

    kind: str
    width: float
    height: float
    unit: str  # "px" (image pixels), "css-px" (SVG) or "pt" (PDF)
    dpi: tuple[float, float] | None = None
    pages: int = 1
    size_source: str = "pixels"

    @property
    def aspect(self) -> float:
        """Width over height; always defined (inspect never returns an empty size)."""
        return self.width / self.height

    @property
    def inches(self) -> tuple[float, float] | None:
        """The physical size in inches, or None for a raster file that declares no resolution."""
        if self.unit == "pt":
            return (self.width / 72, self.height / 72)
        if self.unit == "css-px":
            return (self.width / 96, self.height / 96)
        if self.dpi is None:
            return None
        return (self.width / self.dpi[0], self.height / self.dpi[1])


def inspect(data: bytes, kind: str) -> ImageInfo:
    """The figure's size, resolution and page count, read from the file; ConversionError if it is unreadable."""
    if kind in ("png", "jpeg", "tiff"):
        return _inspect_raster(data, kind)
    if kind == "svg":
        return _inspect_svg(_parse_svg(data))
    if kind == "pdf":
        return _inspect_pdf(data)
    raise ValueError(f"cannot inspect a figure of kind {kind!r}")


@dataclass(frozen=True)
class FigureFile:
    """A figure file as read: its bytes and kind, and its size or why it cannot be read."""

    data: bytes
    kind: str
    info: ImageInfo | None  # None for an unsupported kind, or when ``problem`` says why not
    problem: MediaError | None = None


def read_figure(path: Path) -> FigureFile:
    """``path`` read, sniffed and inspected, once per process while the file stays as it was.

    The checks and the media stage both need this of every figure, in every build of a warm process
    (serve); a changed file (another size or modification time) is read again.
    """
    stat = path.stat()
    return _read_figure(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _read_figure(path: str, _size: int, _mtime: int) -> FigureFile:
    data = Path(path).read_bytes()
    kind = sniff(data, Path(path).name)
    if kind not in SUPPORTED_KINDS:
        return FigureFile(data, kind, None)
    try:
        return FigureFile(data, kind, inspect(data, kind))
    except MediaError as problem:
        return FigureFile(data, kind, None, problem)


def _open_raster(data: bytes, kind: str):
    from PIL import Image

    formats = {"png": ["PNG"], "jpeg": ["JPEG"], "tiff": ["TIFF"]}[kind]
    try:
        return Image.open(io.BytesIO(data), formats=formats)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ConversionError(f"not a readable {kind.upper()} image: {exc}") from None


def _declared_dpi(image) -> tuple[float, float] | None:
    if image.format == "TIFF":
        dpi = _tiff_dpi(image.tag_v2)
    else:
        dpi = image.info.get("dpi")
    if not dpi:
        return None
    x, y = (round(float(v), 1) for v in dpi)  # PNG stores dots per metre: 11811 is 299.9994 dpi
    return (x, y) if x >= 1 and y >= 1 else None


def _tiff_dpi(tags) -> tuple[float, float] | None:
    """A TIFF's resolution tags in dpi. Not Pillow's info["dpi"]: that says (1, 1) for a file without them."""
    x, y = tags.get(0x011A), tags.get(0x011B)  # XResolution, YResolution
    if not x or not y:
        return None
    unit = tags.get(0x0128, 2)  # ResolutionUnit: the TIFF default is inches
    if unit == 2:
        return (float(x), float(y))
    if unit == 3:
        return (float(x) * 2.54, float(y) * 2.54)
    return None  # 1: "no absolute unit", only an aspect ratio


def _inspect_raster(data: bytes, kind: str) -> ImageInfo:
    from PIL import Image

    unreadable = (OSError, SyntaxError, ValueError, Image.DecompressionBombError)
    if kind == "png":  # every chunk's checksum: a damaged file fails here, not later in a writer
        with _open_raster(data, kind) as probe:
            try:
                probe.verify()
            except unreadable as exc:
                raise ConversionError(f"not a readable PNG image: {exc}") from None
    with _open_raster(data, kind) as image:
        try:
            width, height = image.size
            orientation = image.getexif().get(0x0112, 1)  # reads on into the file
            frames = getattr(image, "n_frames", 1)
            dpi = _declared_dpi(image)
        except unreadable as exc:
            raise ConversionError(f"not a readable {kind.upper()} image: {exc}") from None
    if orientation in (5, 6, 7, 8):  # rotated a quarter turn when shown
        width, height = height, width
    if not width or not height:
        raise ConversionError(f"the {kind.upper()} image is empty ({width}x{height} pixels)")
    return ImageInfo(kind, width, height, "px", dpi, frames if kind == "tiff" else 1, "pixels")


# Lengths in an SVG's width/height, in CSS px. em/ex are relative to the initial font size of 16px
# (an <img> SVG inherits nothing); ex is taken as half an em, as CSS does when no font is known.
_CSS_PX = {"": 1.0, "px": 1.0, "pt": 96 / 72, "pc": 16.0, "in": 96.0, "cm": 96 / 2.54, "mm": 96 / 25.4}
_CSS_PX |= {"q": 96 / 101.6, "em": 16.0, "ex": 8.0}
_LENGTH = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z]*|%)\s*")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def _svg_length(value: str | None) -> float | None:
    """A width/height attribute in CSS px; None when absent, a percentage, or not a positive length."""
    if value is None:
        return None
    match = _LENGTH.fullmatch(value)
    if not match or match[2] == "%" or match[2].lower() not in _CSS_PX:
        return None
    px = float(match[1]) * _CSS_PX[match[2].lower()]
    return px if px > 0 and math.isfinite(px) else None


def _svg_viewbox(root) -> tuple[float, float, float, float] | None:
    numbers = _NUMBER.findall(root.get("viewBox", ""))
    if len(numbers) != 4:
        return None
    box = tuple(float(n) for n in numbers)
    return box if box[2] > 0 and box[3] > 0 else None


def _inspect_svg(root) -> ImageInfo:
    width, height = _svg_length(root.get("width")), _svg_length(root.get("height"))
    box = _svg_viewbox(root)
    source = "attributes"
    if width and height:
        pass
    elif box and (width or height):
        # one side given: the other follows the viewBox's proportions, as a browser sizes it
        width, height = (width, width * box[3] / box[2]) if width else (height * box[2] / box[3], height)
    elif box:
        width, height, source = box[2], box[3], "viewBox"
    elif width or height:
        width, height = width or 300.0, height or 150.0  # the other side: CSS's default for a replaced element
    else:
        width, height, source = 300.0, 150.0, "default"
    return ImageInfo("svg", width, height, "css-px", None, 1, source)


def _inspect_pdf(data: bytes) -> ImageInfo:
    # pdfinfo (poppler-utils, which the conversions need anyway) rather than a Python PDF library:
    # one dependency fewer, and its "size" is the crop box that pdftocairo renders.
    out = _run("pdfinfo", ["-f", "1", "-l", "1", "-"], data).decode("utf-8", "replace")
    pages = re.search(r"^Pages:\s+(\d+)", out, re.M)
    size = re.search(r"^Page\s+1 size:\s+([\d.]+) x ([\d.]+) pts", out, re.M)
    rotation = re.search(r"^Page\s+1 rot:\s+(-?\d+)", out, re.M)
    if not pages or not size:
        raise ConversionError(f"pdfinfo did not report the first page's size: {out.strip()[:200]}")
    width, height = float(size[1]), float(size[2])
    if rotation and int(rotation[1]) % 180 == 90:
        width, height = height, width
    if width <= 0 or height <= 0:
        raise ConversionError(f"the PDF's first page is empty ({width} x {height} pt)")
    return ImageInfo("pdf", width, height, "pt", None, int(pages[1]), "page")


# ---------------------------------------------------------------------------------------------------
# External tools


def _tool(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise MissingTool(tool, TOOL_PACKAGES.get(tool, tool))
    return path


def _run(tool: str, args: list[str], data: bytes, timeout: float = TIMEOUT) -> bytes:
    """Run ``tool`` on ``data`` (its stdin) and return its stdout.

    No shell; the working folder is a private temporary one, so nothing a tool writes lands beside
    the build; ConversionError, with the tool's own message, when it fails or writes nothing.
    """
    path = _tool(tool)
    with tempfile.TemporaryDirectory(prefix="press-media-") as folder:
        try:
            done = subprocess.run(
                [path, *args], input=data, capture_output=True, timeout=timeout, cwd=folder, check=False
            )
        except subprocess.TimeoutExpired:
            raise ConversionError(f"{tool} did not finish within {timeout:g} s") from None
        except OSError as exc:
            raise ConversionError(f"{tool} could not be run: {exc}") from None
    if done.returncode != 0 or not done.stdout:
        raise ConversionError(f"{tool} failed: {_tool_message(done.stderr, done.returncode)}")
    return done.stdout


def _tool_message(stderr: bytes, returncode: int) -> str:
    """The tool's own words, each line once (poppler repeats "Syntax Error" lines), at most three."""
    lines = list(dict.fromkeys(line.strip() for line in stderr.decode("utf-8", "replace").splitlines()))
    lines = [line for line in lines if line]
    return "; ".join(lines[:3]) if lines else f"exit status {returncode}, no message"


@functools.cache
def _poppler_version(path: str) -> str:
    done = subprocess.run([path, "-v"], capture_output=True, timeout=TIMEOUT, check=False)
    text = (done.stderr or done.stdout).decode("utf-8", "replace")
    match = re.search(r"version\s+(\S+)", text)
    return match[1] if match else "unknown"


def _tool_version(tool: str) -> str:
    return f"{tool} {_poppler_version(_tool(tool))}"


# ---------------------------------------------------------------------------------------------------
# PDF


def pdf_to_svg(data: bytes) -> bytes:
    """The PDF's first page as SVG: vector paths, text as glyph outlines (legible without the fonts).

    The page is its crop box, rotated as a viewer shows it. Rasters embedded in the PDF stay rasters
    (as data: URIs). Soft masks (transparency gradients) are rewritten so that WeasyPrint, browsers and
    librsvg all draw them (see _portable_masks).
    """
    svg = _run("pdftocairo", ["-svg", "-f", "1", "-l", "1", "-", "-"], data)
    return _tidy_cairo_svg(svg)


def pdf_to_png(data: bytes, dpi: int = DEFAULT_DPI) -> bytes:
    """The PDF's first page (its crop box, as a viewer shows it) as an opaque RGB PNG at ``dpi``."""
    dpi = _check_dpi(dpi)
    info = _inspect_pdf(data)
    _check_pixels(info.width / 72 * dpi, info.height / 72 * dpi, dpi)
    png = _run("pdftocairo", ["-png", "-r", str(dpi), "-cropbox", "-singlefile", "-f", "1", "-l", "1", "-", "-"], data)
    return _strip_png(png)


def _check_dpi(dpi: int) -> int:
    if not isinstance(dpi, int) or not 1 <= dpi <= 2400:
        raise ValueError(f"dpi must be a whole number from 1 to 2400, not {dpi!r}")
    return dpi


def _check_pixels(width: float, height: float, dpi: int) -> None:
    if width * height > MAX_PIXELS:
        raise ConversionError(
            f"at {dpi} dpi the figure would be {math.ceil(width)}x{math.ceil(height)} pixels, "
            f"more than {MAX_PIXELS:,}: is its page size right ({width / dpi:.1f} x {height / dpi:.1f} in)?"
        )


# cairo writes a soft mask as <mask><g filter="url(#alpha)"><use xlink:href="#imageN"/></g></mask>, the
# filter turning the image's alpha into luminance. WeasyPrint 70 has no feColorMatrix and draws such
# masks wrongly (the masked shape vanishes or turns opaque); cairo 1.16 (Debian 12) also scales the
# <use> by 1/width, 1/height of the image, so no renderer draws the shape at all.
_CAIRO_ALPHA_MATRIX = "0 0 0 0 1 0 0 0 0 1 0 0 0 0 1 0 0 0 1 0"


def _tidy_cairo_svg(svg: bytes) -> bytes:
    from lxml import etree

    # pdftocairo's own output, not an author's file: large embedded images are expected (huge_tree)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        root = etree.fromstring(svg, parser)
    except etree.XMLSyntaxError as exc:
        raise ConversionError(f"pdftocairo wrote an SVG that does not parse: {exc}") from None
    _portable_masks(root)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def _href(element) -> str | None:
    return element.get("{" + XLINK_NS + "}href") or element.get("href")


def _fragment(reference: str | None) -> str | None:
    """The id in "url(#id)" or "#id"."""
    if not reference:
        return None
    match = re.fullmatch(r"\s*(?:url\(\s*['\"]?#([^'\")]+)['\"]?\s*\)|#(.+))\s*", reference)
    return (match[1] or match[2]) if match else None


def _portable_masks(root) -> None:
    """Rewrite cairo's alpha masks as plain luminance masks: an opaque grey image whose grey is the alpha.

    That is what the alpha filter computes (white at the image's alpha has luminance = alpha), drawn by
    every SVG renderer without filters. Only the exact construct cairo writes is touched; the bogus
    1/width, 1/height scale of cairo 1.16 is dropped (the mask image covers its target surface pixel for
    pixel), any other transform is kept.
    """
    alpha_filters = set()
    for element in root.iter(_SVG + "filter"):
        children = list(element)
        if (
            len(children) == 1
            and children[0].tag == _SVG + "feColorMatrix"
            and children[0].get("type") == "matrix"
            and " ".join(children[0].get("values", "").split()) == _CAIRO_ALPHA_MATRIX
        ):
            alpha_filters.add(element.get("id"))
    if not alpha_filters:
        return
    images = {element.get("id"): element for element in root.iter(_SVG + "image") if element.get("id")}
    replaced: set[str] = set()
    for mask in list(root.iter(_SVG + "mask")):
        for group in list(mask):
            if group.tag != _SVG + "g" or _fragment(group.get("filter")) not in alpha_filters:
                continue
            uses = list(group)
            targets = [images.get(_fragment(_href(use)) or "") for use in uses]
            if not uses or any(
                use.tag != _SVG + "use" or target is None or use.get("x") or use.get("y")
                for use, target in zip(uses, targets, strict=True)
            ):
                continue  # not what cairo writes: leave it as it is
            replacements = [_luminance_image(use, target) for use, target in zip(uses, targets, strict=True)]
            if any(r is None for r in replacements):
                continue
            replaced.update(_fragment(_href(use)) for use in uses)
            index = mask.index(group)
            mask.remove(group)
            for offset, replacement in enumerate(replacements):
                mask.insert(index + offset, replacement)
    # drop what nothing refers to any more: the alpha images and the filter
    referenced = {_fragment(_href(e)) for e in root.iter(_SVG + "use")}
    referenced |= {_fragment(e.get("filter")) for e in root.iter() if isinstance(e.tag, str)}
    for identifier in replaced - referenced:
        image = images[identifier]
        if image.getparent() is not None:
            image.getparent().remove(image)
    for element in list(root.iter(_SVG + "filter")):
        if element.get("id") in alpha_filters and element.get("id") not in referenced:
            element.getparent().remove(element)


def _luminance_image(use, image):
    from lxml import etree
    from PIL import Image

    href = _href(image) or ""
    prefix = "data:image/png;base64,"
    if not href.startswith(prefix):
        return None
    try:
        with Image.open(io.BytesIO(base64.b64decode(href[len(prefix) :])), formats=["PNG"]) as picture:
            alpha = picture.convert("RGBA").getchannel("A")  # no alpha at all: 255, the filter's white
    except (OSError, ValueError):
        return None
    width, height = alpha.size
    buffer = io.BytesIO()
    alpha.save(buffer, "PNG", compress_level=9)
    replacement = etree.Element(_SVG + "image", nsmap={None: SVG_NS, "xlink": XLINK_NS})
    for name in ("x", "y"):
        if image.get(name):
            replacement.set(name, image.get(name))
    replacement.set("width", image.get("width", str(width)))
    replacement.set("height", image.get("height", str(height)))
    transform = use.get("transform")
    if transform and not _is_unit_scale(transform, width, height):
        replacement.set("transform", transform)
    replacement.set("{" + XLINK_NS + "}href", "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode())
    return replacement


def _is_unit_scale(transform: str, width: int, height: int) -> bool:
    """Whether ``transform`` is cairo 1.16's matrix(1/width, 0, 0, 1/height, 0, 0)."""
    match = re.fullmatch(r"\s*matrix\(([^)]*)\)\s*", transform)
    if not match:
        return False
    numbers = [float(n) for n in _NUMBER.findall(match[1])]
    if len(numbers) != 6:
        return False
    a, b, c, d, e, f = numbers
    return (
        math.isclose(a * width, 1, rel_tol=1e-4) and math.isclose(d * height, 1, rel_tol=1e-4) and b == c == e == f == 0
    )


# ---------------------------------------------------------------------------------------------------
# SVG


def clean_svg(data: bytes) -> bytes:
    """The author's SVG as it renders, without what could name a person or leak a path.

    Removed: <metadata> (where RDF/Dublin Core creators live), comments, processing instructions,
    the doctype (internal entities are expanded first), elements and attributes in editors' private
    and metadata namespaces (sodipodi, inkscape, RDF, Dublin Core, Creative Commons, Adobe, Sketch,
    Serif), and scripts and on* event attributes (they never run where figures are shown: an <img>,
    WeasyPrint, a PNG). Kept: every element and attribute that renders, byte for byte in value.
    An SVG without the SVG namespace gets it (browsers draw nothing in an <img> without it).
    ConversionError for XML that is not well-formed, not <svg>, or uses external entities.
    """
    from lxml import etree

    root = _parse_svg(data)
    if etree.QName(root).namespace is None:
        root = _with_svg_namespace(root)
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue  # comments and PIs are already gone; entities were expanded by the parser
        namespace = etree.QName(element).namespace
        if (
            namespace in EDITOR_NAMESPACES
            or element.tag in (_SVG + "metadata", _SVG + "script")
            or (namespace is None and element.tag in ("metadata", "script"))
        ):
            parent = element.getparent()
            if parent is not None:
                _remove_keeping_tail(element)
            continue
        for attribute in list(element.attrib):
            qname = etree.QName(attribute)
            if qname.namespace in EDITOR_NAMESPACES or (qname.namespace is None and qname.localname.startswith("on")):
                del element.attrib[attribute]
    etree.cleanup_namespaces(root)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def _remove_keeping_tail(element) -> None:
    """Remove an element; the text after it (inside a <text>, say) stays where it was."""
    parent = element.getparent()
    tail = element.tail
    previous = element.getprevious()
    parent.remove(element)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def _with_svg_namespace(root):
    from lxml import etree

    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).namespace is None:
            element.tag = _SVG + element.tag
    nsmap = {prefix: uri for prefix, uri in root.nsmap.items() if prefix is not None}
    new_root = etree.Element(root.tag, attrib=dict(root.attrib), nsmap={None: SVG_NS, **nsmap})
    new_root.text = root.text
    new_root.extend(list(root))
    return new_root


def svg_to_png(data: bytes, dpi: int = DEFAULT_DPI) -> bytes:
    """The SVG drawn by WeasyPrint at its intrinsic size (inspect's width and height), as an RGB PNG at ``dpi``.

    The figure is drawn on white, as on a page. The SVG is cleaned first (clean_svg), so its XML is
    parsed once safely; WeasyPrint may load nothing but data: URIs: an SVG that refers to another file
    or to the network raises ConversionError (embed the image in the SVG instead).
    """
    dpi = _check_dpi(dpi)
    cleaned = clean_svg(data)
    info = _inspect_svg(_parse_svg(cleaned))
    _check_pixels(info.width / 96 * dpi, info.height / 96 * dpi, dpi)
    pdf = _weasyprint_page(cleaned, info.width, info.height)
    return _strip_png(_run("pdftocairo", ["-png", "-r", str(dpi), "-singlefile", "-f", "1", "-l", "1", "-", "-"], pdf))


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _weasyprint_page(svg: bytes, width: float, height: float) -> bytes:
    """A one-page PDF exactly the SVG's size with the SVG drawn on it; errors WeasyPrint logs are raised."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    source = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    html = (
        "<!doctype html><meta charset=utf-8><style>"
        f"@page {{ size: {width:.4f}px {height:.4f}px; margin: 0 }} html, body {{ margin: 0 }}"
        f"img {{ display: block; width: {width:.4f}px; height: {height:.4f}px }}"
        f'</style><img src="{source}" alt="">'
    )
    logger = logging.getLogger("weasyprint")
    collect = _Collect()
    logger.addHandler(collect)
    try:
        pdf = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=("data",))).write_pdf()
    finally:
        logger.removeHandler(collect)
    if collect.messages:
        raise ConversionError("WeasyPrint could not draw the SVG: " + "; ".join(dict.fromkeys(collect.messages)))
    return pdf


# ---------------------------------------------------------------------------------------------------
# Raster


def tiff_to_png(data: bytes) -> bytes:
    """The TIFF's first page as a lossless PNG keeping its declared dpi and ICC profile, turned upright.

    8- and 16-bit greyscale stay as they are (16-bit PNG); CMYK becomes RGB through its ICC profile
    when it has one (else Pillow's plain formula); alpha is kept; palette and bilevel images stay so.
    Floating-point and 32-bit integer samples (scientific data) raise ConversionError: how to map them
    to grey levels is the author's choice.
    """
    from PIL import ImageOps

    with _open_raster(data, "tiff") as image:
        try:
            image.seek(0)
            image.load()
            dpi = _declared_dpi(image)
            icc = image.info.get("icc_profile")
            image = ImageOps.exif_transpose(image)
            image, icc = _png_mode(image, icc)
        except (OSError, ValueError, SyntaxError) as exc:
            raise ConversionError(f"the TIFF could not be decoded: {exc}") from None
    # Pillow's PNG writer also takes an ICC profile from info: after a CMYK conversion that would be the
    # CMYK profile on RGB pixels. Only what is passed below is written.
    image.info = {key: value for key, value in image.info.items() if key == "transparency"}
    buffer = io.BytesIO()
    options = {"compress_level": 6}
    if dpi:
        options["dpi"] = dpi
    if icc:
        options["icc_profile"] = icc
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def _png_mode(image, icc: bytes | None):
    """The image in a mode PNG stores without loss, and the ICC profile that still applies."""
    from PIL import ImageCms

    mode = image.mode
    if mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I;16B"):
        return image, icc
    if mode in ("I;16L", "I;16N"):
        return image.convert("I;16"), icc
    if mode == "PA":
        return image.convert("RGBA"), None
    if mode == "CMYK":
        if icc:
            try:
                source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                srgb = ImageCms.createProfile("sRGB")
                return ImageCms.profileToProfile(image, source, srgb, outputMode="RGB"), None
            except (ImageCms.PyCMSError, OSError):
                pass  # a broken profile: the plain conversion below
        return image.convert("RGB"), None
    if mode in ("YCbCr", "LAB", "HSV"):
        return image.convert("RGB"), None
    if mode in ("RGBa", "La"):
        return image.convert("RGBA" if mode == "RGBa" else "LA"), icc
    raise ConversionError(
        f"the TIFF has {mode} samples (floating-point or 32-bit): export it as an 8- or 16-bit TIFF or PNG"
    )


# PNG chunks that change how the image looks (or animates); everything else ancillary goes: text
# (tEXt, zTXt, iTXt: Author, Software, Comment, XMP), eXIf, tIME, and private chunks of editors.
_PNG_KEEP = {b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"bKGD", b"cICP", b"mDCv", b"cLLI"}
_PNG_KEEP |= {b"acTL", b"fcTL", b"fdAT"}


def clean_raster(data: bytes, kind: str) -> bytes:
    """A PNG or JPEG without its metadata, pixels untouched (no re-encoding, so no loss).

    PNG: critical chunks and the ancillary ones that change how it looks are kept (transparency,
    colour space, ICC profile, physical size, animation); text, XMP, EXIF, time stamps and private
    chunks go. JPEG: the image data, quantisation and Huffman tables, JFIF density, ICC profile and
    Adobe colour-transform segments are kept; EXIF, XMP, IPTC/Photoshop, comments, thumbnails and
    anything after the end of the image go. EXIF orientation and resolution, which change how the
    image is shown or sized, are kept in a new EXIF block holding only them. ConversionError if the
    file is truncated or malformed.
    """
    if kind == "png":
        return _strip_png(data)
    if kind == "jpeg":
        return _strip_jpeg(data)
    raise ValueError(f"clean_raster handles png and jpeg, not {kind!r}")


def _strip_png(data: bytes) -> bytes:
    signature = b"\x89PNG\r\n\x1a\n"
    if not data.startswith(signature):
        raise ConversionError("not a PNG file (its signature is missing)")
    out = [signature]
    position = len(signature)
    while True:
        if position + 8 > len(data):
            raise ConversionError("the PNG is truncated (no IEND chunk)")
        length, chunk_type = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        if end > len(data):
            raise ConversionError(f"the PNG is truncated (in its {chunk_type.decode('latin-1')} chunk)")
        critical = chunk_type[:1].isupper()
        if critical or chunk_type in _PNG_KEEP:
            body = data[position + 4 : end - 4]
            if zlib.crc32(body) != struct.unpack(">I", data[end - 4 : end])[0]:
                raise ConversionError(f"the PNG is damaged (bad checksum in its {chunk_type.decode('latin-1')} chunk)")
            out.append(data[position:end])
        elif chunk_type == b"eXIf":
            exif = _minimal_exif(b"Exif\x00\x00" + data[position + 8 : end - 4], keep_resolution=False)
            if exif:
                body = exif[6:]  # a PNG eXIf chunk holds the TIFF structure without the "Exif\0\0" prefix
                out.append(
                    struct.pack(">I", len(body)) + b"eXIf" + body + struct.pack(">I", zlib.crc32(b"eXIf" + body))
                )
        position = end
        if chunk_type == b"IEND":
            return b"".join(out)


def _minimal_exif(app1: bytes, keep_resolution: bool) -> bytes | None:
    """An EXIF block ("Exif\\0\\0" + TIFF) with only orientation (when not upright) and, if asked, resolution."""
    from PIL import Image

    source = Image.Exif()
    try:
        source.load(app1)
    except (OSError, SyntaxError, ValueError, struct.error):
        return None
    kept = Image.Exif()
    orientation = source.get(0x0112)
    if orientation not in (None, 1):
        kept[0x0112] = orientation
    if keep_resolution:
        for tag in (0x011A, 0x011B, 0x0128):  # XResolution, YResolution, ResolutionUnit
            if tag in source:
                kept[tag] = source[tag]
    return kept.tobytes() if len(kept) else None


_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length


def _strip_jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise ConversionError("not a JPEG file (its start-of-image marker is missing)")
    segments: list[tuple[int, bytes]] = []  # (marker, the bytes to write for it)
    has_jfif_density = False
    exif_positions: list[tuple[int, bytes]] = []
    position = 2
    while True:
        if position >= len(data) or data[position] != 0xFF:
            raise ConversionError(f"the JPEG is damaged or truncated (no marker at byte {position})")
        while position < len(data) and data[position] == 0xFF:
            position += 1  # fill bytes
        if position >= len(data):
            raise ConversionError("the JPEG is truncated (no end-of-image marker)")
        marker = data[position]
        position += 1
        if marker == 0xD9:  # EOI: what follows (phones' extra images, trailers) is not this image
            segments.append((marker, b"\xff\xd9"))
            break
        if marker in _JPEG_STANDALONE:
            segments.append((marker, bytes([0xFF, marker])))
            continue
        if position + 2 > len(data):
            raise ConversionError("the JPEG is truncated (in a segment header)")
        length = struct.unpack(">H", data[position : position + 2])[0]
        body = data[position + 2 : position + length]
        if length < 2 or position + length > len(data):
            raise ConversionError(f"the JPEG is truncated (in a segment of marker 0x{marker:02X})")
        whole = bytes([0xFF, marker]) + data[position : position + length]
        position += length
        if marker == 0xDA:  # start of scan: the entropy-coded data runs to the next real marker
            scan_end = _jpeg_scan_end(data, position)
            segments.append((marker, whole + data[position:scan_end]))
            position = scan_end
            continue
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            if marker == 0xE0 and body.startswith(b"JFIF\x00") and len(body) >= 14:
                # density kept, thumbnail dropped (it is a copy of the picture, possibly an older one)
                has_jfif_density = body[7] in (1, 2)
                kept = body[:12] + b"\x00\x00"
                segments.append((marker, b"\xff\xe0" + struct.pack(">H", len(kept) + 2) + kept))
            elif marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
                exif_positions.append((len(segments), body))
                segments.append((marker, b""))
            elif (marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00")) or (
                marker == 0xEE and body.startswith(b"Adobe")
            ):
                segments.append((marker, whole))  # colour: the ICC profile; Adobe's says how to read CMYK/YCCK
            continue  # everything else: XMP, IPTC/Photoshop, MPF, comments, other applications' data
        segments.append((marker, whole))
    for index, body in exif_positions[:1]:
        exif = _minimal_exif(body, keep_resolution=not has_jfif_density)
        if exif:
            segments[index] = (0xE1, b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif)
    return b"\xff\xd8" + b"".join(chunk for _marker, chunk in segments)


def _jpeg_scan_end(data: bytes, position: int) -> int:
    """Where entropy-coded data starting at ``position`` ends: the next 0xFF that starts a marker."""
    while True:
        found = data.find(b"\xff", position)
        if found < 0 or found + 1 >= len(data):
            raise ConversionError("the JPEG is truncated (its image data has no end-of-image marker)")
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            position = found + 1  # a stuffed 0xFF, a restart marker, or fill before a marker
            continue
        return found


# ---------------------------------------------------------------------------------------------------
# Choosing and converting


@dataclass(frozen=True)
class Conversion:
    """One conversion: its name (part of the cache key), function, and what its output depends on."""

    name: str
    function: Callable[..., bytes]
    versions: Callable[[], str]
    uses_dpi: bool = False


def _dist_version(name: str) -> str:
    # Imported when a key is made, not with this module: importlib.metadata's import costs every build.
    from importlib.metadata import version

    return version(name)


def _pillow_version() -> str:
    from PIL import __version__, features

    return f"Pillow {__version__} zlib {features.version('zlib')}"


def _lxml_version() -> str:
    from lxml import etree

    return f"lxml {etree.__version__} libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))}"


CONVERSIONS: dict[tuple[str, str], Conversion] = {
    ("pdf", "svg"): Conversion(
        "pdf-to-svg", pdf_to_svg, lambda: f"{_tool_version('pdftocairo')}; {_lxml_version()}; {_pillow_version()}"
    ),
    ("pdf", "png"): Conversion(
        "pdf-to-png", pdf_to_png, lambda: f"{_tool_version('pdftocairo')}; {_pillow_version()}", uses_dpi=True
    ),
    ("svg", "png"): Conversion(
        "svg-to-png",
        svg_to_png,
        lambda: f"weasyprint {_dist_version('weasyprint')}; {_tool_version('pdftocairo')}; {_lxml_version()}",
        uses_dpi=True,
    ),
    ("svg", "svg"): Conversion("clean-svg", clean_svg, _lxml_version),
    ("tiff", "png"): Conversion("tiff-to-png", tiff_to_png, _pillow_version),
    ("png", "png"): Conversion("clean-png", lambda data: clean_raster(data, "png"), _pillow_version),
    ("jpeg", "jpeg"): Conversion("clean-jpeg", lambda data: clean_raster(data, "jpeg"), _pillow_version),
}


def renditions_for(kind: str, accepts: tuple[str, ...]) -> str:
    """The rendition kind a format accepting ``accepts`` gets for a figure of ``kind``.

    Vector stays vector where it can (pdf and svg give svg to HTML and PDF), else PNG (pdf and svg
    give PNG to Word); TIFF always becomes PNG; PNG and JPEG stay what they are. ConversionError for an
    unsupported kind (with its hint) or when the format takes nothing this figure can become.
    """
    if kind not in RENDITIONS:
        hint = UNSUPPORTED_HINTS.get(kind, "use a PNG, JPEG, SVG, PDF or TIFF file")
        raise ConversionError(f"figures of kind {kind!r} are not accepted: {hint}")
    for target in RENDITIONS[kind]:
        if target in accepts:
            return target
    raise ConversionError(f"a format that accepts {', '.join(accepts)} cannot show a {kind.upper()} figure")


def convert(data: bytes, kind: str, target_kind: str, *, dpi: int = DEFAULT_DPI) -> bytes:
    """``data`` (a figure of ``kind``) as ``target_kind``; the same kind gives the cleaned original.

    ``dpi`` is used only where vector becomes raster (pdf or svg to png).
    """
    conversion = CONVERSIONS.get((kind, target_kind))
    if conversion is None:
        raise ValueError(f"no conversion from {kind!r} to {target_kind!r}")
    return conversion.function(data, dpi=dpi) if conversion.uses_dpi else conversion.function(data)


class RenditionCache:
    """Renditions kept in a folder between builds, so that an unchanged figure converts nothing.

    A rendition's key is the SHA-256 of the input bytes, the conversion's name, the versions of the
    tools and libraries that made it, this module's REVISION and, for rasterising, the dpi. Each is a
    plain file, ``<key>-<first 16 hex digits of its own SHA-256>.<kind>``, so that WeasyPrint and pandoc
    can read it where it is, and a damaged or truncated file is noticed (its content no longer matches
    its name) and made again. Files are written to a temporary file and renamed into place.
    ``hits`` and ``misses`` count lookups.
    """

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()  # the build asks from several threads

    def key(self, data: bytes, kind: str, target: str, *, dpi: int = DEFAULT_DPI) -> str:
        """The cache key of this rendition (hex): what get() files it under."""
        conversion = CONVERSIONS.get((kind, target))
        if conversion is None:
            raise ValueError(f"no conversion from {kind!r} to {target!r}")
        parts = [hashlib.sha256(data).hexdigest(), conversion.name, conversion.versions(), f"revision {REVISION}"]
        if conversion.uses_dpi:
            parts.append(f"{dpi} dpi")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def get(self, data: bytes, kind: str, target: str, *, dpi: int = DEFAULT_DPI) -> bytes:
        """The rendition of ``data`` as ``target``: from the folder if it is there and intact, else converted and stored."""
        return self.path(data, kind, target, dpi=dpi).read_bytes()

    def path(self, data: bytes, kind: str, target: str, *, dpi: int = DEFAULT_DPI) -> Path:
        """The file of the rendition of ``data`` as ``target``, intact: found in the folder, else made there."""
        key = self.key(data, kind, target, dpi=dpi)
        for candidate in sorted(self.folder.glob(f"{key}-*.{target}")):
            if self._intact(candidate):
                with self._lock:
                    self.hits += 1
                return candidate
        with self._lock:
            self.misses += 1
        result = convert(data, kind, target, dpi=dpi)
        path = self.folder / f"{key}-{hashlib.sha256(result).hexdigest()[:16]}.{target}"
        self._write(path, result)
        return path

    @staticmethod
    def _intact(path: Path) -> bool:
        try:
            content = path.read_bytes()
        except OSError:
            return False
        return hashlib.sha256(content).hexdigest()[:16] == path.stem.rsplit("-", 1)[-1]

    def _write(self, path: Path, payload: bytes) -> None:
        from .publish import replace

        replace(self.folder, path.name, payload)
