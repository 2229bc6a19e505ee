"""Demo data for `make run`: idempotent, so running it twice changes nothing."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.accounts.services import user_create
from apps.agents.models import Agent
from apps.agents.services import agent_create
from apps.policies.models import PolicyVersion
from apps.policies.services import policy_load_yaml
from apps.proposals.services import (
    proposal_cancel,
    proposal_decide,
    proposal_report_execution,
    proposal_revise,
    proposal_submit,
)

DEMO_PASSWORD = "demo-pass-2024"
USERS = [
    # username, role, queues, authorization level, printed name
    ("reviewer", "reviewer", ["finance", "support"], 2, "Rita Reviewer"),
    ("second_reviewer", "reviewer", ["finance", "support"], 2, "Sam Second"),
    (
        "senior_reviewer",
        "senior_reviewer",
        # "default" is where a proposal that matches no rule waits (fail safe): someone must staff it.
        ["finance-senior", "support-senior", "finance", "support", "default"],
        3,
        "Sina Senior",
    ),
    # The last tier of refunds: the compliance officer oversees but may not decide, so a deciding
    # reviewer staffs it (staffing: no escalation may dead-end).
    ("compliance_reviewer", "senior_reviewer", ["compliance"], 3, "Cleo Counsel"),
    ("compliance_officer", "compliance_officer", ["compliance"], 3, "Carl Compliance"),
    ("admin", "admin", [], 5, "Ada Admin"),
    ("integrator", "reviewer", [], 1, "Ian Integrator"),
]
PROPOSALS = [
    ("payments.refund", {"order": "A-1001", "amount": "19.90", "currency": "EUR"}, 0.97, 1, "Refund a late parcel"),
    ("payments.refund", {"order": "A-1002", "amount": "349.00", "currency": "EUR"}, 0.81, 1, "Refund a returned phone"),
    ("payments.payout", {"vendor": "V-77", "amount": "12000.00", "currency": "EUR"}, 0.88, 3, "Pay vendor V-77"),
    (
        "payments.refund",
        {"order": "A-1003", "amount": "89.00", "currency": "EUR"},
        0.62,
        2,
        "Refund a duplicate charge",
    ),
    (
        "crm.update_address",
        {"customer": "C-42", "street": "Hauptstr. 1", "city": "Berlin"},
        0.9,
        1,
        "Update an address",
    ),
    ("support.reply", {"ticket": "T-88", "body": "Your refund is on its way."}, 0.95, 1, "Answer ticket T-88"),
    ("payments.refund", {"order": "A-1004", "amount": "45.00", "currency": "EUR"}, 0.7, 1, "Refund a missing item"),
]


class Command(BaseCommand):
    help = "Load demo agents, users, policies and proposals (idempotent)."

    def handle(self, *args, **options):
        if Agent.objects.filter(name="refund-bot").exists():
            self.stdout.write("Demo data already present.")
            return
        with transaction.atomic():
            users = {
                username: user_create(
                    username=username,
                    password=DEMO_PASSWORD,
                    role=role,
                    queues=queues,
                    authorization_level=level,
                    licence_number=f"LIC-{index:04d}",
                    jurisdiction="EU",
                    first_name=name.split()[0],
                    last_name=name.split()[1],
                    validate=False,
                )
                for index, (username, role, queues, level, name) in enumerate(USERS, start=1)
            }
            if not PolicyVersion.objects.exists():
                policy_load_yaml(
                    text=(Path(settings.BASE_DIR) / "demo" / "policy.yaml").read_text(), comment="demo policy"
                )
            agent, key = agent_create(
                name="refund-bot", owner=users["integrator"], description="Customer-service refunds"
            )
            self._proposals(agent, users)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"refund-bot API key (shown once): {key}")

    def _proposals(self, agent, users):
        submitted = []
        for action_type, payload, confidence, blast_radius, summary in PROPOSALS:
            fields = {
                "action_type": action_type,
                "payload": payload,
                "summary": summary,
                "reasoning": "Policy and order history support the action.",
                "evidence": [{"type": "order", "id": payload.get("order", payload.get("ticket", "-"))}],
                "confidence": confidence,
                "irreversible": action_type == "payments.payout",
                "blast_radius": blast_radius,
                "compliance_exposure": "high" if action_type == "payments.payout" else "low",
                "expected_impact": f"{payload.get('amount', '')} {payload.get('currency', '')}".strip() or "One record",
            }
            submitted.append(proposal_submit(agent=agent, fields=fields).proposal)
        refund, payout, duplicate, missing = submitted[1], submitted[2], submitted[3], submitted[6]
        for proposal, verdict, rationale in [
            (refund, "approve", "Return received in the warehouse."),
            (duplicate, "reject", "Not a duplicate: two separate orders."),
            (payout, "approve", "Invoice matches the contract."),
        ]:
            proposal_decide(
                proposal_id=proposal.pk,
                reviewer=users["reviewer"],
                verdict=verdict,
                rationale=rationale,
                password=DEMO_PASSWORD,
            )
        proposal_report_execution(proposal_id=refund.pk, agent=agent, status="succeeded", detail={"refund": "re_1"})
        proposal_cancel(proposal_id=missing.pk, agent=agent, reason="Customer found the item.")
        # A redirect and its revision, for the thread view.
        address = submitted[4]
        proposal_decide(
            proposal_id=address.pk,
            reviewer=users["reviewer"],
            verdict="request_changes",
            rationale="The address is incomplete.",
            instructions="Add the postcode from the customer's last order.",
            password=DEMO_PASSWORD,
        )
        proposal_revise(
            proposal_id=address.pk,
            agent=agent,
            fields={
                "action_type": address.action_type,
                "payload": address.payload | {"postcode": "10115"},
                "summary": address.summary,
                "reasoning": "Postcode taken from order A-0999.",
                "evidence": [{"type": "order", "id": "A-0999"}],
                "confidence": 0.93,
                "blast_radius": 1,
                "compliance_exposure": "low",
                "expected_impact": "One record",
            },
        )
        proposal_report_execution(proposal_id=submitted[5].pk, agent=agent, status="succeeded", detail={})
