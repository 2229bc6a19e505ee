"""A policy's rules in words: durations, percentages, condition names and values, localized.

One wording for every page that explains a rule: the review app's routing trace and the Django
admin's rule table (German and French pages never show `30m`, `False` or `['none', 'low']`).
"""

from datetime import timedelta

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def duration_words(duration: timedelta | None) -> str:
    """30 minutes, 4 hours, 2 days, 90 seconds (the largest whole unit)."""
    if duration is None:
        return ""
    seconds = int(duration.total_seconds())
    # Literal calls, so that makemessages finds every form.
    for size, words in (
        (86400, lambda count: ngettext("%(count)s day", "%(count)s days", count)),
        (3600, lambda count: ngettext("%(count)s hour", "%(count)s hours", count)),
        (60, lambda count: ngettext("%(count)s minute", "%(count)s minutes", count)),
    ):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return words(count) % {"count": formats.number_format(count, force_grouping=True)}
    return ngettext("%(count)s second", "%(count)s seconds", seconds) % {"count": seconds}


def percent_words(ratio: float | None) -> str:
    if ratio is None:
        return "–"
    return _("%(value)s %%") % {"value": formats.number_format(round(ratio * 100))}


CONDITION_LABELS = {
    "agent": lambda: _("Agent"),
    "action_type": lambda: _("Action type"),
    "irreversible": lambda: _("Irreversible"),
    "max_blast_radius": lambda: _("Blast radius at most"),
    "min_blast_radius": lambda: _("Blast radius at least"),
    "compliance_exposure": lambda: _("Compliance exposure"),
    "min_confidence": lambda: _("Confidence at least"),
}
EXPOSURE_LABELS = {"none": lambda: _("none"), "low": lambda: _("low"), "high": lambda: _("high")}


def value_words(value, *, condition: str = "") -> str:
    """True -> Yes, ['none', 'low'] -> none or low, 0.9 -> 90 % for confidences, "*" -> any."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None:
        return "–"
    if isinstance(value, list | tuple):
        return _(" or ").join(value_words(item, condition=condition) for item in value)
    if condition == "compliance_exposure" and value in EXPOSURE_LABELS:
        return str(EXPOSURE_LABELS[value]())
    if condition in ("min_confidence", "confidence") and isinstance(value, int | float):
        return percent_words(value)
    if value == "*":
        return _("any")
    if isinstance(value, int | float):
        return formats.number_format(value, force_grouping=True)
    return str(value)


def condition_words(condition: str, value) -> str:
    """A rule's `when` condition as a phrase: "only irreversible actions", "blast radius at most 1,000"."""
    if condition == "irreversible":
        return _("only irreversible actions") if value else _("only reversible actions")
    label = CONDITION_LABELS.get(condition)
    if label is None:
        return f"{condition}: {value_words(value)}"
    return _("%(condition)s %(value)s") % {"condition": label(), "value": value_words(value, condition=condition)}
