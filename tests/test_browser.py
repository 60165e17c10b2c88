"""The preview in a real browser: Playwright driving Debian's Chromium against `python build.py serve`.

One server (on a temporary copy of the shipped manuscript) and one browser for the whole module.
Without /usr/bin/chromium these tests are skipped, or fail under CI, saying how to install it.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import LICENSE_URL, ROOT, copy_project
from test_preview import ServeProcess, edit

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
INSTALL_HINT = "Chromium is missing at /usr/bin/chromium: install it with `apt-get install chromium`"
RELOAD_TIMEOUT_MS = 20_000  # a rebuild takes about a second; leave room for a loaded CI machine


def unavailable(message: str) -> None:
    """Fail under CI (where the browser must be there), skip on a developer's machine without it."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        unavailable(INSTALL_HINT)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is missing: `.venv/bin/pip install -e '.[test]'`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served(browser, tmp_path_factory) -> Iterator[ServeProcess]:
    project = copy_project(ROOT, tmp_path_factory.mktemp("browser") / "project")
    server = ServeProcess(project, project / "build")
    if not any(line.startswith("built the HTML") for line in server.lines):
        server.stop()
        pytest.fail("the first build of the shipped manuscript failed:\n" + "\n".join(server.lines))
    yield server
    server.stop()


