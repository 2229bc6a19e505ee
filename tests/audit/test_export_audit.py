"""export_audit writes a bundle that the standalone offline/verify_bundle.py checks."""

import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.audit import signing
from apps.audit.models import Checkpoint
from apps.audit.services import audit_checkpoint_create, audit_redact

pytestmark = pytest.mark.django_db
VERIFIER = Path(settings.BASE_DIR) / "apps" / "audit" / "offline" / "verify_bundle.py"


def export(tmp_path, name="bundle.zip") -> Path:
    today = datetime.now(UTC).date().isoformat()
    out = tmp_path / name
    call_command("export_audit", "--start", today, "--end", today, "--out", str(out))
    return out


def verify_offline(bundle: Path, *arguments):
    # a bare interpreter: the verifier needs only the standard library and `cryptography`
    return subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(bundle), *arguments], capture_output=True, text=True, timeout=120
    )


def rewrite(bundle: Path, name: str, change) -> Path:
    tampered = bundle.with_name("tampered.zip")
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item, change(content) if item.filename == name else content)
    return tampered


def edit_event(seq, edit):
    def change(content):
        lines = [json.loads(line) for line in content.decode().splitlines()]
        lines = [edit(event) if event["seq"] == seq else event for event in lines]
        return "".join(json.dumps(event) + "\n" for event in lines if event is not None).encode()

    return change


def test_exported_bundle_verifies_offline_against_the_pinned_key(record_events, tmp_path):
    # given
    record_events(6)
    audit_checkpoint_create()
    record_events(4)
    audit_redact(seq=2, reason="ER-1")
    # when
    bundle = export(tmp_path)
    result = verify_offline(bundle, "--public-key", signing.public_key_hex())
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 11 events (seq 1..11), 1 redacted")
    assert Checkpoint.objects.filter(tree_size=11).exists()  # export signed the covering checkpoint
    with zipfile.ZipFile(bundle) as contents:
        assert {
            "events.jsonl",
            "checkpoints.json",
            "manifest.json",
            "public_key.txt",
            "README.txt",
            "verify_bundle.py",
        } <= set(contents.namelist())
        first = json.loads(contents.read("events.jsonl").splitlines()[0])
        assert {"salt", "canonical_data", "hash", "prev_hash", "data_hash", "timestamp"} <= first.keys()


def test_a_bundle_from_the_middle_of_the_chain_is_tied_to_a_later_checkpoint(record_events, tmp_path, tamper):
    # given: events of an earlier day, and checkpoints after the period
    record_events(5)
    tamper("UPDATE audit_event SET timestamp = '2020-01-01 10:00:00' WHERE seq <= 2")
    record_events(9)
    audit_checkpoint_create()
    record_events(3)
    audit_checkpoint_create()
    tamper("UPDATE audit_event SET timestamp = '2020-01-03 10:00:00' WHERE seq > 2")
    # when
    out = tmp_path / "period.zip"
    call_command("export_audit", "--start", "2020-01-03", "--end", "2020-01-03", "--out", str(out))
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    # then: the rewritten timestamps break hashes, which the offline verifier must name
    assert manifest["first_seq"] == 3 and manifest["prefix_frontier"]
    result = verify_offline(out)
    assert result.returncode == 1 and "FAILED at seq 3" in result.stdout


def test_a_middle_period_bundle_verifies(record_events, tmp_path, monkeypatch):
    # given
    from apps.audit import services

    days = iter([datetime(2026, 3, day, 12, tzinfo=UTC) for day in (1, 1, 1, 2, 2, 2, 2, 2, 3, 3)])
    monkeypatch.setattr(services.timezone, "now", lambda: next(days, datetime(2026, 3, 4, tzinfo=UTC)))
    record_events(10)
    audit_checkpoint_create()
    # when
    out = tmp_path / "day2.zip"
    call_command("export_audit", "--start", "2026-03-02", "--end", "2026-03-02", "--out", str(out))
    result = verify_offline(out, "--public-key", signing.public_key_hex())
    # then
    assert result.returncode == 0, result.stdout
    assert "OK: 5 events (seq 4..8)" in result.stdout


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda event: {**event, "canonical_data": event["canonical_data"].replace("500.00", "5.00")}, "data_hash"),
        (lambda event: {**event, "actor_id": "mallory"}, "hash does not match"),
        (lambda event: None, "missing"),
    ],
    ids=["changed-data", "changed-field", "deleted-event"],
)
def test_a_tampered_bundle_fails_naming_the_seq(record_events, tmp_path, edit, reason):
    # given
    record_events(8)
    bundle = export(tmp_path)
    # when
    result = verify_offline(
        rewrite(bundle, "events.jsonl", edit_event(4, edit)), "--public-key", signing.public_key_hex()
    )
    # then
    assert result.returncode == 1
    assert "FAILED at seq 4" in result.stdout and reason in result.stdout


def test_a_truncated_bundle_fails(record_events, tmp_path):
    # given
    record_events(8)
    bundle = export(tmp_path)
    # when
    result = verify_offline(rewrite(bundle, "events.jsonl", edit_event(8, lambda event: None)))
    # then
    assert result.returncode == 1 and "FAILED at seq 8" in result.stdout


def test_a_bundle_signed_by_another_key_fails(record_events, tmp_path):
    # given
    record_events(3)
    bundle = export(tmp_path)
    # when
    result = verify_offline(bundle, "--public-key", "ab" * 32)
    # then
    assert result.returncode == 1 and "another key" in result.stdout


def test_export_refuses_an_empty_or_reversed_period(record_events, tmp_path):
    # given
    record_events(1)
    # when / then
    with pytest.raises(CommandError):
        call_command("export_audit", "--start", "2001-01-02", "--end", "2001-01-01", "--out", str(tmp_path / "x.zip"))
    with pytest.raises(CommandError, match="No audit events"):
        call_command("export_audit", "--start", "2001-01-01", "--end", "2001-01-01", "--out", str(tmp_path / "x.zip"))
