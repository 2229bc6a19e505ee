"""Fixtures of the report tests: a period of oversight made through the services, the signed
report generated from it, and helpers to read a PDF back (text, attachments, signature)."""

import io
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from apps.agents.services import agent_suspend
from apps.audit.services import audit_checkpoint_create
from apps.proposals.models import Proposal, Status
from apps.proposals.services import proposal_decide, proposal_post_review, proposal_report_execution
from apps.reports.models import Report
from apps.reports.services import report_generate, report_request
from tests.factories import PASSWORD

# Minutes from submission to decision of the human decisions, in submission order.
DECISION_MINUTES = [7, 95, 12, 40, 3]


@pytest.fixture(autouse=True)
def _report_files(settings, tmp_path, tmp_path_factory):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.REPORT_DEV_SIGNING_DIR = str(_signing_dir(tmp_path_factory))
    settings.REPORT_SIGNING_KEY_FILE = ""
    settings.REPORT_SIGNING_CERT_FILE = ""


def _signing_dir(tmp_path_factory) -> Path:
    # One development key for the session: generating it is the slow part of signing.
    return tmp_path_factory.getbasetemp() / "report-signing"


@dataclass
class Oversight:
    today: object
    agent: object
    decided: list
    pending: object
    expired: object
    flagged: object


@pytest.fixture
def oversight(db, submit, agent, reviewer, second_reviewer, compliance_officer):
    """A day of oversight: autonomous refunds, human decisions (approve, modify, reject), one
    pending, one expired, sampled post-action reviews (one flagged), a suspension, a checkpoint."""
    for _ in range(3):
        submit(action_type="payments.refund", confidence=0.95)
    verdicts = [
        (reviewer, "approve", None, {}),
        (second_reviewer, "approve", None, {"confidence": 0.35}),
        (reviewer, "modify", {"order": "A-1", "amount": "250.00"}, {}),
        (second_reviewer, "reject", None, {"compliance_exposure": "high"}),
        (reviewer, "reject", None, {"confidence": 0.55}),
    ]
    decided = []
    for who, verdict, payload, overrides in verdicts:
        proposal = submit(action_type="crm.update", **overrides)
        proposal_decide(
            proposal_id=proposal.pk,
            reviewer=who,
            verdict=verdict,
            rationale=f"{verdict} after checking",
            password=PASSWORD,
            payload=payload,
        )
        decided.append(proposal)
    pending = submit(action_type="crm.update")
    expired = submit(action_type="crm.delete")
    Proposal.objects.filter(pk=expired.pk).update(status=Status.EXPIRED, decided_at=timezone.now(), escalation_level=1)
    replies = [submit(action_type="support.reply") for _ in range(3)]
    for reply in replies:
        proposal_report_execution(proposal_id=reply.pk, agent=agent, status="succeeded", detail={})
    for reply, verdict in zip(replies, ["confirm", "confirm", "flag"], strict=True):
        proposal_post_review(
            proposal_id=reply.pk,
            reviewer=second_reviewer,
            verdict=verdict,
            rationale="looked at it",
            password=PASSWORD,
            correction={"fix": "resend"} if verdict == "flag" else None,
        )
    # Known decision times (the services stamp "now"): the report's median and p95 come from these.
    for proposal, minutes in zip(decided, DECISION_MINUTES, strict=True):
        proposal.refresh_from_db()
        Proposal.objects.filter(pk=proposal.pk).update(decided_at=proposal.created_at + timedelta(minutes=minutes))
    agent_suspend(agent=agent, reason="too many flags", actor=compliance_officer)
    audit_checkpoint_create()
    return Oversight(
        today=timezone.now().date(), agent=agent, decided=decided, pending=pending, expired=expired, flagged=replies[2]
    )


@pytest.fixture
def generated_report(oversight, compliance_officer):
    """The signed report of the oversight day, generated inline as the worker would."""

    def make(**overrides) -> Report:
        fields = {"period_start": oversight.today, "period_end": oversight.today, "language": "en", **overrides}
        report = report_request(requested_by=compliance_officer, dispatch=False, **fields)
        return report_generate(report_id=report.pk)

    return make


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_attachments(content: bytes) -> dict[str, bytes]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    return {name: values[0] for name, values in reader.attachments.items()}


def jsonl(content: bytes) -> list[dict]:
    return [json.loads(line) for line in content.decode().splitlines() if line]


def signature_status(content: bytes):
    """pyhanko's validation of the report's PAdES signature, trusting the signing certificate."""
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    from apps.reports.signing import signing_files

    _key, cert_file, _passphrase = signing_files()
    reader = PdfFileReader(io.BytesIO(content), strict=False)
    (signature,) = reader.embedded_signatures
    return validate_pdf_signature(signature, ValidationContext(trust_roots=[load_cert_from_pemder(str(cert_file))]))
