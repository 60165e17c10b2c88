"""press.media: sniffing, inspecting and converting figures, checked with real readers.

Every fixture is made here: rasters with Pillow, SVGs as text, vector PDFs with WeasyPrint.
"""

from __future__ import annotations

import io
import math
import struct
import zlib

import pytest
from lxml import etree
from PIL import Image, TiffImagePlugin

from press import media
from press.formats import FORMATS
from press.media import ConversionError, MissingTool, RenditionCache

SVG_NS = "http://www.w3.org/2000/svg"
AUTHOR = "Julia Głowacka"
RED = (214, 39, 40)
BLUE = (31, 119, 180)


# ---------------------------------------------------------------------------------------------------
# Fixtures


def png_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def chunk_types(png: bytes) -> list[bytes]:
    types, position = [], 8
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position : position + 8])
        types.append(kind)
        position += 12 + length
    return types


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def close(pixel, colour, tolerance=6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


CHART_SVG = f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="{SVG_NS}" width="400" height="240" viewBox="0 0 400 240">
  <defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">
    <stop offset="0" stop-color="#3366cc"/><stop offset="1" stop-color="#ffffff"/></linearGradient></defs>
  <rect x="0" y="0" width="400" height="240" fill="white"/>
  <rect x="20" y="20" width="100" height="60" fill="rgb{RED}"/>
  <path d="M50 200 L110 150 L170 170 L230 90 L290 110 L350 40 L350 200 Z" fill="url(#g)"/>
  <polyline points="50,200 110,150 170,170 230,90 290,110 350,40" fill="none" stroke="#3366cc" stroke-width="3"/>
  <text x="200" y="228" font-family="DejaVu Sans" font-size="14" text-anchor="middle">Weeks after infusion</text>
</svg>
""".encode()

INKSCAPE_SVG = f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!-- Created with Inkscape (http://www.inkscape.org/) by {AUTHOR} -->
<svg xmlns="{SVG_NS}" xmlns:svg="{SVG_NS}"
   xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
   xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
   xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
   xmlns:cc="http://creativecommons.org/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/"
   width="80mm" height="40mm" viewBox="0 0 80 40" version="1.1" id="svg8"
   sodipodi:docname="/home/jglowacka/papers/ketamine/figure1.svg" inkscape:version="1.2.2">
  <sodipodi:namedview id="base" pagecolor="#ffffff" inkscape:zoom="1.4" inkscape:current-layer="layer1"/>
  <metadata id="metadata5"><rdf:RDF><cc:Work rdf:about=""><dc:format>image/svg+xml</dc:format>
    <dc:creator><cc:Agent><dc:title>{AUTHOR}</dc:title></cc:Agent></dc:creator></cc:Work></rdf:RDF></metadata>
  <g inkscape:label="Layer 1" inkscape:groupmode="layer" id="layer1">
    <rect id="bar" x="5" y="5" width="30" height="20" style="fill:#1f77b4"
       inkscape:export-filename="/home/jglowacka/bar.png" onclick="alert(1)"/>
    <text x="5" y="35" style="font-size:6px;font-family:'DejaVu Sans'">n = 42<tspan
       sodipodi:role="line">, p &lt; 0.05</tspan></text>
  </g>
  <script>alert("{AUTHOR}")</script>
</svg>
""".encode()

FIGURE_HTML = f"""<!doctype html><html><head><meta charset="utf-8"><title>Figure 1</title>
<meta name="author" content="{AUTHOR}"><style>
@page {{ size: 100mm 60mm; margin: 0 }} body {{ margin: 0; font-family: "DejaVu Sans" }}
.box {{ position: absolute; left: 10mm; top: 10mm; width: 30mm; height: 20mm; background: rgb{RED} }}
p {{ position: absolute; left: 10mm; top: 40mm; margin: 0; font-size: 14pt }}
</style></head><body><div class="box"></div><p>Ketamine dose–response, n = 42</p></body></html>"""

# a transparency gradient: WeasyPrint writes it as a PDF soft mask, which cairo 1.16 writes to SVG wrongly
SOFT_MASK_HTML = """<style>@page { size: 300px 100px; margin: 0 } body { margin: 0 }</style>
<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100"><defs>
<linearGradient id="fade" x1="0" y1="0" x2="1" y2="0"><stop offset="0" stop-color="green" stop-opacity="1"/>
<stop offset="1" stop-color="green" stop-opacity="0"/></linearGradient></defs>
<rect x="0" y="0" width="300" height="100" fill="url(#fade)"/></svg>"""


@pytest.fixture(scope="module")
def figure_pdf() -> bytes:
    import weasyprint

    return weasyprint.HTML(string=FIGURE_HTML).write_pdf()


@pytest.fixture(scope="module")
def soft_mask_pdf() -> bytes:
    import weasyprint

    return weasyprint.HTML(string=SOFT_MASK_HTML).write_pdf()


@pytest.fixture(scope="module")
def figure_svg(figure_pdf) -> bytes:
    return media.pdf_to_svg(figure_pdf)


def jpeg_with_metadata() -> bytes:
    image = Image.new("RGB", (64, 32), BLUE)
    exif = Image.Exif()
    exif[0x013B] = AUTHOR  # Artist
    exif[0x0131] = "Camera firmware 1.0"  # Software
    exif[0x0112] = 6  # shown rotated a quarter turn clockwise
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{AUTHOR}</dc:creator></x:xmpmeta>'.encode()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, dpi=(300, 300), exif=exif, comment=AUTHOR.encode(), xmp=xmp)
    return buffer.getvalue()


def tiff_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "TIFF", **options)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------
# Sniffing


