"""Writes of the reports app: request a report, generate it (the Celery task's service), and
record its downloads and the exports. Every state change records its audit event."""

import hashlib
import logging
import shutil
import tempfile
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from hitlplatform.errors import Conflict, InvalidInput

from .document import ReportDocument, document_render, embed_files
from .events import ReportEvents
from .models import Report
from .selectors import ReportScope, report_get, report_scope_build, report_scope_of
from .signing import pdf_sign

logger = logging.getLogger(__name__)


def report_request(
    *,
    requested_by,
    period_start: date,
    period_end: date,
    agent: str = "",
    action_type: str = "",
    language: str = "en",
    dispatch: bool = True,
) -> Report:
    """Validate the scope, store the request and queue its generation after commit."""
    language = language or settings.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        raise InvalidInput(
            _("The report scope is invalid."),
            fields={"language": [_("Unknown language “%(language)s”.") % {"language": language}]},
        )
    scope = report_scope_build(period_start=period_start, period_end=period_end, agent=agent, action_type=action_type)
    with transaction.atomic():
        report = Report.objects.create(
            requested_by=requested_by,
            period_start=scope.period_start,
            period_end=scope.period_end,
            agent=scope.agent,
            action_type=scope.action_type,
            language=language,
        )
        audit_record(action=ReportEvents.REQUESTED, actor=requested_by, obj=report, data=_scope_data(scope, language))
        if dispatch:
            from .tasks import report_generate_task

            transaction.on_commit(lambda: report_generate_task.delay(report.pk))
    return report


def report_generate(*, report_id: int) -> Report | None:
    """Render, sign and store the report; None when another worker holds it or it is done.

    Claimed by a compare-and-set on the status, so a redelivered task never renders twice; a
    report left running past the time limit (its worker died) may be claimed again.
    """
    started_at = timezone.now()
    stale = started_at - timedelta(seconds=settings.REPORT_TIME_LIMIT)
    claimed = (
        Report.objects.filter(pk=report_id)
        .filter(Q(status=Report.Status.QUEUED) | Q(status=Report.Status.RUNNING, started_at__lt=stale))
        .update(status=Report.Status.RUNNING, started_at=started_at, progress=1, error="")
    )
    if not claimed:
        return None
    report = report_get(report_id=report_id)
    try:
        _render_and_store(report, started_at=started_at)
    except Exception as error:
        logger.exception("Report %s failed", report_id)
        with transaction.atomic():
            failed = Report.objects.filter(pk=report_id, status=Report.Status.RUNNING, started_at=started_at).update(
                status=Report.Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000], finished_at=timezone.now()
            )
            if failed:
                audit_record(action=ReportEvents.FAILED, obj=report, data={"error": type(error).__name__})
    return report_get(report_id=report_id)


@transaction.atomic
def report_download(*, report_id: int, user) -> Report:
    """The report to hand out; the download is recorded as `report.downloaded`."""
    report = report_get(report_id=report_id)
    if not report.is_ready:
        raise Conflict(
            _("The report is %(status)s, not ready.") % {"status": report.get_status_display()}, code="not_ready"
        )
    audit_record(action=ReportEvents.DOWNLOADED, actor=user, obj=report, data={"sha256": report.sha256})
    return report


@transaction.atomic
def export_record(*, user, kind: str, scope: ReportScope) -> None:
    """Record that `user` exported `kind` (decisions.csv, decisions.jsonl, audit.jsonl) of the scope."""
    audit_record(
        action=ReportEvents.EXPORTED,
        actor=user,
        object_type="reports.export",
        object_id=kind,
        data={"kind": kind, **_scope_data(scope, "")},
    )


def _render_and_store(report: Report, *, started_at) -> None:
    requested_by = report.requested_by
    generated_by = (requested_by.get_full_name() or requested_by.username) if requested_by else _("command line")
    document = ReportDocument(
        report_id=report.pk, scope=report_scope_of(report), language=report.language, generated_by=generated_by
    )
    with tempfile.TemporaryDirectory(prefix="hitl-report-") as folder:
        unsigned, signed = Path(folder) / "unsigned.pdf", Path(folder) / "signed.pdf"
        rendered = document_render(
            document, target=unsigned, folder=Path(folder), on_progress=lambda percent: _progress(report.pk, percent)
        )
        with translation.override(report.language):
            reason = _("Compliance report %(id)s of %(organisation)s") % {
                "id": report.pk,
                "organisation": settings.ORGANISATION_NAME,
            }
        pdf_sign(
            source=unsigned,
            target=signed,
            reason=reason,
            location=settings.SITE_URL,
            before_signing=lambda writer: embed_files(writer, rendered["embedded"], document.generated_at),
        )
        _progress(report.pk, 95)
        sha256, size = _file_digest(signed)
        name = f"report-{report.pk}-{report.period_start:%Y%m%d}-{report.period_end:%Y%m%d}.pdf"
        with signed.open("rb") as content:
            report.file.save(name, File(content), save=False)
    with transaction.atomic():
        won = Report.objects.filter(pk=report.pk, status=Report.Status.RUNNING, started_at=started_at).update(
            status=Report.Status.READY,
            progress=100,
            file=report.file.name,
            sha256=sha256,
            size=size,
            finished_at=timezone.now(),
        )
        if not won:  # marked failed or re-claimed meanwhile: this file is nobody's
            report.file.storage.delete(report.file.name)
            return
        audit_record(
            action=ReportEvents.GENERATED,
            obj=report,
            data={
                "sha256": sha256,
                "size": size,
                "file": report.file.name,
                **_scope_data(document.scope, report.language),
            },
        )


def _progress(report_id: int, percent: int) -> None:
    Report.objects.filter(pk=report_id, status=Report.Status.RUNNING).update(progress=min(int(percent), 99))


def _file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    with path.open("rb") as content:
        shutil.copyfileobj(content, _DigestSink(digest))
    return digest.hexdigest(), path.stat().st_size


class _DigestSink:
    def __init__(self, digest):
        self.digest = digest

    def write(self, chunk: bytes) -> int:
        self.digest.update(chunk)
        return len(chunk)


def _scope_data(scope: ReportScope, language: str) -> dict:
    data = {
        "period_start": scope.period_start.isoformat(),
        "period_end": scope.period_end.isoformat(),
        "agent": scope.agent.name if scope.agent else "",
        "action_type": scope.action_type,
    }
    if language:
        data["language"] = language
    return data
