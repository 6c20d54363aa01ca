"""Small inline SVG charts for the HTML report: horizontal bars (with intervals or stacked
segments), a Pareto chart and lines over time. Every text is escaped; nothing is linked."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

PALETTE = ("#3b6ea5", "#e08a2c", "#4c9a52", "#c44e52", "#8172b3", "#937860", "#da8bc3")
STATUS_COLOURS = {
    "submitted": "#4c9a52",
    "skipped": "#b0b0b0",
    "flagged": "#e08a2c",
    "remaining": "#dde3ea",
}
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _t(text: object) -> str:
    return escape(str(text), quote=True)


def _n(x: float) -> str:
    return f"{x:.1f}"


@dataclass
class Bar:
    label: str
    value: float
    low: float | None = None
    high: float | None = None
    text: str = ""
    """Printed after the bar (defaults to the value)."""
    colour: str = PALETTE[0]
    segments: list[tuple[float, str, str]] = field(default_factory=list)
    """Stacked parts: (value, colour, name); when given, ``value`` is their sum."""


def bars(bars: list[Bar], *, maximum: float | None = None, title: str = "") -> str:
    """A horizontal bar chart; whiskers where a bar has an interval."""
    if not bars:
        return '<p class="empty">No data.</p>'
    label_w, bar_w, text_w, row_h = 190, 360, 170, 22
    top = 6
    height = top + row_h * len(bars) + 6
    scale_max = maximum or max([b.high if b.high is not None else b.value for b in bars] + [1e-9])
    out = [
        f'<svg role="img" width="{label_w + bar_w + text_w}" height="{height}" {FONT}'
        f' viewBox="0 0 {label_w + bar_w + text_w} {height}"><title>{_t(title)}</title>'
    ]
    for i, b in enumerate(bars):
        y = top + i * row_h
        label = b.label if len(b.label) <= 30 else b.label[:29] + "…"
        out.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end"><title>{_t(b.label)}</title>'
            f"{_t(label)}</text>"
        )
        x = float(label_w)
        parts = b.segments or [(b.value, b.colour, "")]
        for value, colour, name in parts:
            w = max(0.0, bar_w * value / scale_max)
            tip = f"{name}: {value:g}" if name else b.text or f"{value:g}"
            out.append(
                f'<rect x="{_n(x)}" y="{y + 4}" width="{_n(w)}" height="{row_h - 8}"'
                f' fill="{colour}"><title>{_t(tip)}</title></rect>'
            )
            x += w
        if b.low is not None and b.high is not None:
            x1 = label_w + bar_w * b.low / scale_max
            x2 = label_w + bar_w * b.high / scale_max
            mid = y + row_h / 2
            out.append(
                f'<path d="M{_n(x1)} {_n(mid)}H{_n(x2)}M{_n(x1)} {_n(mid - 5)}V{_n(mid + 5)}'
                f'M{_n(x2)} {_n(mid - 5)}V{_n(mid + 5)}" stroke="#222" fill="none"/>'
            )
        end = label_w + bar_w * max(b.value, b.high or 0.0) / scale_max
        out.append(f'<text x="{_n(end + 6)}" y="{y + 15}">{_t(b.text or f"{b.value:g}")}</text>')
    out.append("</svg>")
    return "".join(out)


def legend(items: list[tuple[str, str]]) -> str:
    return (
        '<p class="legend">'
        + " ".join(f'<span><i style="background:{c}"></i>{_t(name)}</span>' for name, c in items)
        + "</p>"
    )


def pareto(items: list[tuple[str, int, float]], *, title: str = "") -> str:
    """Vertical bars (counts, most frequent first) with the cumulative share as a line."""
    if not items:
        return '<p class="empty">No failure tagged.</p>'
    left, bottom, plot_h, slot = 44, 120, 200, 46
    width = left + slot * len(items) + 110
    height = plot_h + bottom + 10
    peak = max(n for _, n, _ in items) or 1
    out = [
        f'<svg role="img" width="{width}" height="{height}" {FONT}'
        f' viewBox="0 0 {width} {height}"><title>{_t(title)}</title>',
        f'<line x1="{left}" y1="{plot_h + 10}" x2="{width - 106}" y2="{plot_h + 10}"'
        ' stroke="#888"/>',
    ]
    points = []
    for i, (label, n, cumulative) in enumerate(items):
        x = left + i * slot + 6
        h = plot_h * n / peak
        out.append(
            f'<rect x="{x}" y="{_n(plot_h + 10 - h)}" width="{slot - 12}" height="{_n(h)}"'
            f' fill="{PALETTE[0]}"><title>{_t(label)}: {n:,}</title></rect>'
            f'<text x="{x + (slot - 12) / 2:.1f}" y="{_n(plot_h + 6 - h)}"'
            f' text-anchor="middle">{n:,}</text>'
            f'<text transform="translate({x + (slot - 12) / 2:.1f},{plot_h + 22}) rotate(40)"'
            f">{_t(label if len(label) <= 22 else label[:21] + '…')}</text>"
        )
        points.append((x + (slot - 12) / 2, plot_h + 10 - plot_h * cumulative))
    path = " ".join(f"{'M' if i == 0 else 'L'}{_n(x)} {_n(y)}" for i, (x, y) in enumerate(points))
    out.append(f'<path d="{path}" stroke="{PALETTE[1]}" stroke-width="2" fill="none"/>')
    out += [f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{PALETTE[1]}"/>' for x, y in points]
    out.append(
        f'<text x="{width - 100}" y="14" fill="{PALETTE[1]}">100 %</text>'
        f'<text x="{width - 100}" y="{plot_h + 10}" fill="{PALETTE[1]}">0 %</text></svg>'
    )
    return "".join(out)


def lines(
    series: dict[str, list[tuple[str, float]]], *, maximum: float, title: str = "", unit: str = ""
) -> str:
    """One line per series over shared, ordered x labels (e.g. weeks)."""
    xs = sorted({x for points in series.values() for x, _ in points})
    if not xs:
        return '<p class="empty">No data.</p>'
    left, right, top, plot_h, step = 48, 20, 10, 180, max(40, 560 // max(1, len(xs)))
    width = left + step * max(1, len(xs) - 1) + right + 40
    height = top + plot_h + 60
    pos = {x: left + i * step for i, x in enumerate(xs)}
    maximum = maximum or 1.0
    out = [
        f'<svg role="img" width="{width}" height="{height}" {FONT}'
        f' viewBox="0 0 {width} {height}"><title>{_t(title)}</title>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}"'
        ' stroke="#888"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{maximum:g}{_t(unit)}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for x in xs:
        out.append(
            f'<text transform="translate({pos[x]},{top + plot_h + 14}) rotate(40)">{_t(x)}</text>'
        )
    for k, (name, points) in enumerate(sorted(series.items())):
        colour = PALETTE[k % len(PALETTE)]
        coords = [(pos[x], top + plot_h - plot_h * min(v, maximum) / maximum) for x, v in points]
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{_n(a)} {_n(b)}" for i, (a, b) in enumerate(coords)
        )
        out.append(f'<path d="{path}" stroke="{colour}" stroke-width="2" fill="none"/>')
        out += [
            f'<circle cx="{_n(a)}" cy="{_n(b)}" r="3" fill="{colour}"><title>{_t(name)} {_t(x)}:'
            f" {v:.3g}{_t(unit)}</title></circle>"
            for (a, b), (x, v) in zip(coords, points, strict=True)
        ]
    out.append("</svg>")
    return "".join(out)
