"""Charts for the HTML reports, as inline SVG text (matplotlib, no network, no JS).

Every function takes plain figures and returns SVG text. Amounts are converted to float here and
only here: a chart is a picture, not a figure anyone adds up. The SVG is made deterministic
(fixed hash salt, no date) so that committed reports only change when the numbers do.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402

__all__ = ["bar_chart", "stacked_bars", "web_drawing"]

ORGANIC = "#3b7dd8"
CIRCULAR = "#e4572e"
NEUTRAL = "#9aa3b2"
FAILED = "#b3001b"

plt.rcParams.update(
    {
        "svg.hashsalt": "roundtrip",
        "svg.fonttype": "none",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


def _svg(fig: plt.Figure) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = out.getvalue()
    # Drop the XML prolog and DOCTYPE so the SVG can sit inline in an HTML page.
    return text[text.index("<svg") :]


def _billions(value: float) -> str:
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:,.1f}{unit}"
    return f"{value:,.0f}"


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal], str]],
    title: str,
) -> str:
    """Horizontal stacked bars, one row per label, one colour per series."""
    height = max(2.0, 0.45 * len(labels) + 1.2)
    fig, ax = plt.subplots(figsize=(8, height))
    left = [0.0] * len(labels)
    positions = list(range(len(labels)))[::-1]
    for name, values, colour in series:
        floats = [float(v) for v in values]
        ax.barh(positions, floats, left=left, color=colour, label=name, height=0.6)
        left = [a + b for a, b in zip(left, floats, strict=True)]
    ax.set_yticks(positions, labels)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: _billions(x)))
    ax.set_title(title, loc="left")
    ax.legend(loc="lower right", frameon=False)
    return _svg(fig)


def bar_chart(labels: Sequence[str], values: Sequence[Decimal], title: str, colour: str) -> str:
    """Plain horizontal bars."""
    return stacked_bars(labels, [(title, values, colour)], title)


def web_drawing(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str, Decimal, str, bool]],
    title: str,
    marked: Sequence[str] = (),
) -> str:
    """The deal web: one arrow per (payer, payee, kind) edge, width by amount.

    ``edges`` are ``(payer, payee, amount, kind, highlighted)``; highlighted edges (those that
    carry circular money) are drawn in the circular colour, the rest in grey. ``marked`` nodes
    (e.g. failed companies) are filled in red.
    """
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(nodes)
    pos = nx.circular_layout(sorted(nodes))
    fig, ax = plt.subplots(figsize=(8, 8))
    biggest = max((float(amount) for _, _, amount, _, _ in edges), default=1.0) or 1.0
    for payer, payee, amount, kind, highlighted in edges:
        width = 0.6 + 5.0 * math.sqrt(float(amount) / biggest)
        colour = CIRCULAR if highlighted else NEUTRAL
        ax.annotate(
            "",
            xy=pos[payee],
            xytext=pos[payer],
            arrowprops={
                "arrowstyle": "-|>",
                "color": colour,
                "lw": width,
                "alpha": 0.85 if highlighted else 0.5,
                "shrinkA": 22,
                "shrinkB": 22,
                "connectionstyle": "arc3,rad=0.18",
            },
        )
        mid_x = (pos[payer][0] + pos[payee][0]) / 2
        mid_y = (pos[payer][1] + pos[payee][1]) / 2
        if highlighted:
            ax.text(mid_x, mid_y, kind, fontsize=7, color=colour, ha="center")
    marked_set = set(marked)
    for node in nodes:
        x, y = pos[node]
        fill = FAILED if node in marked_set else "#ffffff"
        ax.scatter([x], [y], s=900, c=fill, edgecolors="#1d2330", zorder=3)
        ax.text(
            x,
            y,
            node,
            ha="center",
            va="center",
            fontsize=8,
            zorder=4,
            color="#ffffff" if node in marked_set else "#1d2330",
        )
    ax.set_title(title, loc="left")
    ax.set_xlim(-1.35, 1.35)
    ax.set_ylim(-1.35, 1.35)
    ax.set_aspect("equal")
    ax.axis("off")
    return _svg(fig)
