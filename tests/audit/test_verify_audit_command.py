import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.audit.models import VerificationRun

pytestmark = pytest.mark.django_db


def test_intact_chain_exits_0_and_keeps_the_run(record_events, capsys):
    # given
    record_events(5)
    # when
    call_command("verify_audit")
    # then
    assert "5 events checked" in capsys.readouterr().out
    run = VerificationRun.objects.get()
    assert (run.ok, run.kind, run.head_seq) == (True, "full", 5)


def test_json_output_is_one_object(record_events, capsys):
    # given
    record_events(2)
    # when
    call_command("verify_audit", "--json")
    # then
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] is True and summary["events_checked"] == 2 and summary["first_bad_seq"] is None


def test_broken_chain_exits_1_naming_the_first_bad_seq(record_events, tamper):
    # given
    record_events(6)
    tamper("UPDATE audit_event SET actor_id = 'mallory' WHERE seq = 3")
    # when
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    # then
    assert failure.value.returncode == 1
    assert "seq 3" in str(failure.value)
