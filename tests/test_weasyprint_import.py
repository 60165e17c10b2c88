"""WeasyPrint imported with its C libraries found in one ldconfig listing: the same libraries as the
usual import, without the compiler probes."""

from __future__ import annotations

import ctypes.util
import subprocess
import sys

import pytest

from press.writers.pdf import _find_library_in_listing

# The names WeasyPrint's text.ffi tries that ldconfig knows on Linux.
LIBRARIES = ["gobject-2.0", "pango-1.0", "harfbuzz", "harfbuzz-subset", "fontconfig", "pangoft2-1.0"]

LOADED = """
import sys
{setup}
from weasyprint.text import ffi
names = []
for library in (ffi.gobject, ffi.pango, ffi.harfbuzz, ffi.harfbuzz_subset, ffi.fontconfig, ffi.pangoft2):
    names.append(type(library).__name__ if library is not None else None)
print(ffi.pango.pango_version(), ffi.harfbuzz_subset is not None, names)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ldconfig is Linux's")
@pytest.mark.parametrize("name", LIBRARIES)
def test_the_listing_finds_what_ctypes_finds(name: str):
    assert _find_library_in_listing(name) == ctypes.util.find_library(name)


def test_a_name_ldconfig_does_not_know_is_not_found():
    assert _find_library_in_listing("libgobject-2.0-0") is None


def test_the_import_loads_the_same_libraries_as_the_usual_one():
    def run(setup: str) -> str:
        code = LOADED.format(setup=setup)
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout

    ours = run("from press.writers.pdf import import_weasyprint; import_weasyprint()")
    assert ours == run("")
    assert "True" in ours, "HarfBuzz's subsetter is loaded: fonts are subset as usual"
