"""The report charts are well-formed, deterministic SVG that a reader can make sense of.

The SVG keeps its text as ``<text>`` elements (``svg.fonttype`` none), so the tests read names,
labels and tick figures straight from the XML, and node circles from their path outlines.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import matplotlib
import pytest
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from ledger import charts

SVG = "{http://www.w3.org/2000/svg}"
B = Decimal(10**9)

# The shipped web's names, among them those the reviewer saw cut off, and 12 of them in all.
TWELVE = [
    "AMD",
    "Amazon",
    "CoreWeave",
    "Intel",
    "Microsoft",
    "Nvidia",
    "OpenAI",
    "Oracle",
    "USGov",
    "xAI",
    "xAI-SPV",
    "SoftBank",
]

WEB_EDGES = [
    ("Nvidia", "OpenAI", 100 * B, "equity", True),
    ("OpenAI", "Nvidia", 350 * B, "sale", True),
    ("OpenAI", "Oracle", 300 * B, "cloud", True),
    ("Oracle", "Nvidia", 40 * B, "sale", True),
    ("Nvidia", "CoreWeave", Decimal("0.35") * B, "equity", True),
    ("Nvidia", "CoreWeave", Decimal("0.29") * B, "cloud", True),
    ("CoreWeave", "Nvidia", 13 * B, "sale", True),
    ("Microsoft", "OpenAI", 13 * B, "equity", True),
    ("OpenAI", "Microsoft", 250 * B, "cloud", True),
    ("OpenAI", "AMD", 60 * B, "sale", False),
    ("OpenAI", "Amazon", 38 * B, "cloud", False),
    ("USGov", "Intel", Decimal("8.9") * B, "equity", False),
    ("xAI", "xAI-SPV", 25 * B, "lease", False),
    ("xAI-SPV", "Nvidia", 20 * B, "sale", True),
    ("SoftBank", "OpenAI", 30 * B, "equity", False),
]


def _web(nodes=TWELVE, edges=WEB_EDGES, marked=()) -> str:
    return charts.web_drawing(sorted(nodes), edges, "The deal web", marked)


def _bars() -> str:
    return charts.stacked_bars(
        ["Amazon", "Nvidia"],
        [
            ("organic", [676 * B, 446 * B], charts.ORGANIC),
            ("circular", [Decimal(0), 102 * B], charts.CIRCULAR),
        ],
        "Revenue per company (USD): organic vs circular",
    )


def _bar() -> str:
    return charts.bar_chart(
        ["OpenAI", "Oracle"], [636 * B, 40 * B], "Systemic impact", charts.CIRCULAR, prefix="$"
    )


def _texts(svg: str) -> list[tuple[str, float, float, float]]:
    """Every ``<text>`` of the SVG as (text, x, y, font size in px)."""
    found = []
    for element in ET.fromstring(svg).iter(f"{SVG}text"):
        size = float(re.search(r"font-size: ([\d.]+)px", element.get("style", "")).group(1))
        found.append(
            (
                element.text or "",
                float(element.get("x", "nan")),
                float(element.get("y", "nan")),
                size,
            )
        )
    return found


def _text(svg: str, wanted: str) -> tuple[float, float, float]:
    [(_, x, y, size)] = [t for t in _texts(svg) if t[0] == wanted]
    return x, y, size


def _circles(svg: str) -> list[tuple[float, float, float]]:
    """The node circles (outlined in ink): (centre x, centre y, radius) from their outlines."""
    circles = []
    for path in ET.fromstring(svg).iter(f"{SVG}path"):
        if "stroke: #1d2330" not in path.get("style", ""):
            continue
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
        xs, ys = numbers[0::2], numbers[1::2]
        circles.append(((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2, (max(xs) - min(xs)) / 2))
    return circles


def _arrow_colours(svg: str) -> list[str]:
    """The colour of each arrow: one patch group (a line and its head) per arrow."""
    colours = []
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if not group.get("id", "").startswith("patch_"):
            continue
        styles = [path.get("style", "") for path in group.iter(f"{SVG}path")]
        stroke = re.search(r"stroke: (#[0-9a-f]{6})", styles[0]) if styles else None
        if stroke and stroke.group(1) != "#1d2330" and len(styles) == 2:
            colours.append(stroke.group(1))
    return colours


# --------------------------------------------------------------------------------------------
# Every chart


@pytest.mark.parametrize("make", [_bars, _bar, _web], ids=["stacked", "bar", "web"])
def test_chart_is_well_formed_svg(make):
    root = ET.fromstring(make())
    assert root.tag == f"{SVG}svg"


@pytest.mark.parametrize("make", [_bars, _bar, _web], ids=["stacked", "bar", "web"])
def test_chart_is_the_same_bytes_every_time(make):
    assert make() == make()


def test_charts_do_not_depend_on_the_hash_seed():
    """The same figures give the same bytes in a process with another hash seed."""
    script = (
        "import hashlib, sys\n"
        "sys.path[:0] = [sys.argv[1]]\n"
        "import test_charts as t\n"
        "print(*(hashlib.sha256(f().encode()).hexdigest() for f in (t._bars, t._bar, t._web)))\n"
    )
    tests_dir = str(Path(__file__).parent)
    here = [hashlib.sha256(f().encode()).hexdigest() for f in (_bars, _bar, _web)]
    for seed in ("1", "12345"):
        out = subprocess.run(
            [sys.executable, "-c", script, tests_dir],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.split() == here


def test_charts_ignore_the_callers_matplotlib_settings():
    plain = (_bars(), _web())
    with matplotlib.rc_context({"font.size": 20, "lines.linewidth": 7, "svg.hashsalt": None}):
        assert (_bars(), _web()) == plain


def test_charts_leave_the_callers_matplotlib_settings_alone():
    before = dict(matplotlib.rcParams)
    _bars(), _web()
    assert dict(matplotlib.rcParams) == before


# --------------------------------------------------------------------------------------------
# Bar charts


def test_single_series_bar_chart_has_no_legend():
    svg = _bar()
    assert 'id="legend_' not in svg
    assert [t[0] for t in _texts(svg)].count("Systemic impact") == 1


def test_stacked_bars_with_two_series_have_a_legend_naming_them():
    svg = _bars()
    assert 'id="legend_' in svg
    assert {"organic", "circular"} <= {t[0] for t in _texts(svg)}


def test_bar_figures_are_in_readable_units():
    texts = {t[0] for t in _texts(_bar())}
    assert {"$636B", "$40B"} <= texts  # at the bars' ends
    assert "$600B" in texts  # on the axis
    assert not any("000" in text for text in texts)


def test_stacked_bar_ends_show_the_total():
    texts = {t[0] for t in _texts(_bars())}
    assert {"676B", "548B"} <= texts


def test_bar_labels_do_not_collide():
    """Company names on the axis sit at least a line apart."""
    svg = charts.bar_chart(
        [f"Company {i}" for i in range(18)], [Decimal(i) for i in range(18)], "t", "#000"
    )
    ys = sorted(_text(svg, f"Company {i}")[1] for i in range(18))
    size = _text(svg, "Company 0")[2]
    assert min(b - a for a, b in itertools.pairwise(ys)) > 1.5 * size


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "$0"),
        (300e9, "$300B"),
        (1.5e12, "$1.5T"),
        (999.96e9, "$1T"),
        (12.94e6, "$12.9M"),
        (2.5e3, "$2.5K"),
        (-250e3, "-$250K"),
        (89.44, "$89.4"),
    ],
)
def test_compact_money_has_at_most_three_significant_digits(value, text):
    assert charts._compact(value, "$") == text


def test_bars_keep_the_colours_they_are_given():
    fills = set(re.findall(r"fill: (#[0-9a-f]{6})", _bars()))
    assert {charts.ORGANIC, charts.CIRCULAR} <= fills


# --------------------------------------------------------------------------------------------
# The deal web


def test_both_directions_of_a_mutual_pair_are_drawn_with_labels_apart():
    edges = [("Alpha", "Beta", 5 * B, "sale", True), ("Beta", "Alpha", 3 * B, "equity", True)]
    svg = charts.web_drawing(["Alpha", "Beta"], edges, "A pair")
    assert _arrow_colours(svg) == [charts.CIRCULAR] * 2
    (ax, ay, _), (bx, by, _) = _text(svg, "Alpha"), _text(svg, "Beta")
    (sx, sy, size), (ex, ey, _) = _text(svg, "sale"), _text(svg, "equity")
    assert math.dist((sx, sy), (ex, ey)) > 2 * size

    def side(x: float, y: float) -> float:
        return (bx - ax) * (y - ay) - (by - ay) * (x - ax)

    # The arcs bend opposite ways: their labels sit on either side of the line between the two.
    assert side(sx, sy) * side(ex, ey) < 0


def test_labels_of_the_shipped_web_do_not_overlap():
    svg = _web()
    labels = [t for t in _texts(svg) if t[0] in {"sale", "equity", "cloud", "lease"}]
    assert len(labels) == sum(1 for e in WEB_EDGES if e[4])
    for (a, ax, ay, size), (b, bx, by, _) in itertools.combinations(labels, 2):
        apart_x = abs(ax - bx) > (len(a) + len(b)) * size * 0.3
        apart_y = abs(ay - by) > size
        assert apart_x or apart_y, (a, b)


@pytest.mark.parametrize(
    "names",
    [TWELVE, ["Advanced Micro Devices", "Oracle Cloud Infrastructure", "$AI$ Holdings & Co <1>"]],
    ids=["shipped", "long"],
)
def test_every_node_name_appears_whole(names):
    edges = [(a, b, B, "sale", True) for a, b in itertools.pairwise(names)]
    texts = {t[0] for t in _texts(charts.web_drawing(names, edges, "t"))}
    assert set(names) <= texts


@pytest.mark.parametrize(
    "names",
    [TWELVE, ["Advanced Micro Devices", "Oracle Cloud Infrastructure", "xAI", "Intel"]],
    ids=["shipped", "long"],
)
def test_node_names_fit_inside_their_circles(names):
    svg = charts.web_drawing(names, [], "t")
    circles = _circles(svg)
    assert len(circles) == len(names)
    for name in names:
        x, y, size = _text(svg, name)
        width, _, _ = TextToPath().get_text_width_height_descent(
            name, FontProperties(family="sans-serif", size=size), ismath=False
        )
        # The SVG's user unit is the point, font sizes included.
        [radius] = [r for cx, cy, r in circles if math.dist((cx, cy), (x, y)) < r]
        assert width / 2 < radius


def test_twelve_nodes_do_not_overlap():
    circles = _circles(_web())
    assert len(circles) == 12
    for (ax, ay, ar), (bx, by, br) in itertools.combinations(circles, 2):
        assert math.dist((ax, ay), (bx, by)) > ar + br + 20


def test_highlighted_arrows_are_circular_red_and_the_others_grey():
    strokes = _arrow_colours(_web())
    assert len(strokes) == len(WEB_EDGES)
    assert strokes.count(charts.CIRCULAR) == sum(1 for e in WEB_EDGES if e[4])
    assert strokes.count(charts.NEUTRAL) == sum(1 for e in WEB_EDGES if not e[4])


def test_marked_nodes_are_filled_in_the_failed_colour():
    svg = _web(marked=["OpenAI"])
    assert len(re.findall(rf"fill: {charts.FAILED}; stroke: #1d2330", svg)) == 1


def test_a_web_without_edges_or_nodes_still_draws_its_title():
    assert "The deal web" in {t[0] for t in _texts(charts.web_drawing([], [], "The deal web"))}
