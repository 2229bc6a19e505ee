"""Forms of the reviewer web app: queue filters, the decision panel, batches, post-action reviews."""

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.proposals.models import SIGNATURE_MEANINGS, PostActionReview, Verdict
from hitlplatform.jsonlimits import json_loads_limited

from .diffs import payload_changes
from .fast_paths import FORM_RENDERER
from .payload_display import json_editable
from .selectors import RISK_FILTERS, QueueFilters

# Preset rationales per verdict; the reviewer picks one and edits it.
PRESET_REASONS = {
    Verdict.APPROVE: [
        _("Checked against the evidence; the action is correct."),
        _("Within policy and limits; the evidence supports it."),
    ],
    Verdict.MODIFY: [
        _("Corrected a value to match the evidence; otherwise correct."),
        _("Reduced the scope of the action to what the evidence supports."),
    ],
    Verdict.REJECT: [
        _("The evidence does not support the action."),
        _("Outside policy or limits."),
        _("Duplicate of an earlier request."),
    ],
    Verdict.ESCALATE: [
        _("Needs a senior reviewer's judgement."),
        _("Outside my authorization or expertise."),
    ],
    Verdict.REQUEST_CHANGES: [
        _("The approach is right, but the details need another pass."),
        _("The evidence is incomplete; resubmit with what is missing."),
    ],
}

POST_REVIEW_PRESETS = {
    PostActionReview.Verdict.CONFIRM: [_("The executed action was correct.")],
    PostActionReview.Verdict.FLAG: [_("The executed action was wrong; a correction is needed.")],
}

RISK_CHOICES = [
    ("", _("Any risk")),
    ("irreversible", _("Irreversible")),
    ("high_exposure", _("High compliance exposure")),
    ("wide", _("Wide blast radius")),
]
assert {value for value, _label in RISK_CHOICES if value} == set(RISK_FILTERS)

SIGNATURE_MEANING_LABELS = {
    Verdict.APPROVE: _("approved"),
    Verdict.MODIFY: _("approved with modifications"),
    Verdict.REJECT: _("rejected"),
    Verdict.ESCALATE: _("reviewed and escalated"),
    Verdict.REQUEST_CHANGES: _("reviewed, changes requested"),
}
assert set(SIGNATURE_MEANING_LABELS) == set(SIGNATURE_MEANINGS)
# What a post-action review's signature means, as the page shows it while the reviewer chooses.
POST_REVIEW_MEANING_LABELS = {
    PostActionReview.Verdict.CONFIRM: _("reviewed"),
    PostActionReview.Verdict.FLAG: _("flagged"),
}


class ReviewForm(forms.Form):
    """A form of the reviewer web app: its widgets render through the faster renderer (fast_paths)."""

    default_renderer = FORM_RENDERER


class QueueFilterForm(ReviewForm):
    queue = forms.ChoiceField(label=_("Queue"), required=False)
    # Free text behind a menu: the menu's options are cached and may lag, a filter value never is refused.
    action_type = forms.CharField(label=_("Action type"), required=False, max_length=200, widget=forms.Select)
    agent = forms.CharField(label=_("Agent"), required=False, max_length=100, widget=forms.Select)
    risk = forms.ChoiceField(label=_("Risk"), choices=RISK_CHOICES, required=False)
    due_soon = forms.BooleanField(label=_("Due soon"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=200)

    def __init__(self, *args, queues=(), facets=None, **kwargs):
        super().__init__(*args, **kwargs)
        facets = facets or {"action_types": [], "agents": []}
        self.fields["queue"].choices = [("", _("All my queues")), *[(queue.slug, str(queue)) for queue in queues]]
        self.fields["action_type"].widget.choices = [
            ("", _("Any action type")),
            *[(t, t) for t in facets["action_types"]],
        ]
        self.fields["agent"].widget.choices = [("", _("Any agent")), *[(a, a) for a in facets["agents"]]]

    def filters(self) -> QueueFilters:
        if not self.is_valid():
            return QueueFilters()
        data = self.cleaned_data
        return QueueFilters(
            queue=data["queue"],
            action_type=data["action_type"],
            agent=data["agent"],
            risk=data["risk"],
            due_soon=data["due_soon"],
            search=data["q"],
        )


def rationale_field(*, rows: int) -> forms.CharField:
    """The reason a signer gives: required with every signature."""
    return forms.CharField(
        label=_("Rationale"),
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"required": _("A rationale is required.")},
        max_length=5000,
    )


