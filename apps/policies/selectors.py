"""Reads of the policies app: the active rules, cached per process by version."""

from .models import PolicyRule, PolicyVersion
from .routing import RuleSpec

_rules_by_version: dict[int, tuple[RuleSpec, ...]] = {}


def policy_active_version_id() -> int | None:
    return PolicyVersion.objects.filter(status=PolicyVersion.Status.ACTIVE).values_list("id", flat=True).first()


def policy_rules_for(version_id: int | None) -> tuple[RuleSpec, ...]:
    """Rules of a version never change, so caching them by version id is always correct."""
    if version_id is None:
        return ()
    rules = _rules_by_version.get(version_id)
    if rules is None:
        rules = tuple(rule_spec(rule) for rule in PolicyRule.objects.filter(version_id=version_id).order_by("priority"))
        _rules_by_version[version_id] = rules
    return rules


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
    from .models import PolicyVersion
    from .routing import PRE_APPROVAL, route, routing_input

    version_id = policy_active_version_id()
    decision = route(
        policy_rules_for(version_id),
        routing_input(agent=agent_name, fields=fields),
    )
    rule = decision.rule
    number = PolicyVersion.objects.filter(pk=version_id).values_list("number", flat=True).first()
    return {
        "mode": decision.mode,
        "policy_version": number,
        "rule": rule.name if rule else None,
        "approvals_required": rule.approvals_required if rule else 1,
        "queue": (rule.queue if rule else "default") if decision.mode == PRE_APPROVAL else None,
        "routing": decision.explanation,
    }
