"""Formatting of figures in the insights pages."""

import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.123 -> "12.3%"; an unknown rate (nothing to divide) -> "–"."""
    return "–" if value is None else f"{value * 100:.1f}%"


@register.filter
def seconds(value) -> str:
    if value is None:
        return "–"
    if value < 120:
        return f"{value:.0f}s"
    if value < 7200:
        return f"{value / 60:.0f}m"
    return f"{value / 3600:.1f}h"


@register.filter
def number(value, digits=3) -> str:
    return "–" if value is None else f"{value:.{int(digits)}f}"


@register.filter
def as_json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False, sort_keys=True)