class SignatureFormMixin(ReviewForm):
    """21 CFR 11.200: the first signing of a session asks for username and password, later ones the password."""

    username = forms.CharField(label=_("Username"), required=False, max_length=150)
    password = forms.CharField(
        label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}), strip=False
    )

    def __init__(self, *args, username_required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.username_required = username_required
        if username_required:
            self.fields["username"].required = True
            self.fields["username"].widget.attrs["autocomplete"] = "username"
        else:
            del self.fields["username"]

    @property
    def signing_username(self) -> str | None:
        return self.cleaned_data.get("username") if self.username_required else None


class DecisionForm(SignatureFormMixin):
    verdict = forms.ChoiceField(label=_("Decision"), choices=Verdict.choices, widget=forms.RadioSelect)
    rationale = rationale_field(rows=3)
    payload_version_seen = forms.CharField(widget=forms.HiddenInput, required=False)
    instructions = forms.CharField(
        label=_("Instructions for the agent"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=10_000,
        help_text=_("What the agent should change in its revision. The agent receives them."),
    )

    field_order = ["verdict", "rationale", "username", "password"]

    def __init__(self, *args, proposal, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposal = proposal
        self.payload_fields = []
        for index, (key, value) in enumerate(proposal.current_payload.items()):
            name = f"field_{index}"
            as_json = not isinstance(value, str)  # numbers, booleans and nested values are edited as JSON
            if isinstance(value, dict | list):
                widget = forms.Textarea(attrs={"rows": 4, "class": "json", "spellcheck": "false"})
            else:
                widget = forms.TextInput(attrs={"class": "json" if as_json else ""})
            self.fields[name] = forms.CharField(label=key, required=False, strip=False, widget=widget)
            self.initial.setdefault(name, json_editable(value) if as_json else value)
            self.payload_fields.append((name, key, as_json))
        self.initial.setdefault("payload_version_seen", proposal.payload_version)

    def clean(self):
        data = super().clean()
        if data.get("verdict") == Verdict.REQUEST_CHANGES and not data.get("instructions", "").strip():
            self.add_error("instructions", _("Say what the agent should change."))
        if data.get("verdict") == Verdict.MODIFY:
            payload, errors = self.edited_payload()
            for name, message in errors.items():
                self.add_error(name, message)
            data["payload"] = payload
        return data

    def edited_payload(self) -> tuple[dict, dict]:
        """The payload as edited field by field (numbers, booleans and nested values parsed as JSON),
        and the fields whose JSON does not parse."""
        payload, errors = {}, {}
        for name, key, as_json in self.payload_fields:
            raw = self.data.get(self.add_prefix(name), "")
            if not as_json:
                payload[key] = raw
                continue
            try:
                payload[key] = json_loads_limited(raw)
            except ValueError:
                errors[name] = _("Not valid JSON.")
                payload[key] = raw
        return payload, errors

    def payload_diff(self) -> list[dict]:
        """What the edited payload changes, key by key, for the preview."""
        after, _errors = self.edited_payload()
        return payload_changes(self.proposal.current_payload, after)


class BatchDecisionForm(SignatureFormMixin):
    verdict = forms.ChoiceField(
        label=_("Decision"),
        choices=[(Verdict.APPROVE, _("Approve")), (Verdict.REJECT, _("Reject"))],
        widget=forms.RadioSelect,
    )
    rationale = rationale_field(rows=2)
    proposals = forms.TypedMultipleChoiceField(
        coerce=int,
        required=True,
        error_messages={
            "required": _("Select at least one proposal."),
        },
    )

    field_order = ["verdict", "rationale", "username", "password"]

    def __init__(self, *args, proposal_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["proposals"].choices = [(pk, pk) for pk in proposal_ids]


class PostReviewForm(SignatureFormMixin):
    verdict = forms.ChoiceField(label=_("Review"), choices=PostActionReview.Verdict.choices, widget=forms.RadioSelect)
    rationale = rationale_field(rows=3)
    correction = forms.CharField(
        label=_("Correction (JSON object)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "json", "spellcheck": "false"}),
    )

    field_order = ["verdict", "rationale", "correction", "username", "password"]

    def clean_correction(self):
        raw = self.cleaned_data["correction"].strip()
        if not raw:
            return None
        try:
            correction = json_loads_limited(raw)
        except ValueError:
            raise forms.ValidationError(_("Not valid JSON."))
        if not isinstance(correction, dict):
            raise forms.ValidationError(_("The correction must be a JSON object."))
        return correction

    def clean(self):
        data = super().clean()
        if (
            data.get("verdict") == PostActionReview.Verdict.FLAG
            and not data.get("correction")
            and "correction" not in self.errors
        ):
            self.add_error("correction", _("A flag needs a correction."))
        return data


class ReassignForm(ReviewForm):
    """A senior reviewer or admin moves a pending proposal to another queue, with a note."""

    queue = forms.ChoiceField(label=_("Move to queue"))
    note = forms.CharField(
        label=_("Note"),
        min_length=3,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why it moves.")},
    )

    def __init__(self, *args, queues=(), current=None, **kwargs):
        super().__init__(*args, prefix="reassign", **kwargs)
        self.fields["queue"].choices = [(queue.slug, str(queue)) for queue in queues if queue.pk != current]


class HistoryFilterForm(ReviewForm):
    verdict = forms.ChoiceField(
        label=_("Decision"), choices=[("", _("Any decision")), *Verdict.choices], required=False
    )
    action_type = forms.ChoiceField(label=_("Action type"), required=False)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, action_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action_type"].choices = [("", _("Any action type")), *[(t, t) for t in action_types]]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.cleaned_data.items() if value}
