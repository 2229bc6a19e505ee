"""Machine facts put into words for reviewers: the routing, durations, condition values, payloads.

Pure functions of rows already read; every sentence is translatable and every number localized,
so the German and French pages never show `False`, `['none', 'low']` or an English rule trace.
"""

from dataclasses import dataclass, field

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.policies.wording import CONDITION_LABELS, duration_words, percent_words, value_words

# Payload keys a reviewer checks first (money, who, where); matched as substrings of the key.
IMPORTANT_KEY_PARTS = (
    "amount",
    "total",
    "price",
    "currency",
    "iban",
    "account",
    "recipient",
    "customer",
    "email",
    "order",
    "reason",
)
PAYLOAD_FIELDS_SHOWN = 12


def routing_sentences(proposal) -> list[str]:
    """Why the proposal came to a human, what it needs, by when, and where it goes next."""
    rule = proposal.policy_rule
    routing = proposal.routing or {}
    if rule is None:
        return [_("No rule of the policy matched, so a human must approve it (fail safe).")]
    sentences = []
    scope = rule.action_type + _risk_phrase(proposal)
    approvals = ngettext("%(count)s approval", "%(count)s approvals", proposal.approvals_required) % {
        "count": proposal.approvals_required
    }
    queue = str(proposal.queue) if proposal.queue_id else rule.queue
    if proposal.mode == "pre_approval":
        if rule.sla:
            sentences.append(
                _("%(scope)s needs %(approvals)s in %(queue)s within %(sla)s (rule “%(rule)s”).")
                % {
                    "scope": scope,
                    "approvals": approvals,
                    "queue": queue,
                    "sla": duration_words(rule.sla),
                    "rule": rule.name,
                }
            )
        else:
            sentences.append(
                _("%(scope)s needs %(approvals)s in %(queue)s (rule “%(rule)s”).")
                % {"scope": scope, "approvals": approvals, "queue": queue, "rule": rule.name}
            )
        gate = (routing.get("evaluated") or [{}])[-1].get("confidence_gate")
        if gate and not gate.get("passed"):
            sentences.append(
                _(
                    "The rule would let it run on its own, but the confidence of %(confidence)s is below its minimum of %(minimum)s."
                )
                % {"confidence": percent_words(proposal.confidence), "minimum": percent_words(rule.min_confidence)}
            )
        sentences.append(_escalation_sentence(proposal, rule))
    elif proposal.mode == "post_review":
        sentences.append(
            _("%(scope)s runs without waiting and may be sampled for a review afterwards (rule “%(rule)s”).")
            % {"scope": scope, "rule": rule.name}
        )
    else:
        sentences.append(_("%(scope)s runs on its own (rule “%(rule)s”).") % {"scope": scope, "rule": rule.name})
    if rule.required_authorization_level:
        sentences.append(
            _("Only reviewers of authorization level %(level)s or higher may decide it.")
            % {"level": rule.required_authorization_level}
        )
    return [sentence for sentence in sentences if sentence]


def _risk_phrase(proposal) -> str:
    signals = []
    if proposal.compliance_exposure == "high":
        signals.append(_("high compliance exposure"))
    if proposal.irreversible:
        signals.append(_("an irreversible effect"))
    if proposal.blast_radius > 1:
        signals.append(
            ngettext(
                "%(count)s record or person affected", "%(count)s records or people affected", proposal.blast_radius
            )
            % {"count": formats.number_format(proposal.blast_radius, force_grouping=True)}
        )
    if not signals:
        return ""
    return _(" with %(signals)s") % {"signals": ", ".join(signals)}


def _escalation_sentence(proposal, rule) -> str:
    if proposal.is_final:
        return ""
    tiers = list(rule.escalation or [])
    remaining = tiers[proposal.escalation_level :]
    if remaining:
        return _("If nobody decides in time it escalates to %(next)s.") % {"next": _(", then ").join(remaining)}
    if rule.on_expiry == "approve":
        return _("This is the last tier: if nobody decides in time the policy approves it.")
    return _("This is the last tier: if nobody decides in time it expires and is rejected.")


@dataclass
class RuleTrace:
    name: str
    matched: bool
    checks: list[dict] = field(default_factory=list)


def routing_trace(routing: dict) -> tuple[RuleTrace | None, list[RuleTrace]]:
    """The matched rule's checks, and the rules tried before it, with humanized values."""
    matched, others = None, []
    for rule in (routing or {}).get("evaluated", []):
        checks = [_check_words(check) for check in rule.get("conditions", [])]
        if rule.get("confidence_gate"):
            checks.append(_check_words(rule["confidence_gate"]))
        trace = RuleTrace(name=rule.get("rule", ""), matched=bool(rule.get("matched")), checks=checks)
        if trace.matched:
            matched = trace
        else:
            others.append(trace)
    return matched, others


def _check_words(check: dict) -> dict:
    condition = check.get("condition", "")
    label = CONDITION_LABELS.get(condition)
    return {
        "condition": label() if label else condition,
        "expected": value_words(_strip_operator(check.get("expected")), condition=condition),
        "actual": value_words(check.get("actual"), condition=condition),
        "passed": bool(check.get("passed")),
    }


def _strip_operator(value):
    # The routing trace writes limits as ">= 0.9" / "<= 1"; the label already says at least / at most.
    if isinstance(value, str) and value[:3] in (">= ", "<= "):
        text = value[3:]
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return text
    return value


@dataclass
class PayloadField:
    key: str
    value: object
    nested: bool
    changed: bool
    important: bool
    size: int = 0


def payload_fields(payload, original=None) -> tuple[list[PayloadField], list[PayloadField]]:
    """The payload's fields in reading order, split into those shown and those folded away.

    Changed fields come first, then the important scalar ones, then other scalars, then nested
    values (shown folded); past PAYLOAD_FIELDS_SHOWN the rest waits behind "more fields".
    """
    if not isinstance(payload, dict):
        return [
            PayloadField(key="", value=payload, nested=isinstance(payload, dict | list), changed=False, important=False)
        ], []
    original = original if isinstance(original, dict) else None
    fields = []
    for position, (key, value) in enumerate(payload.items()):
        nested = isinstance(value, dict | list)
        changed = original is not None and (key not in original or original[key] != value)
        important = any(part in str(key).lower() for part in IMPORTANT_KEY_PARTS)
        fields.append(
            (
                (not changed, not important, nested, position),
                PayloadField(
                    key=key,
                    value=value,
                    nested=nested,
                    changed=changed,
                    important=important,
                    size=len(value) if nested else 0,
                ),
            )
        )
    if original is not None:
        for position, key in enumerate(key for key in original if key not in payload):
            fields.append(
                (
                    (False, True, False, -1 - position),
                    PayloadField(key=key, value=None, nested=False, changed=True, important=False),
                )
            )
    ordered = [item for _, item in sorted(fields, key=lambda pair: pair[0])]
    return ordered[:PAYLOAD_FIELDS_SHOWN], ordered[PAYLOAD_FIELDS_SHOWN:]
