"""Make templates/fonts/: the PDF's faces as WOFF2 for the article page, with their licence.

Run: python scripts/make_web_fonts.py   (the result is checked in; rerun after a font package update)

The page and the PDF are set in the same faces: each TrueType file of press.fonts.FAMILIES, from
the pinned font packages, is re-wrapped as WOFF2 (Brotli-compressed, the same glyphs and tables),
and each family's SIL Open Font License text goes beside them (OFL-<family>.txt). Converting at build time would cost
every clean build seconds of Brotli; converted once here, the build only copies. Deterministic:
the font's own timestamps are kept, so equal packages give equal files.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools.ttLib import TTFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from press.fonts import FAMILIES, licence_name, package_dir  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "templates" / "fonts"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for family, (package, faces) in FAMILIES.items():
        folder = package_dir(package)
        licence = licence_name(family)
        (OUT / licence).write_bytes((folder / "LICENSE.txt").read_bytes())
        print(f"templates/fonts/{licence}")
        for stem, _weight, _style in faces:
            font = TTFont(folder / f"{stem}.ttf", recalcTimestamp=False)
            font.flavor = "woff2"
            font.save(OUT / f"{stem}.woff2", reorderTables=True)
            print(f"templates/fonts/{stem}.woff2  {(OUT / f'{stem}.woff2').stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
