"""`manage.py compliance_report --start --end --out [--language]`."""

import hashlib

import pytest
from django.core.management import CommandError, call_command

from apps.reports.models import Report
from tests.reports.conftest import pdf_text, signature_status


def test_the_command_writes_the_signed_report(oversight, tmp_path):
    # given
    out = tmp_path / "report.pdf"
    day = oversight.today.isoformat()
    # when
    call_command("compliance_report", "--start", day, "--end", day, "--out", str(out), "--language", "fr")
    # then
    content = out.read_bytes()
    report = Report.objects.get()
    assert hashlib.sha256(content).hexdigest() == report.sha256
    assert report.language == "fr"
    assert signature_status(content).intact
    assert "command line" in pdf_text(content) or "ligne de commande" in pdf_text(content)


@pytest.mark.parametrize(
    "arguments",
    [
        ["--start", "2026-02-02", "--end", "2026-02-01"],
        ["--start", "2024-01-01", "--end", "2026-01-01"],
        ["--start", "2026-02-01", "--end", "2026-02-02", "--language", "xx"],
        ["--start", "2026-02-01", "--end", "2026-02-02", "--agent", "nobody"],
    ],
)
def test_bad_input_fails_and_creates_no_report(db, tmp_path, arguments):
    # when / then
    with pytest.raises(CommandError):
        call_command("compliance_report", *arguments, "--out", str(tmp_path / "x.pdf"))
    assert Report.objects.count() == 0
    assert not (tmp_path / "x.pdf").exists()
