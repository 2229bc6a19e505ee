"""Reads of the policies app: the active rules, cached per process by version."""

from dataclasses import dataclass, field

from django.db import connection

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
