"""Writes of the policies app: versions are created, then activated (and audited)."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.services import queue_get_or_create
from apps.audit.services import audit_record
from hitlplatform.errors import Conflict, Forbidden, InvalidInput

from .definitions import RULE_FIELDS, format_duration, policy_rules_from_yaml, policy_rules_validate
from .events import PolicyEvents
from .models import PolicyRule, PolicyVersion
from .selectors import policy_staffing_gaps


def policy_load_yaml(
    *, text: str, actor=None, comment: str = "", activate: bool = True, allow_unstaffed: bool = False
) -> PolicyVersion:
    rules = policy_rules_from_yaml(text)
    return policy_version_create(
        rules=rules, source=text, comment=comment, actor=actor, activate=activate, allow_unstaffed=allow_unstaffed
    )


@transaction.atomic
def policy_version_create(
    *,
    rules: list[dict],
    source: str = "",
    comment: str = "",
    actor=None,
    activate: bool = False,
    allow_unstaffed: bool = False,
) -> PolicyVersion:
    """A new version from validated rule dicts; activated now only when ``activate`` (CLI, seed).

    Activation refuses unstaffed queues unless ``allow_unstaffed`` (see `policy_version_activate`).
    """
    rules = policy_rules_validate([rule_definition(rule) for rule in rules])
    # The version number is taken under the lock of the newest version, so two loads never collide.
    list(PolicyVersion.objects.select_for_update().order_by("-number")[:1])
    number = (PolicyVersion.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    version = PolicyVersion.objects.create(
        number=number, comment=comment, source=source, created_by=_user_or_none(actor)
    )
    PolicyRule.objects.bulk_create(PolicyRule(version=version, **rule) for rule in rules)
    for queue in {rule["queue"] for rule in rules} | {q for rule in rules for q in rule["escalation"]}:
        queue_get_or_create(slug=queue, actor=actor)
    audit_record(
        action=PolicyEvents.DRAFTED,
        actor=actor,
        obj=version,
        data={"version": number, "comment": comment, "rules": [rule_definition(rule) for rule in rules]},
    )
    if activate:
        _activate(version, actor, allow_unstaffed=allow_unstaffed)
    return version


@transaction.atomic
def policy_version_activate(*, version: PolicyVersion, actor, allow_unstaffed: bool = False) -> PolicyVersion:
    """Four eyes on configuration (SOC 2 CC8.1): who drafted a version may not activate it.

    A version whose rule sends work to a queue or escalation tier where nobody may decide is refused,
    naming rule, queue and why; ``allow_unstaffed`` accepts it with a warning in the audit trail.
    """
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != PolicyVersion.Status.DRAFT:
        raise Conflict(_("Only a draft can be activated."))
    if version.created_by_id is not None and version.created_by_id == getattr(actor, "pk", None):
        raise Forbidden(_("A different administrator must activate a policy version you drafted."))
    _activate(version, actor, allow_unstaffed=allow_unstaffed)
    return version


def _activate(version: PolicyVersion, actor, *, allow_unstaffed: bool) -> None:
    gaps = policy_staffing_gaps(version.rules.order_by("priority"))
    if gaps and not allow_unstaffed:
        fields: dict[str, list[str]] = {}
        for gap in gaps:
            fields.setdefault(f"rules ({gap.rule})", []).append(str(gap))
        raise InvalidInput(
            _(
                "Nobody could decide the work of this policy in some queues; staff them first, "
                "or accept it explicitly (--allow-unstaffed): %(gaps)s."
            )
            % {"gaps": "; ".join(map(str, gaps))},
            fields=fields,
            code="unstaffed",
        )
    if gaps:
        audit_record(
            action=PolicyEvents.UNSTAFFED_ACCEPTED,
            actor=actor,
            obj=version,
            data={
                "version": version.number,
                "gaps": [{"rule": g.rule, "queue": g.queue, "tier": g.tier, "why": g.why} for g in gaps],
            },
        )
    previous = PolicyVersion.objects.select_for_update().filter(status=PolicyVersion.Status.ACTIVE).first()
    if previous is not None:
        PolicyVersion.objects.filter(pk=previous.pk).update(status=PolicyVersion.Status.RETIRED)
    PolicyVersion.objects.filter(pk=version.pk).update(
        status=PolicyVersion.Status.ACTIVE, activated_by=_user_or_none(actor), activated_at=timezone.now()
    )
    version.refresh_from_db()
    audit_record(
        action=PolicyEvents.CHANGED,
        actor=actor,
        obj=version,
        data={"version": version.number, "previous_version": previous.number if previous else None},
    )


def rule_definition(rule) -> dict:
    """A rule (dict or PolicyRule) in the YAML shape, so it can be validated and audited."""
    if isinstance(rule, PolicyRule):
        rule = {field: getattr(rule, field) for field in RULE_FIELDS}
    definition = {key: value for key, value in rule.items() if key != "priority"}
    if "sla" in definition and not isinstance(definition["sla"], str | None):
        definition["sla"] = format_duration(definition["sla"])
    return definition


def _user_or_none(actor):
    return actor if getattr(actor, "audit_actor_type", "user") == "user" and getattr(actor, "pk", None) else None
