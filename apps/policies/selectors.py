"""Reads of the policies app: the active rules, cached per process by version; which queues are unstaffed."""

from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext as _

from apps.accounts.models import Queue
from apps.accounts.selectors import queue_staffing_gap

from .models import PolicyRule, PolicyVersion
from .routing import PRE_APPROVAL, RuleSpec, route, routing_input

# Keyed by (id, created_at): an id alone can be reused where a transaction that created a
# version rolled back (SQLite reuses rowids), a creation instant cannot.
_snapshots: dict[tuple, "PolicySnapshot"] = {}


@dataclass(frozen=True)
class PolicySnapshot:
    """A version with its rules, as routing needs them and as proposals reference them."""

    version: PolicyVersion | None
    rules: tuple[RuleSpec, ...] = ()
    rule_rows: dict[int, PolicyRule] = field(default_factory=dict)


def policy_active() -> PolicySnapshot:
    """One indexed query for the active version id; its rules come from a per-process cache
    (a version's rules never change), so routing costs no further queries."""
    active = _active_version_key()
    if active is None:
        return PolicySnapshot(version=None)
    version_id = active[0]
    snapshot = _snapshots.get(active)
    if snapshot is None:
        rows = list(PolicyRule.objects.filter(version_id=version_id).order_by("priority"))
        snapshot = PolicySnapshot(
            version=PolicyVersion.objects.get(pk=version_id),
            rules=tuple(rule_spec(row) for row in rows),
            rule_rows={row.pk: row for row in rows},
        )
        _snapshots[active] = snapshot
    return snapshot


def _active_version_key() -> tuple | None:
    # Every submission reads this, and the ORM spends several times longer building the query than
    # the database answering it; one active version at most (constraint one_active_policy).
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, created_at FROM {PolicyVersion._meta.db_table} WHERE status = %s",  # noqa: S608
            [PolicyVersion.Status.ACTIVE],
        )
        return cursor.fetchone()


def rule_spec(rule: PolicyRule) -> RuleSpec:
    return RuleSpec(
        pk=rule.pk,
        name=rule.name,
        action_type=rule.action_type,
        mode=rule.mode,
        agent=rule.agent,
        when=rule.when,
        min_confidence=rule.min_confidence,
        approvals_required=rule.approvals_required,
        queue=rule.queue,
    )


def policy_simulate(*, agent_name: str, fields: dict) -> dict:
    policy = policy_active()
    decision = route(policy.rules, routing_input(agent=agent_name, fields=fields))
    rule = decision.rule
    return {
        "mode": decision.mode,
        "policy_version": policy.version.number if policy.version else None,
        "rule": rule.name if rule else None,
        "approvals_required": rule.approvals_required if rule else 1,
        "queue": (rule.queue if rule else "default") if decision.mode == PRE_APPROVAL else None,
        "routing": decision.explanation,
    }


@dataclass(frozen=True)
class StaffingGap:
    """A queue a rule sends work to where nobody may decide it."""

    rule: str
    queue: str
    tier: str  # "queue" or "escalation tier N"
    why: str

    def __str__(self):
        return _("rule %(rule)s, %(tier)s %(queue)s: %(why)s") % {
            "rule": self.rule,
            "tier": self.tier,
            "queue": self.queue,
            "why": self.why,
        }


def policy_staffing_gaps(rules) -> list[StaffingGap]:
    """Every queue and escalation tier of `rules` (PolicyRule rows or their dicts) where no active
    user passes the test a decision applies: a rule whose work would wait there until it expires.

    Autonomous rules send nothing to a queue; post-action review rules only when they sample.
    """
    gaps, checked = [], {}
    for rule in rules:
        rule = rule if isinstance(rule, dict) else {field: getattr(rule, field) for field in _STAFFING_FIELDS}
        if not _sends_work_to_queues(rule):
            continue
        level = rule.get("required_authorization_level") or 0
        tiers = [(str(_("queue")), rule.get("queue") or "default")]
        tiers += [
            (str(_("escalation tier %(n)s")) % {"n": n}, slug) for n, slug in enumerate(rule.get("escalation") or [], 1)
        ]
        for tier, slug in tiers:
            if (slug, level) not in checked:
                checked[slug, level] = queue_staffing_gap(
                    queue=Queue.objects.filter(slug=slug).first(), authorization_level=level
                )
            if checked[slug, level]:
                gaps.append(StaffingGap(rule=rule["name"], queue=slug, tier=tier, why=checked[slug, level]))
    return gaps


_STAFFING_FIELDS = (
    "name",
    "mode",
    "queue",
    "escalation",
    "sample_rate",
    "min_samples_per_day",
    "required_authorization_level",
)


def _sends_work_to_queues(rule: dict) -> bool:
    if rule.get("mode") == PRE_APPROVAL:
        return True
    return rule.get("mode") == "post_review" and bool(rule.get("sample_rate") or rule.get("min_samples_per_day"))
