"""The routing function: pure, so it can be simulated, property-tested and explained.

Rules are evaluated in priority order and the first match wins; no match means
pre_approval (fail safe). Confidence never selects a rule, it only gates a matched
rule's relaxed mode, so lowering confidence can never relax the outcome.
"""

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

AUTONOMOUS = "autonomous"
POST_REVIEW = "post_review"
PRE_APPROVAL = "pre_approval"

STRICTNESS = {AUTONOMOUS: 0, POST_REVIEW: 1, PRE_APPROVAL: 2}
EXPOSURE_LEVELS = ("none", "low", "high")
CONDITION_KEYS = ("irreversible", "max_blast_radius", "min_blast_radius", "compliance_exposure")


@dataclass(frozen=True)
class RuleSpec:
    name: str
    action_type: str
    mode: str
    agent: str = "*"
    when: dict = field(default_factory=dict)
    min_confidence: float | None = None
    approvals_required: int = 1
    queue: str = "default"
    pk: int | None = None


@dataclass(frozen=True)
class RoutingInput:
    agent: str
    action_type: str
    confidence: float
    irreversible: bool = False
    blast_radius: int = 0
    compliance_exposure: str = "none"


@dataclass(frozen=True)
class RoutingDecision:
    mode: str
    rule: RuleSpec | None
    explanation: dict


def route(rules: list[RuleSpec] | tuple[RuleSpec, ...], proposal: RoutingInput) -> RoutingDecision:
    evaluated = []
    for rule in rules:
        checks = _rule_checks(rule, proposal)
        matched = all(check["passed"] for check in checks)
        evaluated.append({"rule": rule.name, "matched": matched, "conditions": checks})
        if matched:
            return _decide(rule, proposal, evaluated)
    return RoutingDecision(
        mode=PRE_APPROVAL,
        rule=None,
        explanation={
            "rule": None,
            "mode": PRE_APPROVAL,
            "reason": "no rule matched: human approval required (fail safe)",
            "evaluated": evaluated,
        },
    )


def _decide(rule: RuleSpec, proposal: RoutingInput, evaluated: list) -> RoutingDecision:
    mode, reason = rule.mode, f"rule {rule.name!r} matched"
    if rule.mode != PRE_APPROVAL and rule.min_confidence is not None:
        confident = proposal.confidence >= rule.min_confidence
        evaluated[-1]["confidence_gate"] = {
            "condition": "min_confidence",
            "expected": f">= {rule.min_confidence}",
            "actual": proposal.confidence,
            "passed": confident,
        }
        if not confident:
            mode = PRE_APPROVAL
            reason += f"; confidence {proposal.confidence} below {rule.min_confidence}: human approval required"
    return RoutingDecision(
        mode=mode,
        rule=rule,
        explanation={"rule": rule.name, "mode": mode, "reason": reason, "evaluated": evaluated},
    )


def _rule_checks(rule: RuleSpec, proposal: RoutingInput) -> list[dict]:
    checks = [
        _check("agent", rule.agent, proposal.agent, rule.agent == "*" or rule.agent == proposal.agent),
        _check(
            "action_type", rule.action_type, proposal.action_type, fnmatchcase(proposal.action_type, rule.action_type)
        ),
    ]
    when = rule.when or {}
    if "irreversible" in when:
        checks.append(
            _check(
                "irreversible",
                when["irreversible"],
                proposal.irreversible,
                proposal.irreversible == when["irreversible"],
            )
        )
    if "max_blast_radius" in when:
        limit = when["max_blast_radius"]
        checks.append(_check("max_blast_radius", f"<= {limit}", proposal.blast_radius, proposal.blast_radius <= limit))
    if "min_blast_radius" in when:
        limit = when["min_blast_radius"]
        checks.append(_check("min_blast_radius", f">= {limit}", proposal.blast_radius, proposal.blast_radius >= limit))
    if "compliance_exposure" in when:
        allowed = when["compliance_exposure"]
        allowed = [allowed] if isinstance(allowed, str) else list(allowed)
        checks.append(
            _check(
                "compliance_exposure", allowed, proposal.compliance_exposure, proposal.compliance_exposure in allowed
            )
        )
    return checks


def _check(condition: str, expected, actual, passed: bool) -> dict:
    return {"condition": condition, "expected": expected, "actual": actual, "passed": bool(passed)}


def routing_input(*, agent: str, fields: dict) -> RoutingInput:
    """The routing-relevant signals of a proposal body (validated by the API)."""
    return RoutingInput(
        agent=agent,
        action_type=fields["action_type"],
        confidence=fields["confidence"],
        irreversible=fields.get("irreversible", False),
        blast_radius=fields.get("blast_radius", 0),
        compliance_exposure=fields.get("compliance_exposure", "none"),
    )
