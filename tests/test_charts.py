"""The report charts are well-formed, deterministic SVG that a reader can make sense of.

The SVG keeps its text as ``<text>`` elements (matplotlib's ``svg.fonttype`` none, and Graphviz's
own), so the tests read names, labels and tick figures straight from the XML, and node boxes from
their outlines.
"""

from __future__ import annotations

import hashlib
import itertools
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
    """Every ``<text>`` of a matplotlib SVG as (text, x, y, font size in px)."""
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


Box = tuple[float, float, float, float]


def _box_of_points(d: str) -> Box:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def _label_box(element: ET.Element) -> Box:
    """A Graphviz label's box (text centred on its anchor), its width measured in DejaVu Sans,
    the font Graphviz set it in (matplotlib ships the same font)."""
    x, y = float(element.get("x")), float(element.get("y"))
    size = float(element.get("font-size"))
    width, _, _ = TextToPath().get_text_width_height_descent(
        element.text or "", FontProperties(family="DejaVu Sans", size=size), ismath=False
    )
    return x - width / 2, y - size * 0.8, x + width / 2, y + size * 0.2


def _web_parts(svg: str) -> tuple[dict[str, dict], list[dict]]:
    """Nodes (by name: box, fill, stroke style) and edges (stroke, dash, label, label box) of a
    Graphviz web drawing."""
    root = ET.fromstring(svg)
    nodes, edges = {}, []
    for group in root.iter(f"{SVG}g"):
        kind = group.get("class")
        # (An Element without children is falsy: compare with None, never use ``or``.)
        shape = next(iter(group.iter(f"{SVG}path")), None)
        if shape is None:
            shape = next(iter(group.iter(f"{SVG}polygon")), None)
        texts = list(group.iter(f"{SVG}text"))
        if kind == "node":
            name = " ".join(t.text or "" for t in texts)
            points = shape.get("d") or shape.get("points")
            nodes[name] = {
                "box": _box_of_points(points),
                "fill": shape.get("fill"),
                "dash": shape.get("stroke-dasharray"),
                "text": _label_box(texts[0]),
            }
        elif kind == "edge":
            line = next(iter(group.iter(f"{SVG}path")))
            edges.append(
                {
                    "stroke": line.get("stroke"),
                    "dash": line.get("stroke-dasharray"),
                    "label": texts[0].text if texts else None,
                    "box": _label_box(texts[0]) if texts else None,
                }
            )
    return nodes, edges


def _overlap(a: Box, b: Box) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(width, 0.0) * max(height, 0.0)


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


def test_every_edge_is_labelled_with_its_kind_and_amount():
    _, edges = _web_parts(_web())
    labels = sorted(e["label"] for e in edges)
    expected = sorted(
        f"{kind} {charts._compact(float(amount), '$')}" for _, _, amount, kind, _ in WEB_EDGES
    )
    assert labels == expected


def test_labels_of_the_shipped_web_sit_clear_of_each_other_and_of_the_companies():
    nodes, edges = _web_parts(_web())
    labels = [e["box"] for e in edges]
    for a, b in itertools.combinations(labels, 2):
        assert _overlap(a, b) == 0, (a, b)
    for label in labels:
        for node in nodes.values():
            assert _overlap(label, node["box"]) == 0


def test_both_directions_of_a_mutual_pair_are_drawn_each_with_its_label():
    edges = [("Alpha", "Beta", 5 * B, "sale", True), ("Beta", "Alpha", 3 * B, "equity", True)]
    _, drawn = _web_parts(charts.web_drawing(["Alpha", "Beta"], edges, "A pair"))
    assert sorted(e["label"] for e in drawn) == ["equity $3B", "sale $5B"]
    assert _overlap(drawn[0]["box"], drawn[1]["box"]) == 0


@pytest.mark.parametrize(
    "names",
    [TWELVE, ["Advanced Micro Devices", "Oracle Cloud Infrastructure", "$AI$ Holdings & Co <1>"]],
    ids=["shipped", "long"],
)
def test_every_node_name_appears_whole_inside_its_box(names):
    edges = [(a, b, B, "sale", True) for a, b in itertools.pairwise(names)]
    nodes, _ = _web_parts(charts.web_drawing(names, edges, "t"))
    assert set(nodes) == set(names)
    for node in nodes.values():
        text, box = node["text"], node["box"]
        assert box[0] <= text[0] and text[2] <= box[2]


def test_twelve_nodes_do_not_overlap():
    nodes, _ = _web_parts(_web())
    assert len(nodes) == 12
    for a, b in itertools.combinations(nodes.values(), 2):
        assert _overlap(a["box"], b["box"]) == 0


def test_highlighted_arrows_are_circular_coloured_and_the_others_grey():
    _, edges = _web_parts(_web())
    strokes = [e["stroke"] for e in edges]
    assert strokes.count(charts.CIRCULAR) == sum(1 for e in WEB_EDGES if e[4])
    assert strokes.count(charts.NEUTRAL) == sum(1 for e in WEB_EDGES if not e[4])


def test_arrows_keep_the_colour_they_are_given_and_non_cash_ones_are_dashed():
    arrows = [
        charts.Arrow("AMD", "OpenAI", 6 * B, "warrant", False, charts.NEUTRAL, True),
        charts.Arrow("OpenAI", "Oracle", 300 * B, "cloud", True, charts.FAILED),
    ]
    _, edges = _web_parts(charts.web_drawing([], arrows, "t"))
    by_label = {e["label"]: e for e in edges}
    assert by_label["warrant $6B"]["dash"] and by_label["warrant $6B"]["stroke"] == charts.NEUTRAL
    assert not by_label["cloud $300B"]["dash"]
    assert by_label["cloud $300B"]["stroke"] == charts.FAILED


def test_the_failed_company_is_filled_and_the_defaulters_outlined_apart():
    svg = charts.web_drawing(sorted(TWELVE), WEB_EDGES, "t", ["OpenAI"], outlined=["CoreWeave"])
    nodes, _ = _web_parts(svg)
    assert nodes["OpenAI"]["fill"] == charts.FAILED
    assert nodes["CoreWeave"]["dash"] and nodes["CoreWeave"]["fill"] == "#ffffff"
    assert [n for n, v in nodes.items() if v["fill"] == charts.FAILED] == ["OpenAI"]


def test_a_web_without_edges_or_nodes_still_draws_its_title():
    texts = [
        t.text for t in ET.fromstring(charts.web_drawing([], [], "The deal web")).iter(f"{SVG}text")
    ]
    assert "The deal web" in texts


def test_web_drawing_names_no_graphviz_version():
    assert "Generated by" not in _web() and "<!--" not in _web()
