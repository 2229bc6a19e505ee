"""Signed checkpoints: service, command, task, and the signing key."""

import json
import logging

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from apps.audit import canonical, merkle, signing
from apps.audit.models import AuditEvent, Checkpoint
from apps.audit.services import audit_checkpoint_create
from apps.audit.tasks import checkpoint as checkpoint_task
from tests.audit.conftest import TEST_SIGNING_SEED

pytestmark = pytest.mark.django_db


def test_checkpoint_signs_the_rfc9162_root_of_the_whole_chain(record_events):
    # given
    record_events(11)
    hashes = list(AuditEvent.objects.order_by("seq").values_list("hash", flat=True))
    # when
    checkpoint = audit_checkpoint_create()
    # then
    frontier = []
    for index, event_hash in enumerate(hashes):
        merkle.frontier_append(frontier, index, merkle.leaf_hash(bytes.fromhex(event_hash)))
    assert (checkpoint.tree_size, checkpoint.root_hash) == (11, merkle.frontier_root(frontier).hex())
    message = rfc8785.dumps(
        {
            "tree_size": 11,
            "root_hash": checkpoint.root_hash,
            "timestamp": canonical.format_timestamp(checkpoint.timestamp),
        }
    )
    expected_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(TEST_SIGNING_SEED)).public_key()
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(checkpoint.public_key)).verify(
        bytes.fromhex(checkpoint.signature), message
    )
    assert (
        checkpoint.public_key
        == signing.public_key_hex(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(TEST_SIGNING_SEED)))
        == expected_key.public_bytes_raw().hex()
    )
    assert checkpoint.signature == checkpoint.signature.lower() and len(checkpoint.signature) == 128


def test_no_checkpoint_without_new_events(record_events):
    # given
    assert audit_checkpoint_create() is None
    record_events(2)
    audit_checkpoint_create()
    # when
    again = audit_checkpoint_create()
    # then
    assert again is None
    assert Checkpoint.objects.count() == 1


def test_command_signs_and_prints_json(record_events, capsys):
    # given
    record_events(3)
    # when
    call_command("audit_checkpoint", "--json")
    call_command("audit_checkpoint")
    # then
    out = capsys.readouterr().out.splitlines()
    assert json.loads(out[0])["checkpoint"]["tree_size"] == 3
    assert "nothing signed" in out[1]


def test_task_signs_only_when_new_events_exist(record_events):
    # given
    record_events(2)
    # when
    checkpoint_task.apply()
    checkpoint_task.apply()
    record_events(1)
    checkpoint_task.apply()
    # then
    assert list(Checkpoint.objects.values_list("tree_size", flat=True)) == [2, 3]
    assert checkpoint_task.name == "audit.checkpoint"


def test_without_a_signing_key_a_dev_key_is_made_outside_the_repo_with_a_warning(settings, tmp_path, caplog):
    # given
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_DEV_KEY_FILE = str(tmp_path / "keys" / "audit-dev-key")
    # when
    with caplog.at_level(logging.WARNING, logger="apps.audit.signing"):
        public_key = signing.public_key_hex()
    # then
    key_file = tmp_path / "keys" / "audit-dev-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(bytes.fromhex(key_file.read_text().strip())) == 32
    assert "DEVELOPMENT key" in caplog.text
    assert signing.public_key_hex() == public_key


def test_a_dev_key_file_inside_the_repository_is_refused(settings):
    # given
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_DEV_KEY_FILE = str(settings.BASE_DIR / "var" / "audit-dev-key")
    # when / then
    with pytest.raises(ImproperlyConfigured):
        signing.signing_key()


@pytest.mark.parametrize("seed", ["zz", "ab" * 31])
def test_a_malformed_signing_key_is_refused(settings, seed):
    # given
    settings.AUDIT_SIGNING_KEY = seed
    # when / then
    with pytest.raises(ImproperlyConfigured):
        signing.signing_key()
