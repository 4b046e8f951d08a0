"""The HTML reports as a reader sees them: headless Chromium at 1400, 1024 and 420 pixels.

Each shipped page of ``reports/`` (and a ``show --format html`` page) is laid out by Chromium
at the three widths (:mod:`browser`): nothing may stick out of the page (a wide table scrolls
inside its own box, a chart that would get too small to read scrolls inside its figure), no two
texts of a chart may sit on one another, chart text stays legible, every link of the contents
leads somewhere, and a full-page screenshot is taken (kept in ``$ROUNDTRIP_SCREENSHOTS`` when
set, to look at). Without a browser these tests skip, saying so, except in CI (``CI`` set),
where ``.ci/run`` installs Debian's ``chromium`` and a missing browser is a failure.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from browser import WIDTHS, chromium, png_size, probe, screenshot
from typer.testing import CliRunner

from ledger.cli import app

REPO = Path(__file__).parent.parent
PAGES = sorted((REPO / "reports").glob("*.html"))
#: Chart text (its glyph box, in CSS pixels) is never smaller than this.
LEGIBLE = 9.0
#: A page taller than this (at 1400 px) has a list of contents.
LONG = 2500


def _no_browser() -> None:
    if chromium() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium (.ci/run installs Debian's chromium)")
        pytest.skip("no Chromium installed (apt-get install chromium): pages not checked")


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("pages")
    deals = out / "show-deals.html"
    result = CliRunner().invoke(app, ["show", str(REPO / "books"), "deals", "-f", "html"])
    assert result.exit_code == 0, result.output
    deals.write_text(result.stdout, encoding="utf-8")
    return [*PAGES, deals]


@pytest.fixture(scope="module")
def seen(pages, tmp_path_factory) -> dict[tuple[str, int], tuple[dict, Path]]:
    """Every page at every width: the probe and a full-page screenshot (in parallel)."""
    _no_browser()
    shots = Path(os.environ.get("ROUNDTRIP_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))

    def look(job: tuple[Path, int]) -> tuple[tuple[str, int], tuple[dict, Path]]:
        page, width = job
        found = probe(page, width)
        png = screenshot(page, width, shots / f"{page.stem}-{width}.png", found["height"])
        return (page.name, width), (found, png)

    jobs = [(page, width) for page in pages for width in WIDTHS]
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(look, jobs))


CASES = [(page.name, width) for page in [*PAGES, Path("show-deals.html")] for width in WIDTHS]
IDS = [f"{name}-{width}" for name, width in CASES]


def test_reports_have_html_pages_to_check():
    assert {"audit.html", "audit-fail-openai.html", "net-max-realized.html"} <= {
        p.name for p in PAGES
    }


@pytest.mark.parametrize(("name", "width"), CASES, ids=IDS)
def test_page_has_the_width_of_the_window_and_nothing_sticks_out(seen, name, width):
    found, _ = seen[(name, width)]
    assert found["viewport"] == width
    assert found["scrollWidth"] <= width
    assert found["overflowing"] == []


@pytest.mark.parametrize(("name", "width"), CASES, ids=IDS)
def test_tables_scroll_inside_their_box(seen, name, width):
    found, _ = seen[(name, width)]
    assert found["tables"]
    for table in found["tables"]:
        assert table["boxed"]
        assert table["box"] <= table["body"]


@pytest.mark.parametrize(("name", "width"), CASES, ids=IDS)
def test_charts_use_the_page_width_and_stay_legible(seen, name, width):
    found, _ = seen[(name, width)]
    for figure in found["figures"]:
        # About the page's width (a small drawing is not blown up past 1.6 times its size),
        # or wider than its box when that would make its text too small: then it scrolls.
        assert figure["svg"] >= 0.85 * figure["figure"] or figure["svg"] > figure["figure"]
    if found["texts"]:
        assert found["smallest"] >= LEGIBLE


@pytest.mark.parametrize(("name", "width"), CASES, ids=IDS)
def test_no_two_texts_of_a_chart_overlap(seen, name, width):
    found, _ = seen[(name, width)]
    assert found["overlaps"] == []


@pytest.mark.parametrize(("name", "width"), CASES, ids=IDS)
def test_every_contents_link_leads_to_its_section(seen, name, width):
    found, _ = seen[(name, width)]
    assert found["missing"] == []
    if width == 1400 and found["height"] > LONG:
        assert found["anchors"], "a long page has a list of contents"


@pytest.mark.parametrize(("name", "width"), CASES, ids=IDS)
def test_a_full_page_screenshot_is_taken(seen, name, width):
    found, png = seen[(name, width)]
    shot_width, shot_height = png_size(png)
    assert shot_width >= width
    assert shot_height >= min(found["height"], 16_000)