@pytest.fixture
def page(browser, served: ServeProcess):
    """A fresh desktop-sized tab on the served article; console errors are collected in page.problems."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    tab.on("pageerror", lambda exc: problems.append(str(exc)))
    tab.problems = problems
    tab.goto(served.url)
    yield tab
    context.close()


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_page_loads_with_no_console_errors(page):
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)  # the event stream connects after load
    assert page.title().startswith("Ketamine as an optional treatment")
    assert page.problems == []


def test_the_page_is_set_in_the_pdf_faces_loaded_from_beside_it(page):
    page.wait_for_load_state("load")
    loaded = page.evaluate(
        "async () => { await document.fonts.ready; return [...document.fonts]"
        ".filter(f => f.status === 'loaded').map(f => `${f.family} ${f.weight} ${f.style}`) }"
    )
    assert {"Source Serif Pro 400 normal", "Source Sans Pro 700 normal"} <= set(loaded), loaded
    body = page.evaluate("getComputedStyle(document.querySelector('.body p')).fontFamily")
    assert body.startswith('"Source Serif Pro"')
    assert page.problems == []


def test_clicking_a_citation_brings_its_reference_into_view(page):
    from playwright.sync_api import expect

    citation = page.locator(".body a[role='doc-biblioref']").first
    target = citation.get_attribute("href")
    reference = page.locator(f"[id='{target[1:]}']")
    expect(reference).not_to_be_in_viewport()
    citation.click()
    expect(reference).to_be_in_viewport()
    assert page.url.endswith(target)


def test_a_reference_links_back_to_where_it_is_cited(page):
    from playwright.sync_api import expect

    backlink = page.locator("#refs .backrefs a").first
    anchor = page.locator(f"[id='{backlink.get_attribute('href')[1:]}']")
    backlink.click()
    expect(anchor).to_be_in_viewport()
    assert anchor.locator("a[role='doc-biblioref']").count() >= 1


def test_hovering_or_focusing_a_citation_shows_its_reference(page):
    from playwright.sync_api import expect

    citation = page.locator(".body a[role='doc-biblioref']").first
    entry = page.locator(f"[id='{citation.get_attribute('href')[1:]}']")
    entry_start = " ".join(entry.inner_text().split())[:40]
    tooltip = page.locator("#ref-tooltip")
    citation.hover()
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text(entry_start)
    assert "↩" not in tooltip.inner_text()  # the back-links are not part of the reference
    page.mouse.move(0, 0)
    expect(tooltip).to_be_hidden()
    citation.focus()
    expect(tooltip).to_be_visible()
    assert citation.get_attribute("aria-describedby") == "ref-tooltip"
    page.keyboard.press("Escape")
    expect(tooltip).to_be_hidden()


def test_the_licence_link_is_visible_on_the_first_screen(page):
    from playwright.sync_api import expect

    licence = page.locator(f".front a[rel='license'][href='{LICENSE_URL}']")
    expect(licence).to_be_visible()
    expect(licence).to_be_in_viewport()
    expect(page.locator(f".license a[href='{LICENSE_URL}']").first).to_be_visible()


def test_copy_citation_puts_the_how_to_cite_text_on_the_clipboard(page, served: ServeProcess):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=served.url.rstrip("/"))
    button = page.get_by_role("button", name="Copy citation")
    button.click()
    page.wait_for_function("document.querySelector('button.copy').textContent === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == " ".join(page.locator("#how-to-cite").inner_text().split())
    assert copied.startswith("Spitaleri, M., Kanon, K.")


def test_the_page_fits_a_360_px_phone_without_sideways_scrolling(page):
    # 320 px: the narrowest phones, and what is left of 360 px beside a classic scrollbar.
    page.set_viewport_size({"width": 320, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # The wide evidence table scrolls inside its own region instead.
    region = page.locator(".table-wrap").first
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")
    assert region.get_attribute("tabindex") == "0"
    font_px = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.body p')).fontSize)")
    assert font_px >= 16


def test_screenshots_of_the_first_screen_at_desktop_and_phone_widths(page, tmp_path: Path):
    desktop = tmp_path / "first-screen-1280.png"
    page.screenshot(path=desktop)
    page.set_viewport_size({"width": 360, "height": 740})
    phone = tmp_path / "first-screen-360.png"
    page.screenshot(path=phone)
    assert png_size(desktop) == (1280, 800)
    assert png_size(phone) == (360, 740)
    assert page.problems == []


def test_print_stylesheet_hides_the_screen_only_parts(page):
    page.emulate_media(media="print")
    for selector in (".toc", "button.copy", ".backrefs"):
        assert page.locator(selector).first.is_hidden(), selector
    assert page.locator(".body").is_visible()


# These edit the served project: each puts the file back before it ends.


def test_editing_a_section_changes_the_page_without_a_manual_reload(page, served: ServeProcess):
    from playwright.sync_api import expect

    page.evaluate("window.pressMarker = 'before'")  # survives only as long as this document
    section = served.project / "manuscript" / "01-introduction.md"
    original = section.read_text(encoding="utf-8")
    try:
        edit(
            section,
            "Chronic pain is one of the most frequent",
            "Chronic pain, edited live, is one of the most frequent",
        )
        expect(page.locator(".body")).to_contain_text("Chronic pain, edited live,", timeout=RELOAD_TIMEOUT_MS)
        assert page.evaluate("window.pressMarker") is None  # the page reloaded itself
    finally:
        section.write_text(original, encoding="utf-8")
    expect(page.locator(".body")).not_to_contain_text("edited live", timeout=RELOAD_TIMEOUT_MS)


def test_a_broken_citation_key_shows_an_overlay_and_fixing_it_clears_it(page, served: ServeProcess):
    from playwright.sync_api import expect

    section = served.project / "manuscript" / "05-safety.md"
    original = section.read_text(encoding="utf-8")
    key = re.search(r"@([A-Za-z][\w-]*\d{4}\w*)", original).group(1)
    overlay = page.locator("#press-overlay")
    try:
        section.write_text(original.replace(f"@{key}", f"@{key}x", 1), encoding="utf-8")
        expect(overlay).to_be_visible(timeout=RELOAD_TIMEOUT_MS)
        expect(overlay).to_contain_text(f"unresolved citation '{key}x'")
        expect(overlay).to_contain_text("manuscript/05-safety.md:")
        expect(page.locator(".body")).to_be_visible()  # the last good page stays underneath
    finally:
        section.write_text(original, encoding="utf-8")
    expect(overlay).to_have_count(0, timeout=RELOAD_TIMEOUT_MS)
    assert page.problems == []


def test_the_overlay_shows_diagnostic_text_as_text_never_as_markup(page, served: ServeProcess):
    from playwright.sync_api import expect

    metadata = served.project / "manuscript" / "metadata.yaml"
    original = metadata.read_text(encoding="utf-8")
    overlay = page.locator("#press-overlay")
    try:
        metadata.write_text(original + '"<img src=x onerror=window.pwned=1><b>bold</b>": 1\n', encoding="utf-8")
        expect(overlay).to_contain_text("<b>bold</b>", timeout=RELOAD_TIMEOUT_MS)
        expect(overlay).to_contain_text("manuscript/metadata.yaml:")
        assert overlay.locator("b, img").count() == 0
        assert page.evaluate("window.pwned") is None
    finally:
        metadata.write_text(original, encoding="utf-8")
    expect(overlay).to_have_count(0, timeout=RELOAD_TIMEOUT_MS)
