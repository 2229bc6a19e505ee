"""The review forms render through Django's Jinja2 form templates (apps/review/fast_paths.py) for
speed; the markup a reviewer gets must stay what Django's own templates would give."""

import re
from types import SimpleNamespace

import pytest
from django.forms.renderers import DjangoTemplates

from apps.review.fast_paths import FORM_RENDERER
from apps.review.forms import (
    BatchDecisionForm,
    DecisionForm,
    HistoryFilterForm,
    PostReviewForm,
    QueueFilterForm,
    ReassignForm,
)

TEXTAREA = re.compile(r"<textarea[^>]*>(.*?)</textarea>", re.S)
PROPOSAL = SimpleNamespace(
    current_payload={"order": "A-1", "amount": 12.5, "items": [{"sku": "X", "note": 'say "hi" & <b>'}]},
    payload_version="0" * 64,
)
FORMS = {
    "decision": lambda data: DecisionForm(data, proposal=PROPOSAL),
    "decision, later signature": lambda data: DecisionForm(data, proposal=PROPOSAL, username_required=False),
    "batch": lambda data: BatchDecisionForm(data, proposal_ids=[1, 2]),
    "post-review": lambda data: PostReviewForm(data),
    "reassign": lambda data: ReassignForm(data, queues=[SimpleNamespace(pk=2, slug="legal")], current=1),
    "queue filter": lambda data: QueueFilterForm(data, facets={"action_types": ["payments.refund"], "agents": ["bot"]}),
    "history filter": lambda data: HistoryFilterForm(data, action_types=["payments.refund"]),
}


def _markup(form, renderer) -> str:
    form.renderer = renderer
    parts = []
    for field in form:
        parts += [str(field), field.label_tag(), str(field.errors)]
    parts.append(str(form.non_field_errors()))
    # The one difference in characters: Jinja2 escapes a quote as &#34;, Django's templates as &quot;.
    return "\n".join(parts).replace("&#34;", "&quot;").replace("&#39;", "&#x27;")


def _as_a_browser_lays_it_out(markup: str) -> str:
    """Whitespace collapsed, and none around the blocks (the two template sets break lines apart)."""
    return re.sub(r"\s*(</?div[^>]*>)\s*", r"\1", re.sub(r"\s+", " ", markup))


@pytest.mark.parametrize("data", [None, {"verdict": "nonsense", "rationale": "", "since": "not a date"}])
@pytest.mark.parametrize("name", FORMS)
def test_a_review_form_renders_as_djangos_own_templates_would(name, data):
    fast, reference = FORMS[name](data), FORMS[name](data)
    if data is not None:
        fast.is_valid(), reference.is_valid()  # the errors are rendered too

    fast_markup, reference_markup = _markup(fast, FORM_RENDERER), _markup(reference, DjangoTemplates())

    assert fast.renderer is FORM_RENDERER
    assert _as_a_browser_lays_it_out(fast_markup) == _as_a_browser_lays_it_out(reference_markup)
    # A textarea's text is kept as written, whitespace and all.
    assert TEXTAREA.findall(fast_markup) == TEXTAREA.findall(reference_markup)
