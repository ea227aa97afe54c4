"""The JavaScript the browser tests run in the page (tests/helpers/js/), checked in Chromium on
drawings whose geometry is known here: what it measures must be what was drawn."""
from __future__ import annotations

from typing import Any

import pytest

from helpers.lab_page import (BAR_HEIGHTS_JS, CANVAS_STATS_JS, IMAGE_STATS_JS, JS_DIR, drawn,
                              page_script)

EMPTY = {"width": 0, "height": 0, "ink": 0, "colors": 0}


def test_page_scripts_are_read_from_the_package_folder():
    assert JS_DIR.name == "js" and JS_DIR.parent.name == "helpers"
    text = page_script("canvas_stats")
    assert text == (JS_DIR / "canvas_stats.js").read_text(encoding="utf-8").strip()
    assert "(canvas) =>" in text
    with pytest.raises(FileNotFoundError, match="no page script 'nope'.*canvas_stats"):
        page_script("nope")


@pytest.mark.browser
def test_page_scripts_measure_known_drawings(page: Any) -> None:
    page.set_content("<!doctype html><html><body></body></html>")
    page.evaluate(page_script("draw_known_figures"))
    page.wait_for_function("() => document.getElementById('copy').naturalWidth > 0")

    # two 10 x 10 squares on 100 x 50: 200 of 5000 pixels; white, red and blue
    ink = page.locator("#ink").evaluate(CANVAS_STATS_JS)
    assert ink == {"width": 100, "height": 50, "ink": 200 / 5000, "colors": 3}
    assert drawn(ink)
    blank = page.locator("#blank").evaluate(CANVAS_STATS_JS)
    assert blank == {"width": 100, "height": 50, "ink": 0, "colors": 1}
    assert not drawn(blank)

    # the same picture as a PNG <img>; an <img> without a picture measures as nothing
    assert page.locator("#copy").evaluate(IMAGE_STATS_JS) == ink
    assert page.locator("#empty").evaluate(IMAGE_STATS_JS) == EMPTY

    # two bars (the one-column stray is left out); a colour that is not there finds none
    bars_canvas = page.locator("#bars").element_handle()
    bars = page.evaluate(BAR_HEIGHTS_JS, [bars_canvas, [0x00, 0x96, 0xFF], 12])
    assert bars == [{"start": 10, "end": 30, "height": 40}, {"start": 50, "end": 60, "height": 70}]
    assert page.evaluate(BAR_HEIGHTS_JS, [bars_canvas, [0xFF, 0x00, 0x00], 12]) == []