def raster(format_: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), RED).save(buffer, format_, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (raster("PNG"), "png"),
        (raster("JPEG"), "jpeg"),
        (raster("TIFF"), "tiff"),
        (raster("GIF"), "gif"),
        (raster("WEBP"), "webp"),
        (raster("BMP"), "bmp"),
        (CHART_SVG, "svg"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "pdf"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n", "eps"),
        (b"\xc5\xd0\xd3\xc6\x1e\x00\x00\x00", "eps"),
        (b"%!PS-Adobe-3.0\n%%Pages: 2\n", "ps"),
        (b"8BPS\x00\x01\x00\x00\x00\x00\x00\x00\x00\x03", "psd"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "avif"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjp2 ", "jp2"),
        (zlib.compress(CHART_SVG, wbits=31), "svgz"),
        (b"<!doctype html><html><body>not a figure</body></html>", "unknown"),
        (b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'/>", "unknown"),
        (b"hello", "unknown"),
        (b"", "unknown"),
    ],
)
def test_sniff_reads_magic_bytes(data, kind):
    assert media.sniff(data, "figure.png") == kind


def test_sniff_ignores_the_extension():
    assert media.sniff(raster("JPEG"), "figure.png") == "jpeg"
    assert media.sniff(CHART_SVG, "figure.pdf") == "svg"


@pytest.mark.parametrize(
    "prefix",
    [
        b"\xef\xbb\xbf",
        b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?>\n",
        b"<?xml version='1.0'?>\n<!-- drawn by hand -->\n<?xml-stylesheet href='a.css'?>\n",
        b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n',
        b"\n\n   ",
    ],
)
def test_sniff_svg_after_prolog(prefix):
    body = CHART_SVG.split(b"?>", 1)[1].lstrip()
    assert media.sniff(prefix + body, "f.svg") == "svg"


def test_sniff_svg_utf16_and_without_namespace():
    assert media.sniff(CHART_SVG.decode().replace("UTF-8", "UTF-16").encode("utf-16"), "f.svg") == "svg"
    assert media.sniff(b'<svg width="10" height="10"><rect width="5" height="5"/></svg>', "f.svg") == "svg"


def test_every_unsupported_kind_has_a_hint():
    unsupported = {"eps", "ps", "psd", "heic", "avif", "webp", "gif", "bmp", "jp2", "svgz"}
    assert set(media.UNSUPPORTED_HINTS) == unsupported
    assert "ps2pdf -dEPSCrop" in media.UNSUPPORTED_HINTS["eps"]
    for kind in unsupported:
        with pytest.raises(ConversionError, match="not accepted"):
            media.renditions_for(kind, FORMATS["html"].renditions)


# ---------------------------------------------------------------------------------------------------
# Inspecting


def test_inspect_raster_sizes_and_dpi():
    info = media.inspect(png_bytes(Image.new("RGB", (300, 200)), dpi=(300, 300)), "png")
    assert (info.width, info.height, info.unit, info.dpi) == (300, 200, "px", (300.0, 300.0))
    assert info.aspect == 1.5 and info.inches == (1.0, 200 / 300)
    assert media.inspect(png_bytes(Image.new("L", (10, 20))), "png").dpi is None
    assert media.inspect(raster("JPEG", dpi=(150, 150)), "jpeg").dpi == (150.0, 150.0)
    assert media.inspect(raster("JPEG"), "jpeg").dpi is None  # Pillow writes JFIF density 1:1, no unit
    rotated = media.inspect(jpeg_with_metadata(), "jpeg")
    assert (rotated.width, rotated.height) == (32, 64)  # EXIF orientation 6: shown upright, portrait
    pages = tiff_bytes(
        Image.new("RGB", (40, 30)), save_all=True, append_images=[Image.new("RGB", (5, 5))], dpi=(600, 600)
    )
    info = media.inspect(pages, "tiff")
    assert (info.width, info.height, info.pages, info.dpi) == (40, 30, 2, (600.0, 600.0))


@pytest.mark.parametrize(
    ("attributes", "size", "source"),
    [
        ('width="400" height="240"', (400, 240), "attributes"),
        ('width="400px" height="3in"', (400, 288), "attributes"),
        ('width="72pt" height="2.54cm"', (96, 96), "attributes"),
        ('width="25.4mm" height="1pc"', (96, 16), "attributes"),
        ('width="100%" height="100%" viewBox="0 0 300 100"', (300, 100), "viewBox"),
        ('viewBox="-10 -10 200,50"', (200, 50), "viewBox"),
        ('width="600" viewBox="0 0 300 100"', (600, 200), "attributes"),
        ('height="50mm" viewBox="0 0 200 100"', (100 * 96 / 25.4, 50 * 96 / 25.4), "attributes"),
        ('width="120"', (120, 150), "attributes"),
        ("", (300, 150), "default"),
    ],
)
def test_inspect_svg_intrinsic_size(attributes, size, source):
    info = media.inspect(f'<svg xmlns="{SVG_NS}" {attributes}/>'.encode(), "svg")
    assert info.width == pytest.approx(size[0]) and info.height == pytest.approx(size[1])
    assert (info.unit, info.size_source, info.dpi) == ("css-px", source, None)


def test_inspect_pdf_first_page_in_points(figure_pdf):
    info = media.inspect(figure_pdf, "pdf")
    assert info.width == pytest.approx(100 / 25.4 * 72, abs=0.01)
    assert info.height == pytest.approx(60 / 25.4 * 72, abs=0.01)
    assert (info.unit, info.pages, info.dpi) == ("pt", 1, None)
    assert info.aspect == pytest.approx(100 / 60, rel=1e-4)


# ---------------------------------------------------------------------------------------------------
# PDF


def test_pdf_to_svg_is_vector_with_text_as_glyphs(figure_pdf, figure_svg):
    root = etree.fromstring(figure_svg)
    assert root.tag == f"{{{SVG_NS}}}svg"
    box = [float(n) for n in root.get("viewBox").split()]
    assert box == pytest.approx([0, 0, 100 / 25.4 * 72, 60 / 25.4 * 72], abs=0.01)  # the page, in points
    assert not root.findall(f".//{{{SVG_NS}}}image")  # nothing rasterised
    glyphs = [s for s in root.iter(f"{{{SVG_NS}}}symbol") if s.get("id", "").startswith("glyph")]
    assert len(glyphs) >= len(set("Ketamine dose–response, n = 42".replace(" ", "")))
    assert root.findall(f".//{{{SVG_NS}}}path")
    assert AUTHOR.encode() not in figure_svg and b"Figure 1" not in figure_svg  # no PDF metadata


def test_pdf_to_svg_renders_the_rectangle_where_it_was(figure_svg):
    png = decode(media.svg_to_png(figure_svg, dpi=96))
    assert png.size == (math.ceil(100 / 25.4 * 96), math.ceil(60 / 25.4 * 96))
    mm = 96 / 25.4
    assert close(png.getpixel((int(25 * mm), int(20 * mm))), RED)  # centre of the box
    assert close(png.getpixel((int(5 * mm), int(5 * mm))), (255, 255, 255))  # outside it
    text_band = png.convert("L").crop((int(10 * mm), int(40 * mm), int(90 * mm), int(47 * mm)))
    assert text_band.getextrema()[0] < 80  # the text is drawn: dark pixels where it stands


def test_pdf_to_svg_soft_mask_survives(soft_mask_pdf):
    """cairo 1.16 writes a transparency gradient as a mask no renderer draws; the module rewrites it."""
    svg = media.pdf_to_svg(soft_mask_pdf)
    root = etree.fromstring(svg)
    assert not root.findall(f".//{{{SVG_NS}}}filter")
    assert all(image.get("transform") is None for image in root.iter(f"{{{SVG_NS}}}image"))
    png = decode(media.svg_to_png(svg, dpi=96)).convert("RGB")
    opaque_end, clear_end = png.getpixel((10, 50)), png.getpixel((290, 50))
    assert opaque_end[1] > 100 and opaque_end[0] < 40 and opaque_end[2] < 40  # green
    assert min(clear_end) > 230  # faded to white


def test_pdf_to_png_at_300_dpi(figure_pdf):
    data = media.pdf_to_png(figure_pdf, dpi=300)
    png = decode(data)
    assert png.size == (math.ceil(100 / 25.4 * 300), math.ceil(60 / 25.4 * 300))
    assert png.mode == "RGB" and png.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    mm = 300 / 25.4
    assert close(png.getpixel((int(25 * mm), int(20 * mm))), RED)
    assert set(chunk_types(data)) <= {b"IHDR", b"sRGB", b"pHYs", b"IDAT", b"IEND"}


def test_broken_pdf_raises_with_the_tools_message(figure_pdf):
    with pytest.raises(ConversionError, match=r"pdftocairo failed: .*(Syntax Error|Couldn't)"):
        media.pdf_to_svg(figure_pdf[:400])
    with pytest.raises(ConversionError, match="pdfinfo failed"):
        media.pdf_to_png(figure_pdf[:400])
    with pytest.raises(ConversionError):
        media.inspect(b"%PDF-1.7\n", "pdf")


def test_missing_tool_names_the_debian_package(figure_pdf, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without poppler-utils
    with pytest.raises(MissingTool) as caught:
        media.pdf_to_svg(figure_pdf)
    assert (caught.value.tool, caught.value.package) == ("pdftocairo", "poppler-utils")
    assert "apt-get install poppler-utils" in str(caught.value)


def test_huge_page_is_refused_before_rendering(figure_pdf, monkeypatch):
    monkeypatch.setattr(media, "MAX_PIXELS", 1000)
    with pytest.raises(ConversionError, match="pixels"):
        media.pdf_to_png(figure_pdf)


# ---------------------------------------------------------------------------------------------------
# SVG


def test_svg_to_png_size_and_colour():
    data = media.svg_to_png(CHART_SVG, dpi=300)
    png = decode(data)
    assert png.size == (1250, 750)  # 400 x 240 CSS px at 300 dpi
    assert close(png.getpixel((int(70 * 300 / 96), int(50 * 300 / 96))), RED)
    assert set(chunk_types(data)) <= {b"IHDR", b"sRGB", b"pHYs", b"IDAT", b"IEND"}


def test_clean_svg_removes_the_author_and_keeps_the_drawing():
    cleaned = media.clean_svg(INKSCAPE_SVG)
    for gone in (AUTHOR.encode(), b"jglowacka", b"sodipodi", b"inkscape", b"metadata", b"rdf", b"<!--", b"alert"):
        assert gone not in cleaned
    root = etree.fromstring(cleaned)
    rect = root.find(f".//{{{SVG_NS}}}rect")
    assert dict(rect.attrib) == {
        "id": "bar",
        "x": "5",
        "y": "5",
        "width": "30",
        "height": "20",
        "style": "fill:#1f77b4",
    }
    assert "".join(root.find(f".//{{{SVG_NS}}}text").itertext()) == "n = 42, p < 0.05"
    assert (root.get("width"), root.get("viewBox"), root.find(f"{{{SVG_NS}}}g").get("id")) == (
        "80mm",
        "0 0 80 40",
        "layer1",
    )
    png = decode(media.svg_to_png(cleaned, dpi=96))
    assert png.size == (math.ceil(80 * 96 / 25.4), math.ceil(40 * 96 / 25.4))
    assert close(png.getpixel((int(20 * 96 / 25.4), int(15 * 96 / 25.4))), BLUE)


def test_clean_svg_expands_internal_entities_and_refuses_external_ones(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    illustrator = (
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY ns_svg "http://www.w3.org/2000/svg">'
        b'<!ENTITY label "Fig. 1">]><svg xmlns="&ns_svg;" width="10" height="10"><text>&label;</text></svg>'
    )
    cleaned = media.clean_svg(illustrator)
    assert b"<text>Fig. 1</text>" in cleaned and b"DOCTYPE" not in cleaned
    external = (
        f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        f'<svg xmlns="{SVG_NS}"><text>&x;</text></svg>'
    ).encode()
    with pytest.raises(ConversionError, match="not well-formed"):
        media.clean_svg(external)


def test_clean_svg_adds_the_missing_namespace():
    cleaned = media.clean_svg(b'<svg width="10" height="10"><rect width="5" height="5" fill="red"/></svg>')
    root = etree.fromstring(cleaned)
    assert root.tag == f"{{{SVG_NS}}}svg" and root[0].tag == f"{{{SVG_NS}}}rect" and root.prefix is None


def test_svg_that_loads_other_files_is_refused(tmp_path):
    picture = tmp_path / "p.png"
    picture.write_bytes(raster("PNG"))
    svg = f'<svg xmlns="{SVG_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">'
    svg += f'<image width="10" height="10" xlink:href="{picture.as_uri()}"/></svg>'
    with pytest.raises(ConversionError, match="WeasyPrint could not draw"):
        media.svg_to_png(svg.encode(), dpi=96)


def test_not_an_svg():
    with pytest.raises(ConversionError, match="not <svg>"):
        media.clean_svg(b"<html/>")
    with pytest.raises(ConversionError, match="well-formed"):
        media.clean_svg(CHART_SVG[:200])


# ---------------------------------------------------------------------------------------------------
# Raster


def test_tiff_to_png_keeps_dpi_and_takes_the_first_page():
    first = Image.new("RGB", (40, 30), RED)
    data = tiff_bytes(first, save_all=True, append_images=[Image.new("RGB", (5, 5), BLUE)], dpi=(600, 600))
    png = decode(media.tiff_to_png(data))
    assert (png.size, png.mode, png.getpixel((0, 0))) == ((40, 30), "RGB", RED)
    assert png.info["dpi"] == pytest.approx((600, 600), abs=0.01)


def test_tiff_to_png_16_bit_stays_16_bit():
    image = Image.new("I;16", (4, 4))
    image.putpixel((1, 1), 40000)
    png = decode(media.tiff_to_png(tiff_bytes(image)))
    assert png.mode in ("I;16", "I", "I;16B") and png.getpixel((1, 1)) == 40000


def test_tiff_to_png_cmyk_becomes_rgb():
    png = decode(media.tiff_to_png(tiff_bytes(Image.new("CMYK", (4, 4), (0, 255, 255, 0)))))
    assert png.mode == "RGB" and close(png.getpixel((0, 0)), (255, 0, 0), tolerance=2)
    assert media.inspect(tiff_bytes(Image.new("CMYK", (4, 4))), "tiff").dpi is None


def test_tiff_to_png_turns_it_upright():
    image = Image.new("RGB", (20, 10), RED)
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[0x0112] = 6
    info[0x013B] = "Julia Glowacka"  # Artist
    data = media.tiff_to_png(tiff_bytes(image, tiffinfo=info))
    assert decode(data).size == (10, 20)
    assert b"Glowacka" not in data and set(chunk_types(data)) <= {b"IHDR", b"IDAT", b"IEND"}


def test_float_tiff_is_refused():
    with pytest.raises(ConversionError, match="8- or 16-bit"):
        media.tiff_to_png(tiff_bytes(Image.new("F", (4, 4), 0.5)))


def test_clean_png_drops_text_and_keeps_pixels():
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Author", AUTHOR)
    text.add_itxt("Description", f"drawn by {AUTHOR}")
    image = Image.new("RGBA", (16, 8), (*RED, 128))
    original = png_bytes(image, pnginfo=text, dpi=(300, 300))
    cleaned = media.clean_raster(original, "png")
    assert AUTHOR.encode("latin-1", "replace") not in cleaned and "Głowacka".encode() not in cleaned
    assert b"tEXt" not in chunk_types(cleaned) and b"iTXt" not in chunk_types(cleaned)
    assert decode(cleaned).tobytes() == image.tobytes()
    assert decode(cleaned).info["dpi"] == pytest.approx((300, 300), abs=0.01)


def test_clean_jpeg_drops_metadata_keeps_orientation_and_pixels():
    original = jpeg_with_metadata()
    assert AUTHOR.encode() in original
    cleaned = media.clean_raster(original, "jpeg")
    assert AUTHOR.encode() not in cleaned and b"firmware" not in cleaned and b"xmpmeta" not in cleaned
    image = decode(cleaned)
    assert image.tobytes() == decode(original).tobytes()  # the same compressed data: no loss
    assert dict(image.getexif()) == {0x0112: 6}
    assert image.info["dpi"] == (300, 300)


def test_clean_raster_refuses_truncated_files():
    with pytest.raises(ConversionError, match="truncated"):
        media.clean_raster(raster("PNG")[:-20], "png")
    with pytest.raises(ConversionError, match="truncated"):
        media.clean_raster(raster("JPEG")[:-10], "jpeg")


# ---------------------------------------------------------------------------------------------------
# Determinism, choosing, caching


def test_conversions_are_deterministic(figure_pdf):
    tiff = tiff_bytes(Image.new("RGB", (30, 20), RED), dpi=(300, 300))
    cases = [
        (figure_pdf, "pdf", "svg"),
        (figure_pdf, "pdf", "png"),
        (CHART_SVG, "svg", "png"),
        (INKSCAPE_SVG, "svg", "svg"),
        (tiff, "tiff", "png"),
        (jpeg_with_metadata(), "jpeg", "jpeg"),
    ]
    for data, kind, target in cases:
        first, second = media.convert(data, kind, target, dpi=150), media.convert(data, kind, target, dpi=150)
        assert first == second, (kind, target)


@pytest.mark.parametrize(
    ("kind", "format_", "target"),
    [
        ("pdf", "html", "svg"),
        ("pdf", "pdf", "svg"),
        ("pdf", "docx", "png"),
        ("svg", "html", "svg"),
        ("svg", "docx", "png"),
        ("tiff", "html", "png"),
        ("tiff", "docx", "png"),
        ("png", "docx", "png"),
        ("jpeg", "pdf", "jpeg"),
        ("jpeg", "docx", "jpeg"),
    ],
)
def test_renditions_for(kind, format_, target):
    assert media.renditions_for(kind, FORMATS[format_].renditions) == target
    assert (kind, target) in media.CONVERSIONS


def test_renditions_for_a_format_that_takes_nothing_suitable():
    with pytest.raises(ConversionError, match="cannot show"):
        media.renditions_for("pdf", ("jpeg",))


def test_cache_converts_an_unchanged_figure_once(figure_pdf, tmp_path, monkeypatch):
    cache = RenditionCache(tmp_path / ".press-media")
    first = cache.get(figure_pdf, "pdf", "svg")
    assert (cache.hits, cache.misses) == (0, 1)

    def no_conversion(*args, **kwargs):
        raise AssertionError("an unchanged figure was converted again")

    monkeypatch.setattr(media, "convert", no_conversion)
    again = RenditionCache(tmp_path / ".press-media")  # the next build
    assert again.get(figure_pdf, "pdf", "svg") == first
    assert (again.hits, again.misses) == (1, 0)
    assert [p.suffix for p in (tmp_path / ".press-media").iterdir()] == [".svg"]  # no temporary file left


def test_cache_key_depends_on_input_conversion_and_dpi(figure_pdf):
    cache = RenditionCache("unused")
    key = cache.key(figure_pdf, "pdf", "png", dpi=300)
    assert key == cache.key(figure_pdf, "pdf", "png", dpi=300)
    assert key != cache.key(figure_pdf, "pdf", "png", dpi=150)
    assert key != cache.key(figure_pdf, "pdf", "svg")
    assert key != cache.key(figure_pdf + b"\n", "pdf", "png", dpi=300)


def test_cache_recomputes_a_damaged_file(tmp_path):
    cache = RenditionCache(tmp_path)
    data = tiff_bytes(Image.new("RGB", (8, 8), RED))
    good = cache.get(data, "tiff", "png")
    (path,) = tmp_path.iterdir()
    path.write_bytes(path.read_bytes()[:-5])  # truncated, as by a crash or a full disk
    assert cache.get(data, "tiff", "png") == good
    assert (cache.hits, cache.misses) == (0, 2)
    assert cache.get(data, "tiff", "png") == good and cache.hits == 1


def test_retarget_copies_only_the_way_to_what_changes_and_leaves_the_document_as_it_is():
    # press.ast.replaced: every rendering starts from the one document, and none may change it.
    import copy as copying

    from press.ast import elements, replaced

    math = {"t": "Math", "c": [{"t": "InlineMath"}, "x"]}
    shared = [math]  # one list standing in two places: replaced in both
    untouched = {"t": "Para", "c": [{"t": "Str", "c": "plain"}]}
    caption = [{"t": "Math", "c": [{"t": "InlineMath"}, "y"]}]
    blocks = [
        {"t": "Para", "c": shared},
        {"t": "Plain", "c": shared},
        untouched,
        {"t": "Para", "c": [{"t": "Image", "c": [["", [], []], caption, ["a.png", ""]]}]},
        {"t": "Div", "c": [["", [], []], [{"t": "Cite", "c": [[{"citationId": "k", "citationPrefix": [math]}], []]}]]},
    ]
    before = copying.deepcopy(blocks)

    def typeset(element: dict) -> dict | None:
        if element["t"] == "Math":
            return {"t": "RawInline", "c": ["html", element["c"][1]]}
        if element["t"] == "Image":  # a new element is walked into: its caption's math is replaced too
            return {"t": "Image", "c": [element["c"][0], element["c"][1], ["b.png", ""]]}
        return None

    after = replaced(blocks, typeset)
    assert blocks == before
    assert [e["c"][1] for e in elements(after) if e["t"] == "RawInline"] == ["x", "x", "y"]
    assert after[2] is untouched and after[4] is blocks[4]  # a citation's own fields are not walked, as by elements
    assert replaced(blocks, lambda element: None) is blocks
