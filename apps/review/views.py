"""Pages of the reviewer web app. Thin: selectors read, services write, forms validate."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from apps.accounts.models import Role
from apps.accounts.selectors import user_has_role, user_may_decide, user_roles
from apps.accounts.services import user_password_change
from apps.proposals.models import ReviewState, Status, Verdict
from apps.proposals.selectors import proposal_get_for
from apps.proposals.services import (
    ensure_may_decide,
    proposal_claim,
    proposal_claim_release,
    proposal_decide,
    proposal_post_review,
    proposal_reassign,
)
from hitlplatform.errors import DomainError, NotFound
from hitlplatform.ids import id_parse

from . import selectors, wording
from .forms import (
    POST_REVIEW_PRESETS,
    PRESET_REASONS,
    SIGNATURE_MEANING_LABELS,
    BatchDecisionForm,
    DecisionForm,
    HistoryFilterForm,
    PostReviewForm,
    QueueFilterForm,
    ReassignForm,
)
from .payload_display import json_shown
from .selectors import QueueFilters
from .services import proposal_view_record, proposals_decide_batch

# Set after the first successful signature of a session, cleared at login (21 CFR 11.200).
SIGNING_SESSION_KEY = "signing_session_started"
POST_REVIEWS_TAB = "post"


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return start_page_of(self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(idle_minutes=settings.SESSION_IDLE_TIMEOUT // 60, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session.pop(SIGNING_SESSION_KEY, None)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("review:profile")

    def form_valid(self, form):
        user_password_change(
            user=self.request.user, password=form.cleaned_data["new_password1"], actor=self.request.user
        )
        # Keep this session signed in; every other session of the user ends with the old hash.
        auth_views.update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, _("Your password was changed."))
        return redirect(self.get_success_url())


def home(request):
    return redirect(start_page_of(request.user) if request.user.is_authenticated else reverse("review:queue"))


def start_page_of(user, queues=None) -> str:
    """Where a user's work is: the queue for a reviewer, the compliance area, or the admin."""
    if queues is None:
        queues = selectors.review_queues_of(user)
    if queues:
        return reverse("review:queue")
    if user_has_role(user, Role.COMPLIANCE_OFFICER):
        return reverse("compliance:dashboard")
    if user_has_role(user, Role.ADMIN):
        return reverse("admin:index") if user.is_staff else reverse("compliance:dashboard")
    return reverse("review:queue")


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
    form = BatchDecisionForm(request.POST, proposal_ids=ids, username_required=_username_required(request))
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
        _form_errors(form, error)
        return _refused(_queue_page(request, batch_form=form, selected=ids, status=400), error)
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
        page = _page(request, selectors.post_reviews_for(queues=queues))
    else:
        filters = filter_form.filters()
        proposals = selectors.review_queue_proposals(user=request.user, queues=queues, filters=filters)
        # Unfiltered, the per-queue counts already add up to the total: no second COUNT.
        page = _page(request, proposals, count=None if filters != QueueFilters() else sum(counts.values()))
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
        "query": _query_without_page(request),
        "may_decide": user_may_decide(request.user),
        "batch_form": batch_form or BatchDecisionForm(username_required=_username_required(request)),
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
def detail(request, proposal_id: int):
    try:
        proposal = _proposal_or_404(request.user, proposal_id)
    except MovedAway as moved:
        return render(request, "review/moved_away.html", {"moved": moved.proposal}, status=404)
    queues = selectors.review_queues_of(request.user)
    decide_blocked = _decide_blocked(proposal, request.user)
    form = refusal = None
    if not decide_blocked:
        form = DecisionForm(request.POST or None, proposal=proposal, username_required=_username_required(request))
    if request.method == "POST":
        if form is None:
            messages.error(request, decide_blocked)
            return redirect(reverse("review:detail", args=[proposal.pk]))
        if form.is_valid():
            try:
                proposal_decide(
                    proposal_id=proposal.pk,
                    reviewer=request.user,
                    verdict=form.cleaned_data["verdict"],
                    rationale=form.cleaned_data["rationale"],
                    password=form.cleaned_data["password"],
                    payload=form.cleaned_data.get("payload"),
                    payload_version_seen=form.cleaned_data["payload_version_seen"] or None,
                    username=form.signing_username,
                    instructions=form.cleaned_data.get("instructions", ""),
                )
            except DomainError as error:
                _form_errors(form, error)
                refusal = error
            else:
                request.session[SIGNING_SESSION_KEY] = True
                messages.success(request, _("Your decision on #%(id)s is signed.") % {"id": proposal.pk})
                following = selectors.next_proposal_id(user=request.user, queues=queues, after=proposal)
                return redirect(reverse("review:detail", args=[following]) if following else reverse("review:queue"))
        status = 400
    else:
        status = 200
        proposal_view_record(proposal=proposal, user=request.user)
    context = _detail_context(request, proposal, queues, form, decide_blocked)
    return _refused(render(request, "review/detail.html", context, status=status), refusal)


