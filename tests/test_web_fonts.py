"""The article page is set in the PDF's own faces: WOFF2 copies published beside it, with their licence."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import FIXTURES, copy_project
from fontTools.ttLib import TTFont

from press.build import build
from press.fonts import FAMILIES, package_dir, web_font_files

FACES = [(package, stem) for package, faces in FAMILIES.values() for stem, _, _ in faces]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    project = copy_project(FIXTURES / "minimal", tmp_path_factory.mktemp("fonts") / "project")
    out = project / "build"
    build(project, out, ["html"])
    return out


@pytest.mark.parametrize(("package", "stem"), FACES, ids=[stem for _, stem in FACES])
def test_each_face_is_published_as_woff2_with_the_glyphs_of_the_pdf_face(built: Path, package: str, stem: str):
    web = TTFont(io.BytesIO((built / "fonts" / f"{stem}.woff2").read_bytes()))
    assert web.flavor == "woff2"
    printed = TTFont(package_dir(package) / f"{stem}.ttf")
    assert web.getBestCmap() == printed.getBestCmap()
    assert all(ord(letter) in web.getBestCmap() for letter in "ąęłóśżźćńéàçüĄĘŁ")


def test_the_page_names_every_face_and_the_licences_go_with_them(built: Path):
    page = next(built.glob("*.html")).read_text(encoding="utf-8")
    for name in web_font_files():
        assert (built / name).is_file(), name
        if name.endswith(".woff2"):
            assert f'url("{name}")' in page
    licences = [built / name for name in web_font_files() if name.endswith(".txt")]
    assert len(licences) == len(FAMILIES)
    assert all("SIL Open Font License" in path.read_text(encoding="utf-8") for path in licences)


def test_a_damaged_font_beside_the_page_is_published_again(tmp_path: Path):
    project = copy_project(FIXTURES / "minimal", tmp_path / "project")
    out = project / "build"
    build(project, out, ["html"])
    font = out / "fonts" / "SourceSerifPro-Regular.woff2"
    good = font.read_bytes()
    font.write_bytes(good[:100])
    result = build(project, out, ["html"])
    assert (
        result.rebuilt == ["html"]
        and result.outputs[0].reason == "fonts/SourceSerifPro-Regular.woff2 changed since it was built"
    )
    assert font.read_bytes() == good
    assert build(project, out, ["html"]).rebuilt == []
