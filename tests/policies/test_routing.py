"""The pure routing function: first match wins, fail-safe default, explanations, properties."""

from hypothesis import given
from hypothesis import strategies as st

from apps.policies.routing import (
    AUTONOMOUS,
    POST_REVIEW,
    PRE_APPROVAL,
    STRICTNESS,
    RoutingInput,
    RuleSpec,
    route,
)

SMALL_REFUNDS = RuleSpec(
    name="small-refunds",
    action_type="payments.refund",
    mode=AUTONOMOUS,
    when={"irreversible": False, "max_blast_radius": 1, "compliance_exposure": ["none", "low"]},
    min_confidence=0.9,
)
REFUNDS = RuleSpec(name="refunds", action_type="payments.*", mode=PRE_APPROVAL, approvals_required=2, queue="finance")


def signals(**overrides) -> RoutingInput:
    values = {
        "agent": "bot",
        "action_type": "payments.refund",
        "confidence": 0.95,
        "irreversible": False,
        "blast_radius": 1,
        "compliance_exposure": "low",
    }
    return RoutingInput(**(values | overrides))


def test_first_matching_rule_wins():
    decision = route([SMALL_REFUNDS, REFUNDS], signals())
    assert (decision.mode, decision.rule.name) == (AUTONOMOUS, "small-refunds")


def test_a_failed_condition_falls_through_to_the_next_rule_and_is_explained():
    decision = route([SMALL_REFUNDS, REFUNDS], signals(blast_radius=5))
    assert (decision.mode, decision.rule.name) == (PRE_APPROVAL, "refunds")
    first = decision.explanation["evaluated"][0]
    assert first["matched"] is False
    failed = [check for check in first["conditions"] if not check["passed"]]
    assert failed == [{"condition": "max_blast_radius", "expected": "<= 1", "actual": 5, "passed": False}]


def test_confidence_below_the_rule_minimum_requires_approval():
    decision = route([SMALL_REFUNDS], signals(confidence=0.5))
    assert decision.mode == PRE_APPROVAL
    assert decision.rule.name == "small-refunds"
    assert "below 0.9" in decision.explanation["reason"]


def test_no_matching_rule_means_pre_approval():
    decision = route([SMALL_REFUNDS], signals(action_type="email.send"))
    assert decision.mode == PRE_APPROVAL and decision.rule is None
    assert "fail safe" in decision.explanation["reason"]


def test_agent_specific_rule_only_matches_that_agent():
    rule = RuleSpec(name="trusted", action_type="*", mode=AUTONOMOUS, agent="trusted-bot")
    assert route([rule], signals(agent="other")).mode == PRE_APPROVAL
    assert route([rule], signals(agent="trusted-bot")).mode == AUTONOMOUS


action_types = st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){0,2}", fullmatch=True)
modes = st.sampled_from([AUTONOMOUS, POST_REVIEW, PRE_APPROVAL])
rule_specs = st.builds(
    RuleSpec,
    name=st.text(min_size=1, max_size=10),
    action_type=st.one_of(action_types, action_types.map(lambda text: text.split(".")[0] + ".*"), st.just("*")),
    mode=modes,
    agent=st.sampled_from(["*", "bot", "other"]),
    when=st.fixed_dictionaries(
        {},
        optional={
            "irreversible": st.booleans(),
            "max_blast_radius": st.integers(0, 100),
            "min_blast_radius": st.integers(0, 100),
            "compliance_exposure": st.lists(st.sampled_from(["none", "low", "high"]), max_size=3),
        },
    ),
    min_confidence=st.one_of(st.none(), st.floats(0, 1)),
)
routing_inputs = st.builds(
    RoutingInput,
    agent=st.sampled_from(["bot", "other", "x"]),
    action_type=action_types,
    confidence=st.floats(0, 1),
    irreversible=st.booleans(),
    blast_radius=st.integers(0, 10_000),
    compliance_exposure=st.sampled_from(["none", "low", "high"]),
)


@given(st.lists(rule_specs, max_size=8), routing_inputs)
def test_router_never_raises_and_always_explains(rules, proposal):
    decision = route(rules, proposal)
    assert decision.mode in STRICTNESS
    assert decision.explanation["mode"] == decision.mode
    assert len(decision.explanation["evaluated"]) <= len(rules)


@given(st.lists(rule_specs, max_size=8), routing_inputs)
def test_an_action_type_no_rule_covers_never_runs_autonomously(rules, proposal):
    unknown = RoutingInput(**(proposal.__dict__ | {"action_type": "zz-unknown-" + proposal.action_type}))
    covering = [rule for rule in rules if rule.action_type != "*"]
    assert route(covering, unknown).mode == PRE_APPROVAL


@given(st.lists(rule_specs, max_size=8), routing_inputs, st.floats(0, 1))
def test_lowering_confidence_never_relaxes_the_mode(rules, proposal, lower):
    lower = min(lower, proposal.confidence)
    before = route(rules, proposal).mode
    after = route(rules, RoutingInput(**(proposal.__dict__ | {"confidence": lower}))).mode
    assert STRICTNESS[after] >= STRICTNESS[before]
