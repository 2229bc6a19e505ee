"""The queue (pending decisions and post-action reviews), batch signing and the reviewer's history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from apps.accounts.selectors import user_may_decide
from hitlplatform.errors import DomainError
from hitlplatform.ids import id_parse

from .. import selectors
from ..forms import PRESET_REASONS, SIGNATURE_MEANING_LABELS, BatchDecisionForm, HistoryFilterForm, QueueFilterForm
from ..selectors import QueueFilters
from ..services import proposals_decide_batch
from .account import start_page_of
from .common import (
    POST_REVIEWS_TAB,
    SIGNING_SESSION_KEY,
    form_errors,
    page_of,
    query_without_page,
    refused,
    username_required,
)


@login_required
def queue(request):
    queues = selectors.review_queues_of(request.user)
    if not request.htmx and not queues:
        start = start_page_of(request.user, queues)
        if start != reverse("review:queue"):
            return redirect(start)
    return _queue_page(request, queues=queues)


@login_required
@require_POST
def batch_decide(request):
    """One rationale and one signature for the selected proposals; problems come back inline."""
    ids = [pk for pk in map(id_parse, request.POST.getlist("proposals")) if pk is not None]
    form = BatchDecisionForm(request.POST, proposal_ids=ids, username_required=username_required(request))
    if not form.is_valid():
        return _queue_page(request, batch_form=form, selected=ids, status=400)
    try:
        outcomes = proposals_decide_batch(
            proposal_ids=form.cleaned_data["proposals"],
            reviewer=request.user,
            verdict=form.cleaned_data["verdict"],
            rationale=form.cleaned_data["rationale"],
            password=form.cleaned_data["password"],
            username=form.signing_username,
        )
    except DomainError as error:
        form_errors(form, error)
        return refused(_queue_page(request, batch_form=form, selected=ids, status=400), error)
    request.session[SIGNING_SESSION_KEY] = True
    decided = [outcome for outcome in outcomes if outcome.decision is not None]
    if decided:
        messages.success(
            request,
            ngettext("Signed %(count)s decision.", "Signed %(count)s decisions.", len(decided))
            % {"count": len(decided)},
        )
    for outcome in outcomes:
        if outcome.error:
            messages.error(request, _("#%(id)s: %(error)s") % {"id": outcome.proposal_id, "error": outcome.error})
    return redirect(reverse("review:queue"))


def _queue_page(request, *, batch_form=None, selected=(), status=200, queues=None):
    if queues is None:
        queues = selectors.review_queues_of(request.user)
    tab = POST_REVIEWS_TAB if request.GET.get("tab") == POST_REVIEWS_TAB else "decisions"
    facets = selectors.review_queue_facets(queues=queues)
    filter_form = QueueFilterForm(request.GET or None, queues=queues, facets=facets)
    counts = selectors.review_queue_counts(user=request.user, queues=queues)
    if tab == POST_REVIEWS_TAB:
        page = page_of(request, selectors.post_reviews_for(queues=queues))
    else:
        filters = filter_form.filters()
        proposals = selectors.review_queue_proposals(user=request.user, queues=queues, filters=filters)
        # Unfiltered, the per-queue counts already add up to the total: no second COUNT.
        page = page_of(request, proposals, count=None if filters != QueueFilters() else sum(counts.values()))
        approvals = selectors.approvals_so_far(page.object_list)
        for proposal in page.object_list:
            proposal.approvals_so_far = approvals[proposal.pk]
    context = {
        "tab": tab,
        "queues": [(queue, counts.get(queue.pk, 0)) for queue in queues],
        "pending_total": sum(counts.values()),
        "post_review_total": page.paginator.count if tab == POST_REVIEWS_TAB else None,
        "filter_form": filter_form,
        "page": page,
        "query": query_without_page(request),
        "may_decide": user_may_decide(request.user),
        "batch_form": batch_form or BatchDecisionForm(username_required=username_required(request)),
        "selected": set(selected),
        "filtered": tab != POST_REVIEWS_TAB and filter_form.filters() != QueueFilters(),
        "presets": PRESET_REASONS,
        "meanings": SIGNATURE_MEANING_LABELS,
    }
    template = (
        "review/_queue_results.html" if request.htmx and request.htmx.target == "queue-results" else "review/queue.html"
    )
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response


@login_required
def history(request):
    form = HistoryFilterForm(request.GET or None, action_types=selectors.decided_action_types(user=request.user))
    page = page_of(request, selectors.decisions_of(user=request.user, **form.filters()))
    return render(request, "review/history.html", {"form": form, "page": page, "query": query_without_page(request)})
