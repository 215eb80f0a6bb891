"""The stats page's charts, drawn on the server as SVG (SPEC "Audience"): stacked bars per day with tooltips and a round
axis."""

from __future__ import annotations

from syndicator.core.chart import Series
from syndicator.core.chart import stacked_bars


def test_a_chart_stacks_the_parts_of_each_day() -> None:
    """One bar per day, a rect per non-zero part with its tooltip, a value axis up to a round number."""
    svg = stacked_bars("t", ["2026-01-01", "2026-01-02"], [Series("a", (1, 0)), Series("b <&>", (2, 7))])
    assert svg.count("<rect") == 1 + 3 + 2  # background, three parts, two legend keys
    assert "2026-01-02: b &lt;&amp;&gt; 7 (total 7)" in svg and ">8<" in svg and ">6<" in svg
