"""report_generate: one worker wins a report, a failure is recorded, a dead worker's report is retried."""

from datetime import date, timedelta
from unittest import mock

from celery import current_app
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.reports.models import Report
from apps.reports.services import report_generate, report_request
from apps.reports.tasks import report_generate_task


def _queued(officer) -> Report:
    return report_request(requested_by=officer, period_start=date.today(), period_end=date.today(), dispatch=False)


def test_a_report_is_generated_once(oversight, compliance_officer):
    # given
    report = _queued(compliance_officer)
    report_generate(report_id=report.pk)
    # when: the broker redelivers the task
    again = report_generate(report_id=report.pk)
    # then
    assert again is None
    assert AuditEvent.objects.filter(action="report.generated", object_id=str(report.pk)).count() == 1


def test_the_generated_event_records_the_file_hash(oversight, compliance_officer):
    # given
    report = _queued(compliance_officer)
    # when
    report = report_generate(report_id=report.pk)
    # then
    event = AuditEvent.objects.select_related("data_record").get(action="report.generated", object_id=str(report.pk))
    assert f'"sha256":"{report.sha256}"' in event.data_record.canonical_data
    assert report.size == report.file.size


def test_a_failure_marks_the_report_failed_and_is_audited(oversight, compliance_officer):
    # given
    report = _queued(compliance_officer)
    # when
    with mock.patch("apps.reports.services.pdf_sign", side_effect=RuntimeError("no key")):
        report = report_generate(report_id=report.pk)
    # then
    assert report.status == Report.Status.FAILED
    assert "no key" in report.error
    assert not report.file
    assert AuditEvent.objects.filter(action="report.failed", object_id=str(report.pk)).exists()


def test_a_report_left_running_by_a_dead_worker_is_claimed_again(oversight, compliance_officer, settings):
    # given
    report = _queued(compliance_officer)
    long_ago = timezone.now() - timedelta(seconds=settings.REPORT_TIME_LIMIT + 1)
    Report.objects.filter(pk=report.pk).update(status=Report.Status.RUNNING, started_at=long_ago, progress=40)
    # when
    report = report_generate(report_id=report.pk)
    # then
    assert report.status == Report.Status.READY


def test_a_report_running_elsewhere_is_left_alone(oversight, compliance_officer):
    # given
    report = _queued(compliance_officer)
    Report.objects.filter(pk=report.pk).update(status=Report.Status.RUNNING, started_at=timezone.now(), progress=40)
    # when
    outcome = report_generate(report_id=report.pk)
    # then
    assert outcome is None
    assert Report.objects.get(pk=report.pk).progress == 40


def test_the_task_runs_on_the_reports_queue_with_a_time_limit(settings):
    # when
    route = current_app.amqp.router.route({}, report_generate_task.name)
    # then
    assert route["queue"].name == "reports"
    assert report_generate_task.name == "reports.generate"
    assert report_generate_task.time_limit == settings.REPORT_TIME_LIMIT
    assert report_generate_task.soft_time_limit < report_generate_task.time_limit
