"""Geometry of the server-rendered SVG charts; templates only draw what is computed here.

Coordinates are plain floats: the templates print them inside `{% localize off %}`, since a
German "360,0" is no SVG length. Only the texts (labels, values, titles) are localized.
"""

from dataclasses import dataclass

from django.utils import formats

from .templatetags.insights import percent as _percent
from .templatetags.insights import seconds

BAR_HEIGHT = 18
BAR_GAP = 8
LABEL_WIDTH = 340
LABEL_CHARS = 48  # at 12px a longer label would run past the chart's left edge
PLOT_WIDTH = 360
VALUE_WIDTH = 140


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    y: float
    width: float
    text_y: float
    secondary_width: float | None = None
    short_label: str = ""


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    label_width: int = LABEL_WIDTH
    plot_width: int = PLOT_WIDTH
    total_width: int = LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH


def rate_bars(rows: list[tuple[str, float | None]]) -> BarChart:
    """Horizontal bars of rates from 0 to 1; an unknown rate draws no bar and reads "–"."""
    return _bars([(label, value, 1.0, _percent(value), None) for label, value in rows])


def duration_bars(rows: list[tuple[str, float | None, float | None]]) -> BarChart:
    """p50 as the bar and p95 as a thinner bar behind it, scaled to the largest p95."""
    top = max([p95 or p50 or 0 for _, p50, p95 in rows] + [1])
    return _bars([(label, p50, top, f"{_duration(p50)} / {_duration(p95)}", p95) for label, p50, p95 in rows])


@dataclass(frozen=True)
class CalibrationChart:
    points: list[dict]
    diagonal: tuple[float, float, float, float]
    size: int
    margin: int
    plot: int


def calibration_chart(calibration: list[dict], size: int = 220, margin: int = 30) -> CalibrationChart:
    """Approval rate per confidence decile against the diagonal of perfect calibration."""
    plot = size - 2 * margin
    points = []
    for band in calibration:
        if band["approval_rate"] is None:
            continue
        centre = (band["low"] + band["high"]) / 2
        points.append(
            {
                "x": round(margin + centre * plot, 1),
                "y": round(margin + (1 - band["approval_rate"]) * plot, 1),
                "r": 3 + min(band["verdicts"], 100) ** 0.5 / 2,
                "title": f"{formats.number_format(band['low'], 1)}–{formats.number_format(band['high'], 1)}: "
                f"{_percent(band['approval_rate'])} ({band['verdicts']})",
            }
        )
    return CalibrationChart(
        points=points, diagonal=(margin, margin + plot, margin + plot, margin), size=size, margin=margin, plot=plot
    )


def _bars(rows) -> BarChart:
    bars = []
    for index, (label, value, top, text, secondary) in enumerate(rows):
        y = index * (BAR_HEIGHT + BAR_GAP)
        bars.append(
            Bar(
                label=label,
                value_text=text,
                y=y,
                width=round(PLOT_WIDTH * (value or 0) / top, 1),
                text_y=y + BAR_HEIGHT - 4,
                secondary_width=round(PLOT_WIDTH * secondary / top, 1) if secondary is not None else None,
                short_label=label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…",
            )
        )
    return BarChart(bars=bars, height=max(1, len(rows)) * (BAR_HEIGHT + BAR_GAP))


def _duration(value) -> str:
    return seconds(value)
