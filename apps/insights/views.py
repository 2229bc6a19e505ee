"""The /insights/ pages: figures, charts and the recommendations inbox (compliance officers and
admins), and the blind QA review for senior reviewers. Views only call selectors and services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.models import Role
from apps.accounts.selectors import user_has_role
from hitlplatform.errors import DomainError, NotFound

from .charts import calibration_chart, duration_bars, rate_bars
from .models import QaAssignment, Recommendation
from .selectors import (
    WINDOWS,
    figures_for,
    figures_stored,
    qa_agreement,
    qa_assignment_get_for,
    qa_assignments_open_for,
    recommendations_list,
    reviewer_figures_for,
    window_for,
)
from .serializers import payload_seen_by_first_reviewer
from .services import qa_review_record, recommendation_accept, recommendation_activate, recommendation_dismiss

RECOMMENDATION_ACTIONS = {
    "accept": recommendation_accept,
    "activate": recommendation_activate,
    "dismiss": recommendation_dismiss,
}


@login_required
@require_GET
def insights_index(request):
    _ensure_overseer(request.user)
    try:
        window = window_for(days=request.GET.get("window", 30))
    except DomainError:
        messages.error(request, _("The window is a whole number of days from 1 to 365; showing 30 days."))
        window = window_for(days=30)
    # The nightly figures of a standard window, unless asked for live ones (they cost a full scan).
    computed_at, groups = (None, [])
    if window.days in WINDOWS and not request.GET.get("live"):
        computed_at, groups = figures_stored(days=window.days)
    if computed_at is None:
        groups = figures_for(window=window)
    for group in groups:
        group["label"] = f"{group['agent']} · {group['action_type']} · {group['rule'] or _('no rule')}"
        group["calibration_chart"] = calibration_chart(group["calibration"])
    context = {
        "window": window,
        "computed_at": computed_at,
        "windows": WINDOWS,
        "groups": groups,
        "reviewers": reviewer_figures_for(window=window),
        "approval_chart": rate_bars([(group["label"], group["approval_rate"]) for group in groups]),
        "review_rate_chart": rate_bars([(group["label"], group["human_review_rate"]) for group in groups]),
        "duration_chart": duration_bars(
            [(group["label"], group["time_to_decision_p50"], group["time_to_decision_p95"]) for group in groups]
        ),
        "open_recommendations": recommendations_list(state=Recommendation.State.OPEN),
        "decided_recommendations": recommendations_list().exclude(state=Recommendation.State.OPEN)[:20],
        "is_admin": user_has_role(request.user, Role.ADMIN),
        "agreement": qa_agreement(window=window),
    }
    return render(request, "insights/index.html", context)


@login_required
@require_POST
def recommendation_act(request, pk, action):
    _ensure_overseer(request.user)
    service = RECOMMENDATION_ACTIONS.get(action)
    if service is None:
        raise PermissionDenied
    extra = {} if action == "activate" else {"note": request.POST.get("note", "")[:2000]}
    try:
        service(recommendation_id=pk, actor=request.user, **extra)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(
            request,
            {
                "accept": _(
                    "Accepted: a draft policy version was created. A different administrator must activate it."
                ),
                "activate": _("The policy version is active."),
                "dismiss": _("Dismissed."),
            }[action],
        )
    return redirect("insights:index")


@login_required
@require_GET
def qa_list(request):
    _ensure_senior(request.user)
    return render(request, "insights/qa_list.html", {"assignments": qa_assignments_open_for(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def qa_review(request, pk):
    _ensure_senior(request.user)
    try:
        assignment = qa_assignment_get_for(assignment_id=pk, user=request.user)
    except NotFound:
        return render(request, "insights/qa_review.html", {"missing": True}, status=404)
    error = None
    if request.method == "POST":
        try:
            qa_review_record(
                assignment_id=pk,
                reviewer=request.user,
                verdict=request.POST.get("verdict", ""),
                rationale=request.POST.get("rationale", "").strip(),
                password=request.POST.get("password", ""),
            )
        except DomainError as failure:
            error = failure
        else:
            messages.success(request, _("Your QA verdict is recorded."))
            return redirect("insights:qa")
    return render(
        request,
        "insights/qa_review.html",
        {
            "assignment": assignment,
            "proposal": assignment.proposal,
            "payload": payload_seen_by_first_reviewer(assignment),
            "verdicts": QaAssignment.Verdict.choices,
            "error": error,
            "values": request.POST if request.method == "POST" else {},
        },
        status=400 if error else 200,
    )


def _ensure_overseer(user) -> None:
    if not user_has_role(user, Role.COMPLIANCE_OFFICER, Role.ADMIN):
        raise PermissionDenied


def _ensure_senior(user) -> None:
    if not user_has_role(user, Role.SENIOR_REVIEWER):
        raise PermissionDenied
