"""Formatting of figures in the insights pages."""

import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import formats

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.123 -> "12.3%" ("12,3%" in German); an unknown rate (nothing to divide) -> "–"."""
    return "–" if value is None else f"{formats.number_format(value * 100, 1)}%"


@register.filter
def seconds(value) -> str:
    if value is None:
        return "–"
    if value < 120:
        return f"{value:.0f}s"
    if value < 7200:
        return f"{value / 60:.0f}m"
    return f"{formats.number_format(value / 3600, 1)}h"


@register.filter
def number(value, digits=3) -> str:
    return "–" if value is None else formats.number_format(value, int(digits))


@register.filter
def as_json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False, sort_keys=True)
