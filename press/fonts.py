"""The PDF's fonts: Source Serif Pro and Source Sans Pro (SIL OFL 1.1), from pinned PyPI packages."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

# family -> (package, [(file stem, weight, style)])
FAMILIES = {
    "Source Serif Pro": (
        "font_source_serif_pro",
        [
            ("SourceSerifPro-Regular", 400, "normal"),
            ("SourceSerifPro-It", 400, "italic"),
            ("SourceSerifPro-Semibold", 600, "normal"),
            ("SourceSerifPro-SemiboldIt", 600, "italic"),
            ("SourceSerifPro-Bold", 700, "normal"),
            ("SourceSerifPro-BoldIt", 700, "italic"),
        ],
    ),
    "Source Sans Pro": (
        "font_source_sans_pro",
        [
            ("SourceSansPro-Regular", 400, "normal"),
            ("SourceSansPro-It", 400, "italic"),
            ("SourceSansPro-Semibold", 600, "normal"),
            ("SourceSansPro-Bold", 700, "normal"),
            ("SourceSansPro-BoldIt", 700, "italic"),
        ],
    ),
}


def web_font_files() -> tuple[str, ...]:
    """The article page's copies of the same faces (templates/fonts/, made by scripts/make_web_fonts.py),
    each family's licence among them, as names inside the templates folder."""
    names = [f"fonts/{stem}.woff2" for _package, faces in FAMILIES.values() for stem, _, _ in faces]
    return tuple(names + [f"fonts/{licence_name(family)}" for family in FAMILIES])


def licence_name(family: str) -> str:
    return f"OFL-{family.replace(' ', '')}.txt"


def web_font_face_css() -> str:
    """@font-face rules for the article page, whose fonts/ folder is published beside it."""
    return "\n".join(
        f'@font-face {{ font-family: "{family}"; src: url("fonts/{stem}.woff2") format("woff2"); '
        f"font-weight: {weight}; font-style: {style}; font-display: swap; }}"
        for family, (_package, faces) in FAMILIES.items()
        for stem, weight, style in faces
    )


def package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"font package '{package}' is not installed (pip install -e . installs it)")
    return Path(spec.origin).parent / "files"


@functools.cache
def font_dirs() -> tuple[Path, ...]:
    return tuple(package_dir(package) for package, _ in FAMILIES.values())


@functools.cache
def font_files() -> tuple[Path, ...]:
    return tuple(package_dir(package) / f"{stem}.ttf" for package, faces in FAMILIES.values() for stem, _, _ in faces)


@functools.cache
def font_face_css() -> str:
    rules = []
    for family, (package, faces) in FAMILIES.items():
        folder = package_dir(package)
        for stem, weight, style in faces:
            url = (folder / f"{stem}.ttf").as_uri()
            rules.append(
                f'@font-face {{ font-family: "{family}"; src: url("{url}"); '
                f"font-weight: {weight}; font-style: {style}; }}"
            )
    return "\n".join(rules)