@login_required
def payload_download(request, proposal_id: int):
    """The whole payload as a JSON file (the page may show it cut)."""
    proposal = _proposal_or_404(request.user, proposal_id)
    response = HttpResponse(
        json.dumps(proposal.current_payload, ensure_ascii=False, indent=2), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="proposal-{proposal.pk}-payload.json"'
    return response


@login_required
@require_POST
def payload_diff(request, proposal_id: int):
    proposal = _proposal_or_404(request.user, proposal_id)
    form = DecisionForm(request.POST, proposal=proposal, username_required=False)
    return render(request, "review/_payload_diff.html", {"diff": form.payload_diff()})


@login_required
@require_POST
def post_review(request, proposal_id: int):
    proposal = _proposal_or_404(request.user, proposal_id)
    form = PostReviewForm(request.POST, username_required=_username_required(request))
    refusal = None
    if form.is_valid():
        try:
            proposal_post_review(
                proposal_id=proposal.pk,
                reviewer=request.user,
                verdict=form.cleaned_data["verdict"],
                rationale=form.cleaned_data["rationale"],
                correction=form.cleaned_data["correction"],
                password=form.cleaned_data["password"],
                username=form.signing_username,
            )
        except DomainError as error:
            _form_errors(form, error)
            refusal = error
        else:
            request.session[SIGNING_SESSION_KEY] = True
            messages.success(request, _("Your post-action review of #%(id)s is signed.") % {"id": proposal.pk})
            return redirect(reverse("review:queue") + f"?tab={POST_REVIEWS_TAB}")
    queues = selectors.review_queues_of(request.user)
    decide_blocked = _decide_blocked(proposal, request.user)
    context = _detail_context(request, proposal, queues, None, decide_blocked, post_review_form=form)
    return _refused(render(request, "review/detail.html", context, status=400), refusal)


@login_required
@require_POST
def claim(request, proposal_id: int):
    """Claim the proposal (or release the claim) and come back to it."""
    proposal = _proposal_or_404(request.user, proposal_id)
    try:
        if request.POST.get("action") == "release":
            proposal_claim_release(proposal_id=proposal.pk, user=request.user, note=request.POST.get("note", ""))
            messages.success(request, _("You released #%(id)s.") % {"id": proposal.pk})
        else:
            proposal_claim(proposal_id=proposal.pk, reviewer=request.user)
            messages.success(
                request,
                _("You are on #%(id)s for %(minutes)s minutes.")
                % {"id": proposal.pk, "minutes": settings.REVIEW_CLAIM_SECONDS // 60},
            )
    except DomainError as error:
        messages.error(request, str(error.message))
    return redirect(reverse("review:detail", args=[proposal.pk]))


@login_required
@require_POST
def reassign(request, proposal_id: int):
    proposal = _proposal_or_404(request.user, proposal_id)
    form = ReassignForm(request.POST, queues=selectors.reassign_targets(), current=proposal.queue_id)
    if form.is_valid():
        try:
            proposal_reassign(
                proposal_id=proposal.pk,
                actor=request.user,
                queue=form.cleaned_data["queue"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request, _("#%(id)s moved to %(queue)s.") % {"id": proposal.pk, "queue": form.cleaned_data["queue"]}
            )
            return redirect(reverse("review:queue"))
    queues = selectors.review_queues_of(request.user)
    context = _detail_context(request, proposal, queues, None, _decide_blocked(proposal, request.user))
    context["reassign_form"] = form
    return render(request, "review/detail.html", context, status=400)


@login_required
def history(request):
    form = HistoryFilterForm(request.GET or None, action_types=selectors.decided_action_types(user=request.user))
    page = _page(request, selectors.decisions_of(user=request.user, **form.filters()))
    return render(request, "review/history.html", {"form": form, "page": page, "query": _query_without_page(request)})


@login_required
def profile(request):
    profile = getattr(request.user, "reviewer_profile", None)
    context = {
        "profile": profile,
        "licence_valid": profile is None or profile.licence_valid_on(timezone.localdate()),
        "roles": sorted(str(Role(role).label) for role in user_roles(request.user) if role in Role.values),
        "queues": selectors.review_queues_of(request.user),
    }
    return render(request, "review/profile.html", context)


def _detail_context(request, proposal, queues, form, decide_blocked, post_review_form=None) -> dict:
    approvals = selectors.approvals_so_far([proposal])[proposal.pk]
    matched_rule, other_rules = wording.routing_trace(proposal.routing)
    previous_id, next_id = selectors.review_neighbours(user=request.user, queues=queues, proposal=proposal)
    review = getattr(proposal, "post_review", None)
    if post_review_form is None and _post_review_open(proposal, request.user, queues):
        post_review_form = PostReviewForm(username_required=_username_required(request))
    payload = proposal.current_payload
    payload_shown = json_shown(payload)
    return {
        "proposal": proposal,
        "payload_json": payload_shown.text,
        "payload_truncated": payload_shown.truncated,
        "original_json": json_shown(proposal.payload).text if proposal.modified else "",
        "routing_json": json.dumps(proposal.routing, indent=2, ensure_ascii=False),
        "decisions": list(proposal.decisions.all()),
        "agent_record": selectors.agent_record(proposal=proposal),
        "similar": selectors.similar_proposals(user=request.user, proposal=proposal),
        "approvals": approvals,
        "approvals_missing": max(proposal.approvals_required - approvals, 0),
        "approved_by_me": selectors.approved_current_version_by(proposal=proposal, user=request.user),
        "routing_sentences": wording.routing_sentences(proposal),
        "matched_rule": matched_rule,
        "other_rules": other_rules,
        "previous_id": previous_id,
        "next_id": next_id,
        "form": form,
        "decide_blocked": decide_blocked,
        "presets": PRESET_REASONS,
        "meanings": SIGNATURE_MEANING_LABELS,
        "verdicts": Verdict,
        "review": review,
        "post_review_form": post_review_form,
        "post_review_presets": POST_REVIEW_PRESETS,
        "printed_name": request.user.get_full_name() or request.user.get_username(),
        "thread": selectors.proposal_thread(user=request.user, proposal=proposal),
        "may_claim": proposal.status == Status.PENDING and user_may_decide(request.user),
        "claim_seconds": settings.REVIEW_CLAIM_SECONDS,
        "reassign_form": _reassign_form(request.user, proposal),
    }


def _reassign_form(user, proposal):
    if proposal.status != Status.PENDING or not user_has_role(user, Role.SENIOR_REVIEWER, Role.ADMIN):
        return None
    return ReassignForm(queues=selectors.reassign_targets(), current=proposal.queue_id)


def _proposal_or_404(user, proposal_id):
    try:
        return proposal_get_for(principal=user, proposal_id=proposal_id)
    except NotFound:
        moved = selectors.proposal_moved_away_from(user=user, proposal_id=proposal_id)
        if moved is not None:
            raise MovedAway(moved) from None
        raise Http404(_("No such proposal.")) from None


class MovedAway(Http404):
    """The proposal was escalated out of the user's queues: an explanation, not a bare 404."""

    def __init__(self, proposal):
        super().__init__(proposal.pk)
        self.proposal = proposal


def _decide_blocked(proposal, user) -> str:
    """Why the user may not decide this proposal now; empty when they may."""
    if proposal.is_final:
        return _("This proposal is %(status)s.") % {"status": proposal.get_status_display()}
    try:
        ensure_may_decide(proposal=proposal, reviewer=user)
    except DomainError as error:
        return str(error.message)
    if selectors.approved_current_version_by(proposal=proposal, user=user):
        # Four eyes: say so before the reviewer types a rationale and a password for nothing.
        return _("You already approved this version; a different reviewer must give the next approval.")
    return ""


def _post_review_open(proposal, user, queues) -> bool:
    review = getattr(proposal, "post_review", None)
    if review is None or review.state != ReviewState.QUEUED or review.queue_id is None:
        return False
    return review.queue_id in {queue.pk for queue in queues}  # the queues of a deciding role only


def _username_required(request) -> bool:
    return not request.session.get(SIGNING_SESSION_KEY, False)


def _form_errors(form, error: DomainError) -> None:
    """A service's refusal, shown inline next to the fields it names and above the form."""
    for field, field_messages in error.fields.items():
        target = field if field in form.fields else None
        for message in field_messages if isinstance(field_messages, list | tuple) else [field_messages]:
            form.add_error(target, str(message))
    if not error.fields or error.message is not error.default_message:
        form.add_error(None, str(error.message))


def _refused(response, error: DomainError | None):
    """A locked signature is 429 with Retry-After on the web as in the API; other refusals stay 400."""
    if error is not None and error.status_code == 429:
        response.status_code = 429
        response["Retry-After"] = str(getattr(error, "retry_after", 1))
    return response


def _page(request, items, count: int | None = None):
    paginator = Paginator(items, settings.REVIEW_PAGE_SIZE)
    if count is not None:
        paginator.count = count  # a cached_property on Paginator
    return paginator.get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()
