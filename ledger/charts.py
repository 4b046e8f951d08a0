"""Charts for the HTML reports, as inline SVG text (matplotlib and Graphviz, no network, no JS).

Every function takes plain figures and returns SVG text. Amounts are converted to float here and
only here: a chart is a picture, not a figure anyone adds up, so axes and bar ends show rounded
figures in readable units (``300B``, ``1.5T``) while the report's tables keep the exact ones.

The output is deterministic: the same figures give the same bytes, whatever the process's hash
seed or the caller's matplotlib settings. Styling is applied through a local ``rc_context`` (the
caller's ``rcParams`` are left alone), the SVG's ids use a fixed hash salt, the date and the
matplotlib version are left out, and the deal web's layout is computed, never random.

The deal web (:func:`web_drawing`) is laid out by Graphviz ``dot`` (Debian's ``graphviz``,
through the ``graphviz`` package): every arrow carries its kind and amount, and ``dot`` places
the labels itself, clear of each other and of the companies.

Colours keep one meaning on every page (:data:`MEANINGS`, shown by each page's legend): blue is
organic revenue, vermillion circular revenue, orange commitments and unpaid obligations, purple
lost revenue, green written-down equity, grey everything else, black a failed company.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CIRCULAR",
    "COMMITMENT",
    "EQUITY",
    "FAILED",
    "LOST",
    "MEANINGS",
    "NEUTRAL",
    "ORGANIC",
    "REVENUE",
    "Arrow",
    "bar_chart",
    "edge_label",
    "edge_nodes",
    "legend",
    "stacked_bars",
    "symbol",
    "web_drawing",
]

# One colour, one meaning, on every page (Okabe & Ito's colour-blind-safe palette, 2008).
#: Organic revenue (gross - circular).
ORGANIC = "#0072b2"
#: Circular revenue, and arrows that carry money going round.
CIRCULAR = "#d55e00"
#: Revenue before netting (gross).
REVENUE = "#56b4e9"
#: Commitments to pay, and obligations left unpaid when a company fails.
COMMITMENT = "#e69f00"
#: Revenue lost when a customer fails or cuts its spending.
LOST = "#cc79a7"
#: Equity written down (stakes in a company that fails or defaults).
EQUITY = "#009e73"
#: Other money, non-cash legs (dashed) and figures that are not money (an index).
NEUTRAL = "#9aa3b2"
#: The failed company, and the payments it stops.
FAILED = "#1d2330"

#: What each colour means, for the legend of a page.
MEANINGS = {
    ORGANIC: "organic revenue",
    CIRCULAR: "circular revenue / money going round",
    REVENUE: "revenue before netting",
    COMMITMENT: "commitments to pay / unpaid obligations",
    LOST: "lost revenue",
    EQUITY: "written-down equity",
    NEUTRAL: "other money, non-cash (dashed), indices",
    FAILED: "the failed company and what it stops paying",
}


def legend(colours: Sequence[str]) -> list[tuple[str, str]]:
    """``(colour, meaning)`` for the colours a page uses, in the order of :data:`MEANINGS`."""
    used = set(colours)
    return [(colour, meaning) for colour, meaning in MEANINGS.items() if colour in used]


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
    import matplotlib  # here, not at the top: the views import this module for its colours

    with matplotlib.rc_context(_STYLE):
        return _stacked_bars(labels, series, title, prefix)


def _stacked_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal], str]],
    title: str,
    prefix: str,
) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

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


class Arrow(NamedTuple):
    """One arrow of a web drawing: money (or a promise of it) from ``payer`` to ``payee``.

    ``label`` names the kind(s) of legs; the drawing adds the amount. ``colour`` defaults to
    :data:`CIRCULAR` for ``highlighted`` arrows and :data:`NEUTRAL` for the rest; ``dashed``
    arrows move no money (non-cash legs such as warrants). A plain 5-tuple ``(payer, payee,
    amount, label, highlighted)`` is read as an Arrow.
    """

    payer: str
    payee: str
    amount: Decimal
    label: str
    highlighted: bool = False
    colour: str | None = None
    dashed: bool = False


def edge_nodes(edges: Sequence[Sequence[Any]]) -> list[str]:
    """Every payer and payee of the edges, sorted: the nodes of a drawing of just those edges."""
    return sorted({e[0] for e in edges} | {e[1] for e in edges})


def edge_label(arrow: Arrow, prefix: str = "") -> str:
    """What an arrow says: its kind and its amount in readable units, ``sale $70B``.

    A label holding ``{amount}`` gets the amount there instead (``$300B (30.0× revenue)``).
    """
    amount = _compact(float(arrow.amount), prefix)
    if "{amount}" in arrow.label:
        return arrow.label.replace("{amount}", amount)
    return f"{arrow.label} {amount}" if arrow.label else amount


def web_drawing(
    nodes: Sequence[str],
    edges: Sequence[Sequence[Any]],
    title: str,
    marked: Sequence[str] = (),
    *,
    outlined: Sequence[str] = (),
    prefix: str = "$",
) -> str:
    """The deal web laid out by Graphviz ``dot``, every arrow labelled with kind and amount.

    One arrow per edge, its width growing with the amount.

    ``edges`` are :class:`Arrow` (or 5-tuples). ``marked`` nodes (a failed company) are filled
    in :data:`FAILED`; ``outlined`` nodes (companies that default because of it) get a thick
    dashed outline. Payments from a company to itself are not drawn; a payer or payee missing
    from ``nodes`` is added. ``dot`` places every label as part of the layout, so labels never
    sit on one another or on a company (Gansner et al., "A technique for drawing directed
    graphs", IEEE TSE 1993). The layout depends only on the input, so the SVG is the same bytes
    every time (comments naming the Graphviz version are left out).
    """
    import graphviz

    arrows = [Arrow(*e) for e in edges]
    drawn = [a for a in arrows if a.payer != a.payee]
    names = list(dict.fromkeys([*nodes, *(a.payer for a in drawn), *(a.payee for a in drawn)]))
    graph = graphviz.Digraph(
        "web",
        engine="dot",
        graph_attr={
            "rankdir": "LR",
            "label": title,
            "labelloc": "t",
            "labeljust": "l",
            "fontname": _GV_FONT,
            "fontsize": "13",
            "fontcolor": _INK,
            "nodesep": "0.3",
            "ranksep": "0.7",
            "pad": "0.15",
            "bgcolor": "transparent",
        },
        node_attr={
            "shape": "box",
            "style": "rounded,filled",
            "fillcolor": "#ffffff",
            "color": _INK,
            "fontname": _GV_FONT,
            "fontsize": "12",
            "fontcolor": _INK,
            "margin": "0.12,0.06",
        },
        edge_attr={"fontname": _GV_FONT, "fontsize": "10", "arrowsize": "0.7"},
    )
    failed, defaults = set(marked), set(outlined)
    ids = {name: f"n{i}" for i, name in enumerate(names)}
    for name in names:
        attrs: dict[str, str] = {}
        if name in failed:
            attrs = {"fillcolor": FAILED, "fontcolor": "#ffffff"}
        elif name in defaults:
            attrs = {"style": "rounded,filled,dashed", "penwidth": "2.4"}
        graph.node(ids[name], _gv_text(name), **attrs)
    biggest = max((float(a.amount) for a in drawn), default=1.0) or 1.0
    # Grey arrows first, so that coloured ones are painted on top where lines cross.
    for arrow in sorted(drawn, key=lambda a: (a.highlighted, a.payer, a.payee, a.label)):
        colour = arrow.colour or (CIRCULAR if arrow.highlighted else NEUTRAL)
        width = 0.8 + 4.2 * math.sqrt(max(float(arrow.amount), 0.0) / biggest)
        graph.edge(
            ids[arrow.payer],
            ids[arrow.payee],
            label=_gv_text(edge_label(arrow, prefix)),
            color=colour,
            fontcolor=_label_ink(colour),
            penwidth=f"{width:.2f}",
            style="dashed" if arrow.dashed else "solid",
        )
    try:
        svg = graph.pipe(format="svg").decode("utf-8")
    except graphviz.ExecutableNotFound:
        from ledger.model import EnvironmentProblem, LedgerError

        message = (
            "Graphviz is not installed (HTML reports draw the web with it): "
            "apt-get install graphviz"
        )
        raise EnvironmentProblem([LedgerError("dot", 0, message)]) from None
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.DOTALL)
    svg = svg[svg.index("<svg") :]
    return svg.replace("<svg ", '<svg class="web" ', 1)


#: The font Graphviz measures labels in (DejaVu Sans ships with Debian's graphviz and is wider
#: than the fonts browsers fall back to, so a label never outgrows the room made for it).
_GV_FONT = "DejaVu Sans"


def _gv_text(text: str) -> str:
    """A label as Graphviz reads it: backslashes are escapes there, so they are doubled."""
    return text.replace("\\", "\\\\")


def _label_ink(colour: str) -> str:
    """Label text in the arrow's colour, darkened where the colour is too light to read."""
    return {NEUTRAL: _MUTED, COMMITMENT: "#9a6700", LOST: "#9b3f7a"}.get(colour, colour)
