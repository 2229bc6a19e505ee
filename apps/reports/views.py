"""The compliance officer's pages (/compliance/): dashboard, controls, reports, verification, exports, audit events."""

from datetime import UTC, datetime, time, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from apps.accounts.models import Role
from apps.accounts.selectors import user_has_role
from apps.proposals.selectors import proposals_in_unstaffed_queues
from hitlplatform.errors import Conflict, DomainError, NotFound
from hitlplatform.ids import id_parse

from .apis import report_file_response
from .controls import ControlStatus, controls_evaluate, controls_summary
from .forms import AuditFilterForm, ControlsPeriodForm, PeriodForm, ReportRequestForm
from .models import Report
from .selectors import (
    audit_events_described,
    audit_events_filtered,
    report_audit_integrity,
    report_scope_build,
    report_summary,
    reports_recent,
)
from .services import report_download, report_request

DASHBOARD_DAYS = 30
AUDIT_PAGE_SIZE = 50


def compliance_officer_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not user_has_role(request.user, Role.COMPLIANCE_OFFICER, Role.ADMIN):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@compliance_officer_required
def dashboard(request):
    today = timezone.now().date()
    scope = report_scope_build(period_start=today - timedelta(days=DASHBOARD_DAYS - 1), period_end=today)
    return render(
        request,
        "compliance/dashboard.html",
        {
            "scope": scope,
            "summary": report_summary(scope),
            "reports": reports_recent(limit=5),
            "days": DASHBOARD_DAYS,
            "dead_ends": proposals_in_unstaffed_queues(),
        },
    )


@compliance_officer_required
def controls(request):
    """The control matrix of a period (the last 30 days until one is chosen); reading writes nothing."""
    form = ControlsPeriodForm(request.GET or None)
    if request.GET:
        period = form.cleaned_data if form.is_valid() else None
    else:
        period = {name: field.initial for name, field in form.fields.items()}
    results = scope = None
    if period is not None:
        try:
            scope = report_scope_build(**period)
        except DomainError as error:
            _form_errors(form, error)
        else:
            results = controls_evaluate(scope)
    return render(
        request,
        "compliance/controls.html",
        {
            "form": form,
            "scope": scope,
            "results": results,
            "summary": controls_summary(results) if results else None,
            "statuses": ControlStatus,
        },
    )


@compliance_officer_required
@require_http_methods(["GET", "POST"])
def reports(request):
    form = ReportRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = report_request(requested_by=request.user, **form.cleaned_data)
        except DomainError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Report #%(id)s is queued; this page shows its progress.") % {"id": report.pk})
            return redirect("compliance:reports")
    recent = list(reports_recent(limit=50))
    busy = any(report.status in (Report.Status.QUEUED, Report.Status.RUNNING) for report in recent)
    return render(request, "compliance/reports.html", {"form": form, "reports": recent, "busy": busy})


@compliance_officer_required
def report_file(request, pk):
    try:
        report = report_download(report_id=pk, user=request.user)
    except NotFound as error:
        raise Http404(str(error.message)) from error
    except Conflict as error:
        messages.warning(request, str(error.message))
        return redirect("compliance:reports")
    return report_file_response(report)


@compliance_officer_required
@require_http_methods(["GET", "POST"])
def verify(request):
    integrity = report_audit_integrity() if request.method == "POST" else None
    checked_at = timezone.now() if integrity else None
    return render(request, "compliance/verify.html", {"integrity": integrity, "checked_at": checked_at})


@compliance_officer_required
def exports(request):
    form = PeriodForm(request.GET or None)
    links = None
    if request.GET and form.is_valid():
        try:
            report_scope_build(**form.cleaned_data)
        except DomainError as error:
            _form_errors(form, error)
        else:
            query = request.GET.urlencode()
            links = [
                (_("Decisions (CSV)"), f"{reverse('export-decisions-csv')}?{query}"),
                (_("Decisions (JSON Lines)"), f"{reverse('export-decisions-jsonl')}?{query}"),
                (_("Audit events (JSON Lines)"), f"{reverse('export-audit-jsonl')}?{query}"),
            ]
    return render(request, "compliance/exports.html", {"form": form, "links": links})


@compliance_officer_required
def audit_events(request):
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    before = request.GET.get("before", "")
    events = audit_events_filtered(
        action=filters.get("action", ""),
        actor=filters.get("actor", ""),
        object_type=filters.get("object_type", ""),
        since=_day_start(filters.get("since")),
        until=_day_start(filters.get("until"), days=1),
        before_seq=id_parse(before),
        limit=AUDIT_PAGE_SIZE + 1,
    )
    more = len(events) > AUDIT_PAGE_SIZE
    events = audit_events_described(events[:AUDIT_PAGE_SIZE])
    next_query = None
    if more:
        query = request.GET.copy()
        query["before"] = events[-1].seq
        next_query = query.urlencode()
    return render(request, "compliance/audit_events.html", {"form": form, "events": events, "next_query": next_query})


def _day_start(day, *, days: int = 0):
    return datetime.combine(day + timedelta(days=days), time.min, tzinfo=UTC) if day else None


def _form_errors(form, error: DomainError) -> None:
    for field, problems in error.fields.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, str(problem))
    if not error.fields:
        form.add_error(None, str(error.message))
