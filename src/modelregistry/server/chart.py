"""A model's prices over time as an SVG drawn on the server (no script, no external asset)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Final

from modelregistry.domain.pricing import decimal_text

if TYPE_CHECKING:
    from modelregistry.domain.pricing import Price

WIDTH: Final = 640
HEIGHT: Final = 240
MARGIN: Final = 48
SERIES: Final = (("input_per_1m", "#2563eb", "input"), ("output_per_1m", "#dc2626", "output"))


def price_chart(model_id: str, timeline: tuple[Price, ...]) -> bytes:
    """Step lines of the input and output price (USD per 1M tokens) from the first price to now."""
    title = f"Prices of {model_id}, USD per 1M tokens"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )
    if not timeline:
        text = f'<text x="{MARGIN}" y="{HEIGHT // 2}">no price recorded</text>'
        return (head + text + "</svg>").encode()
    now = datetime.now(UTC).timestamp()
    start = timeline[0].effective_from.timestamp()
    end = max(now, timeline[-1].effective_from.timestamp()) + 1
    highest = max(max(p.input_per_1m, p.output_per_1m) for p in timeline)
    top = float(highest) or 1.0

    def x(seconds: float) -> float:
        return MARGIN + (seconds - start) / (end - start) * (WIDTH - 2 * MARGIN)

    def y(value: float) -> float:
        return HEIGHT - MARGIN - value / top * (HEIGHT - 2 * MARGIN)

    parts = [head]
    parts.append(
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" '
        f'y2="{HEIGHT - MARGIN}" stroke="#888"/>'
        f'<text x="4" y="{MARGIN}" font-size="11">{decimal_text(highest)}</text>'
        f'<text x="4" y="{HEIGHT - MARGIN}" font-size="11">0</text>'
    )
    for field, colour, label in SERIES:
        points: list[str] = []
        for n, price in enumerate(timeline):
            value = float(getattr(price, field))
            left = x(price.effective_from.timestamp())
            right = (
                x(timeline[n + 1].effective_from.timestamp()) if n + 1 < len(timeline) else x(end)
            )
            points += [f"{left:.1f},{y(value):.1f}", f"{right:.1f},{y(value):.1f}"]
        parts.append(
            f'<polyline class="{label}" fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{" ".join(points)}"/>'
        )
    legend_y = HEIGHT - 12
    parts.append(
        f'<text x="{MARGIN}" y="{legend_y}" font-size="12" fill="{SERIES[0][1]}">input</text>'
        f'<text x="{MARGIN + 60}" y="{legend_y}" font-size="12" fill="{SERIES[1][1]}">output</text>'
        f'<text x="{WIDTH - MARGIN}" y="{legend_y}" font-size="11" text-anchor="end">'
        f"{escape(timeline[0].effective_from.date().isoformat())} to now</text>"
    )
    parts.append("</svg>")
    return "".join(parts).encode()
