"""Charts for the HTML reports, as inline SVG text (matplotlib, no network, no JS).

Every function takes plain figures and returns SVG text. Amounts are converted to float here and
only here: a chart is a picture, not a figure anyone adds up, so axes and bar ends show rounded
figures in readable units (``300B``, ``1.5T``) while the report's tables keep the exact ones.

The output is deterministic: the same figures give the same bytes, whatever the process's hash
seed or the caller's matplotlib settings. Styling is applied through a local ``rc_context`` (the
caller's ``rcParams`` are left alone), the SVG's ids use a fixed hash salt, the date and the
matplotlib version are left out, and the deal web's layout is computed, never random.

The deal web (:func:`web_drawing`) puts the companies on a circle, in an order chosen to cross as
few arrows as possible. Everything in it is laid out in points, so the node circles are sized to
hold each name in full, and two companies that pay each other get two arcs that bend opposite
ways, each with its own label.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Sequence
from decimal import Decimal

import matplotlib
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.textpath import text_to_path
from matplotlib.ticker import FuncFormatter

__all__ = [
    "CIRCULAR",
    "FAILED",
    "NEUTRAL",
    "ORGANIC",
    "bar_chart",
    "edge_nodes",
    "stacked_bars",
    "symbol",
    "web_drawing",
]

ORGANIC = "#3b7dd8"
CIRCULAR = "#e4572e"
NEUTRAL = "#9aa3b2"
FAILED = "#b3001b"

_INK = "#1d2330"
_MUTED = "#5b6475"
_GRID = "#e3e6eb"

_STYLE = {
    "svg.hashsalt": "roundtrip",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "text.color": _INK,
    "axes.edgecolor": _MUTED,
    "axes.labelcolor": _INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": _MUTED,
    "ytick.color": _MUTED,
    "xtick.labelcolor": _INK,
    "ytick.labelcolor": _INK,
}

# Bar charts: inches per row, and the font size of the figure at a bar's end.
_ROW = 0.38
_BAR_LABEL_SIZE = 8.0

# Deal web, in points: font sizes, the smallest node radius, the padding between a name and its
# circle, the smallest gap between two neighbouring circles, the smallest layout radius.
_NODE_FONT = 9.0
_NODE_FONT_MIN = 7.0
_EDGE_FONT = 7.5
_NODE_MIN_RADIUS = 18.0
_NODE_MAX_RADIUS = 36.0
_NODE_PAD = 4.0
_NODE_GAP = 70.0
_LAYOUT_MIN_RADIUS = 200.0
# Browsers may draw the names in a wider font than the one measured here (Verdana, Arial):
# leave that much room.
_FONT_SLACK = 1.1
# How far apart (points) the labels of two arcs between the same two companies sit, at least.
_ARC_SEPARATION = 36.0


def _svg(fig: Figure) -> str:
    out = io.StringIO()
    fig.savefig(
        out,
        format="svg",
        bbox_inches="tight",
        pad_inches=0.08,
        metadata={"Date": None, "Creator": None},
    )
    text = out.getvalue()
    # Drop the XML prolog and DOCTYPE so the SVG can sit inline in an HTML page.
    return text[text.index("<svg") :]


def _compact(value: float, prefix: str = "") -> str:
    """A figure in readable units with at most three significant digits: 300B, 1.5T, 12.9M."""
    if value == 0:
        return f"{prefix}0"
    sign = "-" if value < 0 else ""
    size = abs(value)
    # A unit is taken from a bit below it, so that 999.7B reads 1T rather than 1000B.
    unit, scale = next(
        (unit, scale)
        for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3), ("", 1.0))
        if size >= scale * 0.9995 or not unit
    )
    scaled = size / scale
    decimals = 0 if scaled >= 100 else 1 if scaled >= 10 else 2
    text = f"{scaled:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{sign}{prefix}{text}{unit}"


# --------------------------------------------------------------------------------------------
# Bar charts


def symbol(currency: str) -> str:
    """Prefix of axis figures in ``currency``: ``$`` for USD, else none (the title names it)."""
    return {"USD": "$"}.get(currency, "")


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal], str]],
    title: str,
    *,
    prefix: str = "",
) -> str:
    """Horizontal stacked bars, one row per label, one colour per series.

    The legend is drawn only when there is more than one series (with one, the title says what
    the bars are). Each bar ends with its total in readable units, and ``prefix`` (e.g. ``"$"``)
    goes before the figures on the axis and at the bars' ends; the currency is not known here.
    """
    with matplotlib.rc_context(_STYLE):
        return _stacked_bars(labels, series, title, prefix)


def _stacked_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal], str]],
    title: str,
    prefix: str,
) -> str:
    rows = len(labels)
    legend = len(series) > 1
    height = max(1.6, _ROW * rows + 0.9 + (0.25 if legend else 0.0))
    fig = Figure(figsize=(8, height))
    ax = fig.add_subplot()
    positions = list(range(rows))[::-1]
    right = [0.0] * rows
    left_neg = [0.0] * rows
    for name, values, colour in series:
        floats = [float(v) for v in values]
        starts = [r if v >= 0 else n for v, r, n in zip(floats, right, left_neg, strict=True)]
        ax.barh(positions, floats, left=starts, color=colour, label=name, height=0.62, zorder=2)
        right = [r + max(v, 0.0) for r, v in zip(right, floats, strict=True)]
        left_neg = [n + min(v, 0.0) for n, v in zip(left_neg, floats, strict=True)]
    totals = [r + n for r, n in zip(right, left_neg, strict=True)]
    largest = max([*right, 0.0])
    smallest = min([*left_neg, 0.0])
    span = (largest - smallest) or 1.0
    for y, total, end, start in zip(positions, totals, right, left_neg, strict=True):
        # A figure sits past the end its bar grows to: the right, or the left when it is negative.
        leftwards = total < 0 and end == 0
        ax.text(
            start - span * 0.008 if leftwards else end + span * 0.008,
            y,
            _compact(total, prefix),
            va="center",
            ha="right" if leftwards else "left",
            fontsize=_BAR_LABEL_SIZE,
            color=_MUTED,
            parse_math=False,
            zorder=3,
        )
    # Room at the right for the figures at the bars' ends.
    ax.set_xlim(smallest - (span * 0.12 if smallest < 0 else 0.0), largest + span * 0.12)
    ax.set_ylim(-0.6, rows - 0.4)
    ax.set_yticks(positions, [str(label) for label in labels])
    for tick in ax.get_yticklabels():
        tick.set_parse_math(False)  # a "$" in a name is a dollar, not TeX
    ax.tick_params(axis="y", length=0)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _compact(x, prefix)))
    ax.xaxis.grid(True, color=_GRID, linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    ax.spines["left"].set_color(_MUTED)
    if legend:
        ax.legend(
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncols=len(series),
            frameon=False,
            handlelength=1.2,
            borderaxespad=0.2,
            columnspacing=1.4,
            fontsize=8.5,
        )
        for text in ax.get_legend().get_texts():
            text.set_parse_math(False)
    ax.set_title(title, loc="left", pad=22 if legend else 8, fontsize=10, parse_math=False)
    return _svg(fig)


def bar_chart(
    labels: Sequence[str], values: Sequence[Decimal], title: str, colour: str, *, prefix: str = ""
) -> str:
    """Plain horizontal bars: one series, so no legend (the title names it)."""
    return stacked_bars(labels, [(title, values, colour)], title, prefix=prefix)


# --------------------------------------------------------------------------------------------
# The deal web

_Point = tuple[float, float]


def _text_width(text: str, size: float) -> float:
    """Width in points of ``text`` set in the default sans-serif font at ``size``."""
    width, _, _ = text_to_path.get_text_width_height_descent(
        text, FontProperties(family="sans-serif", size=size), ismath=False
    )
    return width * _FONT_SLACK


def _fit_name(name: str) -> tuple[float, float]:
    """How a name is set inside its circle: (font size, radius it needs).

    The name stays whole, on one line, so that it reads (and can be searched for) as one text:
    the font shrinks by a point at a time, down to ``_NODE_FONT_MIN``, until the name fits a
    circle of ``_NODE_MAX_RADIUS``; a name longer still gets a bigger circle.
    """
    size = _NODE_FONT
    while True:
        half_width = _text_width(name, size) / 2
        radius = max(_NODE_MIN_RADIUS, math.hypot(half_width, size * 0.6) + _NODE_PAD)
        if radius <= _NODE_MAX_RADIUS or size - 1.0 < _NODE_FONT_MIN:
            return size, radius
        size -= 1.0


def _ring_radius(n: int, node_radius: float) -> float:
    """Radius of the circle the companies sit on: neighbours keep room for an arrow between."""
    if n <= 1:
        return 0.0
    smallest = min(_LAYOUT_MIN_RADIUS, 80.0 + 16.0 * n)
    return max(smallest, (node_radius + _NODE_GAP / 2) / math.sin(math.pi / n))


def _ring(order: Sequence[str], ring: float) -> dict[str, _Point]:
    """Places on the circle: the first company at the top, the others clockwise."""
    n = max(len(order), 1)
    return {
        name: (
            ring * math.cos(math.pi / 2 - 2 * math.pi * i / n),
            ring * math.sin(math.pi / 2 - 2 * math.pi * i / n),
        )
        for i, name in enumerate(order)
    }


def _distance_to_segment(point: _Point, a: _Point, b: _Point) -> float:
    (px, py), (ax, ay), (bx, by) = point, a, b
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def _circle_order(
    nodes: Sequence[str], weights: dict[tuple[str, str], float], node_radius: float
) -> list[str]:
    """Order the companies round the circle so that arrows miss other companies and cross little.

    A deterministic local search from alphabetical order: swap two places whenever that lowers,
    in this order of importance, the number of arrows that pass over a third company, the number
    of crossings, and the length of the chords weighted by amount. Each order is scored in
    O(e²) for e linked pairs; the search stops when no swap helps, after 12 passes over the
    O(n²) swaps, or after about 3·10⁶ steps of scoring, whichever comes first (so a web of 40
    companies is drawn in about a second, not a minute).
    """
    order = sorted(nodes)
    n = len(order)
    if n < 4 or not weights:
        return order
    pairs = sorted(weights)
    total = sum(weights.values()) or 1.0
    share = [weights[pair] / total for pair in pairs]
    slots = list(_ring([str(i) for i in range(n)], _ring_radius(n, node_radius)).values())
    clearance = node_radius + 12.0
    # How many other places a straight arrow between places i and j passes too close to.
    near = [
        [
            sum(
                1
                for k in range(n)
                if k not in (i, j)
                and _distance_to_segment(slots[k], slots[i], slots[j]) < clearance
            )
            for j in range(n)
        ]
        for i in range(n)
    ]

    def cost(seq: list[str]) -> tuple[int, int, float]:
        where = {node: i for i, node in enumerate(seq)}
        chords = [(min(where[a], where[b]), max(where[a], where[b])) for a, b in pairs]
        crossings = 0
        for i, (a, b) in enumerate(chords):
            for c, d in chords[i + 1 :]:
                if len({a, b, c, d}) == 4 and (a < c < b) != (a < d < b):
                    crossings += 1
        hits = sum(near[a][b] for a, b in chords)
        length = sum(w * min(b - a, n - (b - a)) for w, (a, b) in zip(share, chords, strict=True))
        return hits, crossings, round(length, 9)

    budget = max(500, 3_000_000 // (len(pairs) ** 2))
    best = cost(order)
    for _ in range(12):
        improved = False
        for i, j in itertools.combinations(range(n), 2):
            if budget <= 0:
                return order
            budget -= 1
            trial = order.copy()
            trial[i], trial[j] = trial[j], trial[i]
            score = cost(trial)
            if score < best:
                order, best, improved = trial, score, True
        if not improved:
            break
    return order


def _bezier(p0: _Point, control: _Point, p2: _Point, t: float) -> _Point:
    a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t**2
    return (
        a * p0[0] + b * control[0] + c * p2[0],
        a * p0[1] + b * control[1] + c * p2[1],
    )


def _overlap(
    box: tuple[float, float, float, float], other: tuple[float, float, float, float]
) -> float:
    """Area shared by two boxes given as (x0, y0, x1, y1)."""
    width = min(box[2], other[2]) - max(box[0], other[0])
    height = min(box[3], other[3]) - max(box[1], other[1])
    return max(width, 0.0) * max(height, 0.0)


def _bends(edges: Sequence[tuple[int, str, str]], length: float) -> dict[int, float]:
    """The ``arc3`` bend of each edge between one pair of companies, by edge index.

    ``edges`` are ``(index, payer, kind)``, those of the first payer first; ``length`` is the
    distance between the two companies (points). A lone arrow is straight: two straight arrows
    from one company never cross, and the layout search counts arrows as straight. Arrows one
    way bend to one side and arrows the other way to the other, so that both directions show and
    their labels sit apart; several arrows the same way fan out. The bends grow as the companies
    get closer, so that the labels stay ``_ARC_SEPARATION`` apart.
    """
    step = min(0.6, max(0.16, _ARC_SEPARATION / max(length, 1.0)))
    first = edges[0][1]
    forward = [e for e in edges if e[1] == first]
    backward = [e for e in edges if e[1] != first]
    bends: dict[int, float] = {}
    if not backward:
        if len(forward) == 1:
            return {forward[0][0]: 0.0}
        for k, (index, _, _) in enumerate(forward):
            bends[index] = step * (k - (len(forward) - 1) / 2) * 1.4
        return bends
    # arc3 bends to the right of the direction of travel for a positive bend, so the same sign
    # one way and the other puts the two directions on opposite sides.
    for group in (forward, backward):
        for k, (index, _, _) in enumerate(group):
            bends[index] = step * (k + 0.7)
    return bends


def edge_nodes(edges: Sequence[tuple[str, str, Decimal, str, bool]]) -> list[str]:
    """Every payer and payee of the edges, sorted: the nodes of a drawing of just those edges."""
    return sorted({e[0] for e in edges} | {e[1] for e in edges})


def web_drawing(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str, Decimal, str, bool]],
    title: str,
    marked: Sequence[str] = (),
) -> str:
    """The deal web: one arrow per (payer, payee, kind) edge, width by amount.

    ``edges`` are ``(payer, payee, amount, kind, highlighted)``; highlighted edges (those that
    carry circular money) are drawn in the circular colour and labelled with their kind, the rest
    in grey. ``marked`` nodes (e.g. failed companies) are filled in red. Payments from a company to
    itself are not drawn; a payer or payee missing from ``nodes`` is added.
    """
    with matplotlib.rc_context(_STYLE):
        return _web_drawing(nodes, edges, title, marked)


def _web_drawing(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str, Decimal, str, bool]],
    title: str,
    marked: Sequence[str],
) -> str:
    drawn = [e for e in edges if e[0] != e[1]]
    names = list(dict.fromkeys([*nodes, *(e[0] for e in drawn), *(e[1] for e in drawn)]))
    weights: dict[tuple[str, str], float] = {}
    for payer, payee, amount, _, _ in drawn:
        pair = (min(payer, payee), max(payer, payee))
        weights[pair] = weights.get(pair, 0.0) + float(amount)
    fitted = {name: _fit_name(name) for name in names}
    radius = max((fit[1] for fit in fitted.values()), default=_NODE_MIN_RADIUS)
    order = _circle_order(names, weights, radius)
    ring = _ring_radius(len(order), radius)
    pos = _ring(order, ring)
    extent = ring + radius + 24.0
    # One data unit is one point: the figure is 2 * extent points wide, the axes fill it.
    fig = Figure(figsize=(2 * extent / 72, 2 * extent / 72))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    ax.axis("off")

    groups: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    for index, (payer, payee, _, kind, _) in enumerate(drawn):
        pair = (min(payer, payee), max(payer, payee))
        groups.setdefault(pair, []).append((index, payer, kind))
    bends: dict[int, float] = {}
    for pair, group in sorted(groups.items()):
        (x0, y0), (x1, y1) = pos[pair[0]], pos[pair[1]]
        ordered = sorted(group, key=lambda e: (e[1] != pair[0], e[2], e[0]))
        bends.update(_bends(ordered, math.hypot(x1 - x0, y1 - y0)))

    biggest = max((float(e[2]) for e in drawn), default=1.0) or 1.0
    # Grey arrows first, big ones first, so that red and thin arrows stay visible on top.
    paint_order = sorted(
        range(len(drawn)), key=lambda i: (drawn[i][4], -float(drawn[i][2]), drawn[i][:2], i)
    )
    labels: list[tuple[str, str, _Point, _Point, _Point]] = []
    for index in paint_order:
        payer, payee, amount, kind, highlighted = drawn[index]
        width = 0.7 + 5.0 * math.sqrt(max(float(amount), 0.0) / biggest)
        colour = CIRCULAR if highlighted else NEUTRAL
        bend = bends[index]
        (x0, y0), (x1, y1) = pos[payer], pos[payee]
        ax.add_patch(
            FancyArrowPatch(
                (x0, y0),
                (x1, y1),
                arrowstyle="-|>,head_length=0.6,head_width=0.34",
                mutation_scale=9 + 1.3 * width,
                connectionstyle=f"arc3,rad={bend:.4f}",
                shrinkA=radius + 2,
                shrinkB=radius + 3,
                color=colour,
                linewidth=width,
                alpha=0.9 if highlighted else 0.55,
                joinstyle="miter",
                capstyle="butt",
                zorder=2 if highlighted else 1,
                clip_on=False,
            )
        )
        if highlighted and kind:
            control = ((x0 + x1) / 2 + bend * (y1 - y0), (y0 + y1) / 2 - bend * (x1 - x0))
            labels.append((kind, colour, (x0, y0), control, (x1, y1)))

    # A node counts as the square of the same area as its circle.
    half = radius * math.sqrt(math.pi) / 2
    obstacles = [(x - half, y - half, x + half, y + half) for x, y in pos.values()]
    for kind, colour, p0, control, p2 in labels:
        half_w = _text_width(kind, _EDGE_FONT) / 2 + 2.5
        half_h = _EDGE_FONT * 0.75
        # The middle of the arc if it is free, else the freest place along it, nearest the middle.
        spots = []
        for rank, t in enumerate((0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73)):
            x, y = _bezier(p0, control, p2, t)
            box = (x - half_w, y - half_h, x + half_w, y + half_h)
            spots.append((sum(_overlap(box, other) for other in obstacles), rank, x, y))
        _, _, x, y = min(spots)
        obstacles.append((x - half_w, y - half_h, x + half_w, y + half_h))
        ax.text(
            x,
            y,
            kind,
            ha="center",
            va="center",
            fontsize=_EDGE_FONT,
            color=colour,
            parse_math=False,
            zorder=4,
            clip_on=False,
            bbox={"boxstyle": "round,pad=0.25", "fc": "#ffffff", "ec": "none", "alpha": 0.85},
        )

    marked_set = set(marked)
    for name in order:
        size, _ = fitted[name]
        x, y = pos[name]
        failed = name in marked_set
        ax.add_patch(
            Circle(
                (x, y),
                radius,
                facecolor=FAILED if failed else "#ffffff",
                edgecolor=_INK,
                linewidth=1.0,
                zorder=5,
            )
        )
        ax.text(
            x,
            y,
            name,
            ha="center",
            va="center",
            fontsize=size,
            color="#ffffff" if failed else _INK,
            parse_math=False,
            zorder=6,
        )
    ax.set_title(title, loc="left", fontsize=10, pad=4, parse_math=False)
    return _svg(fig)
