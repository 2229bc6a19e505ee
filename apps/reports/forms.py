"""Forms of the compliance pages: a report request, an export period, the audit event filters."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.agents.models import Agent

from .selectors import REPORT_EARLIEST_DAY, REPORT_LATEST_DAY

# Days far outside the records (year 9999) overflow the day-to-instant arithmetic.
SANE_DAY = [MinValueValidator(REPORT_EARLIEST_DAY), MaxValueValidator(REPORT_LATEST_DAY)]


class _DateInput(forms.DateInput):
    input_type = "date"


def _agent_choices():
    return [
        ("", _("All agents")),
        *((name, name) for name in Agent.objects.order_by("name").values_list("name", flat=True)),
    ]


class PeriodForm(forms.Form):
    period_start = forms.DateField(label=_("From"), widget=_DateInput)
    period_end = forms.DateField(label=_("To (inclusive)"), widget=_DateInput)
    agent = forms.ChoiceField(label=_("Agent"), required=False)
    action_type = forms.CharField(
        label=_("Action type"),
        required=False,
        max_length=200,
        help_text=_("Exact, or a prefix ending in *, e.g. payments.*"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = _agent_choices()
        today = timezone.now().date()
        self.fields["period_start"].initial = today - timedelta(days=29)
        self.fields["period_end"].initial = today


class ControlsPeriodForm(forms.Form):
    """The period of the control matrix (the controls speak for the whole platform)."""

    period_start = forms.DateField(label=_("From"), widget=_DateInput)
    period_end = forms.DateField(label=_("To (inclusive)"), widget=_DateInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.now().date()
        self.fields["period_start"].initial = today - timedelta(days=29)
        self.fields["period_end"].initial = today


class ReportRequestForm(PeriodForm):
    language = forms.ChoiceField(label=_("Language of the report"), choices=settings.LANGUAGES, initial="en")


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("Action starts with"), required=False, max_length=100)
    actor = forms.CharField(
        label=_("Actor"), required=False, max_length=150, help_text=_("A username or an agent's name.")
    )
    object_type = forms.CharField(label=_("Object type"), required=False, max_length=100)
    since = forms.DateField(label=_("From"), required=False, widget=_DateInput, validators=SANE_DAY)
    until = forms.DateField(label=_("To (inclusive)"), required=False, widget=_DateInput, validators=SANE_DAY)
