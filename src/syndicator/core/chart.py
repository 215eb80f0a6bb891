"""Charts as inline SVG, drawn on the server: stacked bars of counts per day. No I/O.

Plain SVG elements and presentation attributes only (no script, no style
attribute, no external reference), so a page with a strict Content-Security-Policy
shows it as it is; each bar has a <title> its tooltip shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from syndicator.core.markup import xml_escape
from syndicator.core.markup import xml_quoteattr

PALETTE = ("#2f6f9f", "#e08a2c", "#4e9a4b", "#b5485d", "#7d5ba6", "#8c6d46", "#3b9c9c", "#c2a633", "#777777")
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 12, 12, 44  # margins around the plot, in px


@dataclass(frozen=True, slots=True)
class Series:
    """One part of each day's bar: its name in the legend, and a value per day."""

    label: str
    values: tuple[int, ...]


def axis_step(largest: int) -> int:
    """The step of the value axis's four intervals: 1, 2 or 5 times a power of 10, so that 4 steps reach largest."""
    power = 1
    while True:
        for factor in (1, 2, 5):
            if 4 * power * factor >= largest:
                return power * factor
        power *= 10


def stacked_bars(title: str, days: Sequence[str], series: Sequence[Series], width: int = 720, height: int = 220) -> str:
    """An SVG chart of one bar per day, its series stacked bottom up in order, with axes and a legend."""
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    totals = [sum(s.values[i] for s in series) for i in range(len(days))]
    step = axis_step(max(totals, default=0))
    top = 4 * step
    slot = plot_w / max(len(days), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" aria-label={xml_quoteattr(title)}>',
        f"<title>{xml_escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for tick in range(5):  # the value axis: 0, step ... top, with grid lines
        value = step * tick
        y = _TOP + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{width - _RIGHT}" y2="{y:.1f}" stroke="#dddddd"/>')
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#444444">{value:,}</text>'
        )
    for i, day in enumerate(days):
        parts += _bar(i, day, series, totals[i], top, slot, plot_h)
        if i % max(1, round(len(days) / 6)) == 0 or i == len(days) - 1:
            x = _LEFT + slot * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{_TOP + plot_h + 15}" text-anchor="middle" font-size="11"'
                f' fill="#444444">{xml_escape(day[5:])}</text>'
            )
    parts.append(
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{width - _RIGHT}" y2="{_TOP + plot_h}" stroke="#888888"/>'
    )
    parts += _legend(series, _TOP + plot_h + 34)
    parts.append("</svg>")
    return "\n".join(parts)


def _bar(i: int, day: str, series: Sequence[Series], total: int, top: int, slot: float, plot_h: int) -> list[str]:
    """One day's stacked rectangles, each with its tooltip."""
    parts: list[str] = []
    x, bar_w = _LEFT + slot * i + slot * 0.15, max(slot * 0.7, 1.0)
    base = float(_TOP + plot_h)
    for n, part in enumerate(series):
        value = part.values[i]
        if value <= 0:
            continue
        h = plot_h * value / top
        base -= h
        tip = f"{day}: {part.label} {value:,} (total {total:,})"
        parts.append(
            f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}"'
            f' fill="{PALETTE[n % len(PALETTE)]}"><title>{xml_escape(tip)}</title></rect>'
        )
    return parts


def _legend(series: Sequence[Series], y: int) -> list[str]:
    parts: list[str] = []
    x = _LEFT
    for n, part in enumerate(series):
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[n % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}" font-size="11" fill="#222222">{xml_escape(part.label)}</text>')
        x += 24 + 7 * len(part.label)
    return parts
