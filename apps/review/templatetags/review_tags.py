"""Template helpers of the reviewer web app."""

from datetime import UTC

from django import template
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from apps.proposals.models import SIGNATURE_MEANINGS
from apps.review import wording
from apps.review.payload_display import json_shown

register = template.Library()
# The meanings a signature records, as apps.proposals stores them; the same words are msgids of the
# catalogue (marked in apps.review.forms.SIGNATURE_MEANING_LABELS). "reviewed": a confirmed post-action review.
SIGNATURE_MEANING_WORDS = frozenset({*SIGNATURE_MEANINGS.values(), "reviewed"})


@register.simple_tag
def due(when):
    """Time left until an SLA deadline; app.js keeps it ticking from the datetime attribute."""
    if when is None:
        return format_html('<span class="muted">—</span>')
    seconds = int((when - timezone.now()).total_seconds())
    css = "overdue" if seconds < 0 else "soon" if seconds < 3600 else ""
    # Built by hand: this runs for every row of the queue, where format_html's escaping of
    # values that need none is measurable. The instant is ISO-8601 (no markup characters).
    instant = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return mark_safe(  # noqa: S308
        f'<time class="due {css}" datetime="{instant}" data-due title="{instant}">{escape(time_left_text(seconds))}</time>'
    )


@register.simple_tag(takes_context=True)
def claim_note(context, proposal) -> str:
    """ "Rita is on it, 12 min left" while a claim lasts; "" otherwise."""
    holder = proposal.claim_holder_id()
    if holder is None:
        return ""
    minutes = max(1, -(-int((proposal.claim_expires_at - timezone.now()).total_seconds()) // 60))
    user = context.get("user")
    if user is not None and holder == user.pk:
        return _("You are on it, %(minutes)s min left") % {"minutes": minutes}
    name = proposal.claimed_by.first_name or proposal.claimed_by.get_username()
    return _("%(name)s is on it, %(minutes)s min left") % {"name": name, "minutes": minutes}


def time_left_text(seconds: int) -> str:
    span = abs(seconds)
    days, rest = divmod(span, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        amount = _("%(d)sd %(h)sh") % {"d": days, "h": hours}
    elif hours:
        amount = _("%(h)sh %(m)sm") % {"h": hours, "m": minutes}
    else:
        amount = _("%(m)sm %(s)ss") % {"m": minutes, "s": secs}
    return _("%(amount)s overdue") % {"amount": amount} if seconds < 0 else _("%(amount)s left") % {"amount": amount}


@register.filter
def as_json(value) -> str:
    """Cut past REVIEW_PAYLOAD_DISPLAY_CHARS (apps/review/payload_display.py); the page links the whole."""
    return json_shown(value).text


@register.filter
def is_nested(value) -> bool:
    return isinstance(value, dict | list)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.simple_tag
def confidence(value: float):
    """The agent's confidence as a meter and a percentage (red below 0.5, amber below 0.8)."""
    css = "low" if value < 0.5 else "mid" if value < 0.8 else ""
    return format_html(
        '<span class="confidence {}"><meter min="0" max="1" low="0.5" high="0.8" optimum="1" value="{}" aria-hidden="true">'
        "</meter> {}&nbsp;%</span>",
        css,
        f"{value:.2f}",
        round(value * 100),
    )


@register.inclusion_tag("review/_payload.html")
def payload_fields(proposal):
    """The payload in reading order (changed and important fields first, nested ones folded).

    The one place that renders a payload on the review page: limits on huge or deep payloads
    belong here too.
    """
    original = proposal.payload if proposal.modified else None
    shown, more = wording.payload_fields(proposal.current_payload, original)
    return {"proposal": proposal, "shown": shown, "more": more}


@register.filter
def meaning_label(meaning: str) -> str:
    """A stored signature meaning ("approved", ...) in the reader's language."""
    return _(meaning) if meaning in SIGNATURE_MEANING_WORDS else meaning


@register.filter
def evidence_link(value):
    """An evidence value as a link when it is an http(s) URL; anything else stays text."""
    text = str(value)
    if text.startswith(("https://", "http://")) and " " not in text:
        return format_html('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>', text, text)
    return text
