"""Charts of the report as inline SVG, drawn on the server from aggregated rows (no JavaScript,
no images): WeasyPrint renders them as vectors, and the figures stay in the PDF as text."""

from datetime import date, timedelta
from html import escape

from django.utils import formats
from django.utils.translation import gettext as _

WIDTH, HEIGHT = 700, 230
LEFT, RIGHT, TOP, BOTTOM = 48, 10, 12, 42

OUTCOMES = (
    ("by_policy", "#8fa9c9"),
    ("approved", "#2e7d4f"),
    ("modified", "#d9a21b"),
    ("rejected", "#b3261e"),
    ("expired", "#6d4c8d"),
    ("open", "#b0b0b0"),
)


def outcome_labels() -> dict[str, str]:
    return {
        "by_policy": _("approved by policy"),
        "approved": _("approved by a reviewer"),
        "modified": _("modified"),
        "rejected": _("rejected"),
        "expired": _("expired"),
        "open": _("pending or cancelled"),
    }


def daily_outcomes_svg(rows: list[dict], *, start: date, days: int) -> str:
    """Stacked bars: proposals per day of submission, by outcome."""
    by_day = {row["day"]: row for row in rows}
    peak = max((row["total"] for row in rows), default=0) or 1
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / days
    bar = min(max(step * 0.8, 0.5), 40)
    parts = [_axes(peak, plot_height)]
    for offset in range(days):
        row = by_day.get(start + timedelta(days=offset))
        if not row:
            continue
        x, y = LEFT + offset * step + (step - bar) / 2, TOP + plot_height
        for key, colour in OUTCOMES:
            height = row[key] / peak * plot_height
            if height <= 0:
                continue
            y -= height
            parts.append(f'<rect x="{x:.2f}" y="{y:.2f}" width="{bar:.2f}" height="{height:.2f}" fill="{colour}"/>')
    parts.append(_day_ticks(start, days, step))
    labels = outcome_labels()
    parts.append(_legend([(labels[key], colour) for key, colour in OUTCOMES]))
    return _svg(_("Proposals per day by outcome"), parts)


def approval_trend_svg(rows: list[dict], *, start: date, days: int) -> str:
    """The human approval rate per day (approved and modified over human decisions)."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / days
    points = []
    for row in rows:
        decided = row["approved"] + row["modified"] + row["rejected"]
        if not decided:
            continue
        rate = (row["approved"] + row["modified"]) / decided
        x = LEFT + ((row["day"] - start).days + 0.5) * step
        points.append((x, TOP + plot_height - rate * plot_height))
    parts = [_axes(1.0, plot_height, percent=True)]
    if len(points) > 1:
        path = " ".join(f"{x:.2f},{y:.2f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#2e7d4f" stroke-width="1.6"/>')
    for x, y in points if len(points) <= 62 else ():
        parts.append(f'<circle cx="{x:.2f}" cy="{y:.2f}" r="2" fill="#2e7d4f"/>')
    parts.append(_day_ticks(start, days, step))
    if not points:
        parts.append(_note(_("No human decisions in the period.")))
    return _svg(_("Approval rate per day"), parts)


def confidence_svg(bins: list[dict]) -> str:
    """Bars: the approval rate of human decisions per tenth of the agent's confidence."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_width / len(bins)
    parts = [_axes(1.0, plot_height, percent=True)]
    for index, confidence_bin in enumerate(bins):
        x = LEFT + index * step
        label = f"{formats.number_format(index / 10, 1)}–{formats.number_format((index + 1) / 10, 1)}"
        parts.append(_text(x + step / 2, TOP + plot_height + 14, label, anchor="middle"))
        parts.append(
            _text(
                x + step / 2,
                TOP + plot_height + 26,
                f"n={formats.number_format(confidence_bin['total'], force_grouping=True)}",
                anchor="middle",
            )
        )
        if confidence_bin["approval_rate"] is None:
            continue
        height = confidence_bin["approval_rate"] * plot_height
        parts.append(
            f'<rect x="{x + step * 0.15:.2f}" y="{TOP + plot_height - height:.2f}" width="{step * 0.7:.2f}" '
            f'height="{height:.2f}" fill="#3b6ea5"/>'
        )
    return _svg(_("Approval rate per confidence bin"), parts)


def _svg(title: str, parts: list[str]) -> str:
    body = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-label="{escape(title)}" font-family="DejaVu Sans" font-size="9">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _axes(peak: float, plot_height: float, *, percent: bool = False) -> str:
    lines = []
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        y = TOP + plot_height - fraction * plot_height
        value = peak * fraction
        label = (
            f"{formats.number_format(value * 100, 0)} %"
            if percent
            else formats.number_format(round(value), force_grouping=True)
        )
        lines.append(
            f'<line x1="{LEFT}" y1="{y:.2f}" x2="{WIDTH - RIGHT}" y2="{y:.2f}" stroke="#dddddd" stroke-width="0.6"/>'
        )
        lines.append(_text(LEFT - 4, y + 3, label, anchor="end"))
    return "".join(lines)


def _day_ticks(start: date, days: int, step: float) -> str:
    every = max(1, round(days / 8))
    ticks = []
    for offset in range(0, days, every):
        day = start + timedelta(days=offset)
        x = LEFT + (offset + 0.5) * step
        ticks.append(_text(x, HEIGHT - BOTTOM + 12, formats.date_format(day, "SHORT_DATE_FORMAT"), anchor="middle"))
    return "".join(ticks)


def _legend(entries: list[tuple[str, str]]) -> str:
    items, x = [], LEFT
    for label, colour in entries:
        items.append(f'<rect x="{x}" y="{HEIGHT - 14}" width="8" height="8" fill="{colour}"/>')
        items.append(_text(x + 11, HEIGHT - 7, label))
        x += 16 + len(label) * 5.2
    return "".join(items)


def _note(message: str) -> str:
    return _text(LEFT + (WIDTH - LEFT - RIGHT) / 2, HEIGHT / 2, message, anchor="middle")


def _text(x: float, y: float, content: str, *, anchor: str = "start") -> str:
    return f'<text x="{x:.2f}" y="{y:.2f}" text-anchor="{anchor}" fill="#333333">{escape(content)}</text>'
