"""A proposal's page: the full context, the decision, the post-action review, claim and reassign."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.accounts.models import Role
from apps.accounts.selectors import user_has_role, user_may_decide
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

from .. import selectors, wording
from ..forms import (
    POST_REVIEW_MEANING_LABELS,
    POST_REVIEW_PRESETS,
    PRESET_REASONS,
    SIGNATURE_MEANING_LABELS,
    DecisionForm,
    PostReviewForm,
    ReassignForm,
)
from ..payload_display import json_shown
from ..services import proposal_view_record
from .common import POST_REVIEWS_TAB, SIGNING_SESSION_KEY, form_written, refused, username_required


@login_required
def detail(request, proposal_id: int):
    try:
        proposal = _proposal_or_404(request.user, proposal_id)
    except MovedAway as moved:
        return render(request, "review/moved_away.html", {"moved": moved.proposal}, status=404)
    queues = selectors.review_queues_of(request.user)
    decide_blocked = _decide_blocked(proposal, request.user)
    form = None
    refusal = None
    if not decide_blocked:
        form = DecisionForm(request.POST or None, proposal=proposal, username_required=username_required(request))
    if request.method == "POST":
        if form is None:
            messages.error(request, decide_blocked)
            return redirect(reverse("review:detail", args=[proposal.pk]))
        written, refusal = form_written(
            form,
            lambda data: proposal_decide(
                proposal_id=proposal.pk,
                reviewer=request.user,
                verdict=data["verdict"],
                rationale=data["rationale"],
                password=data["password"],
                payload=data.get("payload"),
                payload_version_seen=data["payload_version_seen"] or None,
                username=form.signing_username,
                instructions=data.get("instructions", ""),
            ),
        )
        if written:
            request.session[SIGNING_SESSION_KEY] = True
            messages.success(request, _("Your decision on #%(id)s is signed.") % {"id": proposal.pk})
            following = selectors.next_proposal_id(user=request.user, queues=queues, after=proposal)
            return redirect(reverse("review:detail", args=[following]) if following else reverse("review:queue"))
        status = 400
    else:
        status = 200
        proposal_view_record(proposal=proposal, user=request.user)
    context = _detail_context(request, proposal, queues, form, decide_blocked)
    return refused(render(request, "review/detail.html", context, status=status), refusal)


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
    form = PostReviewForm(request.POST, username_required=username_required(request))
    written, refusal = form_written(
        form,
        lambda data: proposal_post_review(
            proposal_id=proposal.pk,
            reviewer=request.user,
            verdict=data["verdict"],
            rationale=data["rationale"],
            correction=data["correction"],
            password=data["password"],
            username=form.signing_username,
        ),
    )
    if written:
        request.session[SIGNING_SESSION_KEY] = True
        messages.success(request, _("Your post-action review of #%(id)s is signed.") % {"id": proposal.pk})
        return redirect(reverse("review:queue") + f"?tab={POST_REVIEWS_TAB}")
    queues = selectors.review_queues_of(request.user)
    decide_blocked = _decide_blocked(proposal, request.user)
    context = _detail_context(request, proposal, queues, None, decide_blocked, post_review_form=form)
    return refused(render(request, "review/detail.html", context, status=400), refusal)


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
    written, _refusal = form_written(
        form,
        lambda data: proposal_reassign(
            proposal_id=proposal.pk, actor=request.user, queue=data["queue"], note=data["note"]
        ),
    )
    if written:
        messages.success(
            request, _("#%(id)s moved to %(queue)s.") % {"id": proposal.pk, "queue": form.cleaned_data["queue"]}
        )
        return redirect(reverse("review:queue"))
    queues = selectors.review_queues_of(request.user)
    context = _detail_context(request, proposal, queues, None, _decide_blocked(proposal, request.user))
    context["reassign_form"] = form
    return render(request, "review/detail.html", context, status=400)


def _detail_context(request, proposal, queues, form, decide_blocked, post_review_form=None) -> dict:
    approvers = selectors.current_version_approvers(proposal)
    approvals = len(approvers)
    matched_rule, other_rules = wording.routing_trace(proposal.routing)
    previous_id, next_id = selectors.review_neighbours(user=request.user, queues=queues, proposal=proposal)
    review = getattr(proposal, "post_review", None)
    if post_review_form is None and _post_review_open(proposal, request.user, queues):
        post_review_form = PostReviewForm(username_required=username_required(request))
    payload = proposal.current_payload
    payload_shown = json_shown(payload)
    return {
        "proposal": proposal,
        "payload_json": payload_shown.text,
        "payload_truncated": payload_shown.truncated,
        "original_json": json_shown(proposal.payload).text if proposal.modified else "",
        "decisions": list(proposal.decisions.all()),
        "agent_record": selectors.agent_record(proposal=proposal),
        "similar": selectors.similar_proposals(user=request.user, proposal=proposal),
        "approvals": approvals,
        "approvals_missing": max(proposal.approvals_required - approvals, 0),
        "approved_by_me": request.user.pk in approvers,
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
        "post_review_meanings": POST_REVIEW_MEANING_LABELS,
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
