"""The four recommendation rules: reads that turn the evidence of the active policy into advice.

Each rule returns candidates ``{"kind", "rule_name", "change", "evidence"}``; services store
them. Relaxing needs a minimum sample of human verdicts and a Wilson lower bound (95%) above
the bar; tightening needs far less, since being wrong costs only reviewer time.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Q

from apps.policies.models import Mode, PolicyRule, PolicyVersion
from apps.proposals.figures import rate
from apps.proposals.models import Proposal, ReviewState

from .models import RecommendationKind
from .selectors import APPROVED_AS_PROPOSED, HUMAN_VERDICT
from .stats import wilson_lower_bound

EVIDENCE_WINDOW_DAYS = 90
RECENT_FLAG_DAYS = 7
CONFIDENCE_STEP = 0.1
MAX_EXAMPLES = 20


def recommendation_candidates(*, version: PolicyVersion, now: datetime) -> list[dict]:
    rules = list(version.rules.order_by("priority"))
    since = now - timedelta(days=EVIDENCE_WINDOW_DAYS)
    candidates = _back_to_pre_approval(rules, version=version, since=since, now=now)
    tightened = {candidate["rule_name"] for candidate in candidates}
    candidates += _raise_sample_rate([r for r in rules if r.name not in tightened], since=since, now=now)
    relaxable = [rule for rule in rules if rule.name not in tightened]
    candidates += _relax_to_post_review(relaxable, since=since, now=now)
    candidates += _lower_min_confidence(relaxable, since=since, now=now)
    return candidates


def _relax_to_post_review(rules: list[PolicyRule], *, since, now) -> list[dict]:
    """A pre-approval rule whose humans approve (unchanged) nearly everything: spot checks suffice."""
    names = [rule.name for rule in rules if rule.mode == Mode.PRE_APPROVAL]
    rows = (
        Proposal.objects.filter(policy_rule__name__in=names, created_at__gte=since, created_at__lte=now)
        .values("policy_rule__name")
        .annotate(verdicts=Count("id", filter=HUMAN_VERDICT), approvals=Count("id", filter=APPROVED_AS_PROPOSED))
        .order_by()
    )
    bar, minimum = settings.INSIGHTS_RELAX_LOWER_BOUND, settings.INSIGHTS_MIN_SAMPLE
    candidates = []
    for row in rows:
        verdicts, approvals = row["verdicts"], row["approvals"]
        lower = wilson_lower_bound(approvals, verdicts)
        if verdicts >= minimum and lower > bar:
            candidates.append(
                {
                    "kind": RecommendationKind.RELAX_TO_POST_REVIEW,
                    "rule_name": row["policy_rule__name"],
                    "change": {"mode": Mode.POST_REVIEW.value, "sample_rate": settings.INSIGHTS_RELAX_SAMPLE_RATE},
                    "evidence": _approval_evidence(since, now, verdicts, approvals, lower, bar=bar, min_sample=minimum),
                }
            )
    return candidates


def _lower_min_confidence(rules: list[PolicyRule], *, since, now) -> list[dict]:
    """Below min_confidence a relaxed rule sends proposals to humans; if they approve those, lower it."""
    bar, minimum = settings.INSIGHTS_RELAX_LOWER_BOUND, settings.INSIGHTS_MIN_SAMPLE
    candidates = []
    for rule in rules:
        if rule.mode == Mode.PRE_APPROVAL or not rule.min_confidence:
            continue
        thresholds = _thresholds_below(rule.min_confidence)
        if not thresholds:
            continue
        gated = Proposal.objects.filter(
            policy_rule__name=rule.name,
            mode=Mode.PRE_APPROVAL,
            confidence__lt=rule.min_confidence,
            created_at__gte=since,
            created_at__lte=now,
        )
        counts = {}
        for index, threshold in enumerate(thresholds):
            band = Q(confidence__gte=threshold)
            counts[f"n{index}"] = Count("id", filter=HUMAN_VERDICT & band)
            counts[f"k{index}"] = Count("id", filter=APPROVED_AS_PROPOSED & band)
            top = thresholds[index - 1] if index else rule.min_confidence
            lowest_band = band & Q(confidence__lt=top)
            counts[f"ln{index}"] = Count("id", filter=HUMAN_VERDICT & lowest_band)
            counts[f"lk{index}"] = Count("id", filter=APPROVED_AS_PROPOSED & lowest_band)
        totals = gated.aggregate(**counts)
        chosen = None
        for index, threshold in enumerate(thresholds):  # highest first, so the lowest passing one wins
            verdicts, approvals = totals[f"n{index}"], totals[f"k{index}"]
            lower = wilson_lower_bound(approvals, verdicts)
            band_rate = rate(totals[f"lk{index}"], totals[f"ln{index}"])
            if verdicts < minimum or lower <= bar or band_rate is None or band_rate < bar:
                break
            chosen = (threshold, verdicts, approvals, lower, band_rate)
        if chosen is None:
            continue
        threshold, verdicts, approvals, lower, band_rate = chosen
        candidates.append(
            {
                "kind": RecommendationKind.LOWER_MIN_CONFIDENCE,
                "rule_name": rule.name,
                "change": {"min_confidence": threshold},
                "evidence": _approval_evidence(
                    since,
                    now,
                    verdicts,
                    approvals,
                    lower,
                    current_min_confidence=rule.min_confidence,
                    confidence_band=[threshold, rule.min_confidence],
                    lowest_decile_approval_rate=band_rate,
                    bar=bar,
                    min_sample=minimum,
                ),
            }
        )
    return candidates


def _raise_sample_rate(rules: list[PolicyRule], *, since, now) -> list[dict]:
    """A post-review rule whose recent flag rate is, with confidence, above its earlier one."""
    by_name = {rule.name: rule for rule in rules if rule.mode == Mode.POST_REVIEW and rule.sample_rate < 1.0}
    recent_start = now - timedelta(days=RECENT_FLAG_DAYS)
    reviewed = Q(post_review__state__in=(ReviewState.CONFIRMED, ReviewState.FLAGGED))
    flagged = Q(post_review__state=ReviewState.FLAGGED)
    recent = Q(post_review__reviewed_at__gte=recent_start, post_review__reviewed_at__lte=now)
    earlier = Q(post_review__reviewed_at__gte=since, post_review__reviewed_at__lt=recent_start)
    rows = (
        Proposal.objects.filter(policy_rule__name__in=list(by_name))
        .values("policy_rule__name")
        .annotate(
            recent_reviewed=Count("id", filter=reviewed & recent),
            recent_flagged=Count("id", filter=flagged & recent),
            earlier_reviewed=Count("id", filter=reviewed & earlier),
            earlier_flagged=Count("id", filter=flagged & earlier),
        )
        .order_by()
    )
    minimum = settings.INSIGHTS_TIGHTEN_MIN_SAMPLE
    candidates = []
    for row in rows:
        rule = by_name[row["policy_rule__name"]]
        lower = wilson_lower_bound(row["recent_flagged"], row["recent_reviewed"])
        earlier_rate = rate(row["earlier_flagged"], row["earlier_reviewed"]) or 0.0
        if row["recent_reviewed"] < minimum or lower <= earlier_rate:
            continue
        candidates.append(
            {
                "kind": RecommendationKind.RAISE_SAMPLE_RATE,
                "rule_name": rule.name,
                "change": {"sample_rate": min(1.0, round(max(rule.sample_rate * 2, rule.sample_rate + 0.1), 4))},
                "evidence": _evidence(
                    since,
                    now,
                    current_sample_rate=rule.sample_rate,
                    recent_days=RECENT_FLAG_DAYS,
                    recent_reviewed=row["recent_reviewed"],
                    recent_flagged=row["recent_flagged"],
                    recent_flag_rate=rate(row["recent_flagged"], row["recent_reviewed"]),
                    recent_wilson_lower_bound=lower,
                    earlier_reviewed=row["earlier_reviewed"],
                    earlier_flagged=row["earlier_flagged"],
                    earlier_flag_rate=earlier_rate,
                    min_sample=minimum,
                ),
            }
        )
    return candidates


def _back_to_pre_approval(rules: list[PolicyRule], *, version: PolicyVersion, since, now) -> list[dict]:
    """One flagged irreversible action under a relaxed rule (since this version) is enough."""
    by_name = {rule.name: rule for rule in rules if rule.mode != Mode.PRE_APPROVAL}
    since = max(since, version.activated_at or version.created_at)
    flagged = Proposal.objects.filter(
        policy_rule__name__in=list(by_name),
        irreversible=True,
        post_review__state=ReviewState.FLAGGED,
        post_review__reviewed_at__gte=since,
        post_review__reviewed_at__lte=now,
    )
    rows = flagged.values("policy_rule__name").annotate(flagged=Count("id"), last=Max("post_review__reviewed_at"))
    candidates = []
    for row in rows.order_by():
        name = row["policy_rule__name"]
        examples = list(
            flagged.filter(policy_rule__name=name)
            .order_by("-post_review__reviewed_at")
            .values_list("id", flat=True)[:MAX_EXAMPLES]
        )
        candidates.append(
            {
                "kind": RecommendationKind.BACK_TO_PRE_APPROVAL,
                "rule_name": name,
                "change": {"mode": Mode.PRE_APPROVAL.value},
                "evidence": _evidence(
                    since,
                    now,
                    current_mode=by_name[name].mode,
                    flagged_irreversible=row["flagged"],
                    last_flagged_at=row["last"].isoformat(),
                    proposal_ids=examples,
                ),
            }
        )
    return candidates


def _thresholds_below(min_confidence: float) -> list[float]:
    """Decile boundaries below the current minimum, highest first, down to 0.5."""
    steps = round(min_confidence / CONFIDENCE_STEP, 9)
    top = int(steps) - (1 if steps == int(steps) else 0)
    return [round(step * CONFIDENCE_STEP, 2) for step in range(top, 4, -1)]


def _approval_evidence(since, now, verdicts: int, approvals: int, lower: float, **figures) -> dict:
    """The evidence of a rule that rests on the human approval rate and its Wilson lower bound."""
    return _evidence(
        since,
        now,
        human_verdicts=verdicts,
        approvals=approvals,
        approval_rate=rate(approvals, verdicts),
        wilson_lower_bound=lower,
        **figures,
    )


def _evidence(since, now, **figures) -> dict:
    return {"since": since.isoformat(), "until": now.isoformat(), **figures}
