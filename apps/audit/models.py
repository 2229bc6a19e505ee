"""The audit trail: a hash-chained, append-only log of events (DESIGN.md, "Audit trail").

Nothing but `apps.audit.services` writes these tables; the database itself refuses UPDATE,
DELETE and TRUNCATE on the event table (migration 0002, `apps.audit.immutability`).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64
SCHEMA_VERSION = 1
# The stored columns that the event hash covers (besides the schema version), in one place.
ENVELOPE_FIELDS = (
    "seq",
    "timestamp",
    "actor_type",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "data_hash",
    "prev_hash",
)
# Every stored column of an event, in the order the append's INSERT lists them.
EVENT_COLUMNS = (*ENVELOPE_FIELDS, "hash", "schema_version")


class ActorType(models.TextChoices):
    USER = "user", _("user")
    AGENT = "agent", _("agent")
    SYSTEM = "system", _("system")


class AuditEvent(models.Model):
    """One link of the chain. `hash` commits to every column and to `prev_hash`."""

    # seq is the primary key: UNIQUE(seq) and gapless from 1, leaf index = seq - 1.
    seq = models.BigIntegerField(_("sequence number"), primary_key=True)
    timestamp = models.DateTimeField(_("timestamp"))
    actor_type = models.CharField(_("actor type"), max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(_("actor id"), max_length=64)
    action = models.CharField(_("action"), max_length=100)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    data_hash = models.CharField(_("data hash"), max_length=64)
    prev_hash = models.CharField(_("previous hash"), max_length=64, unique=True)
    hash = models.CharField(_("hash"), max_length=64)
    schema_version = models.PositiveSmallIntegerField(_("schema version"), default=SCHEMA_VERSION)

    class Meta:
        db_table = "audit_event"
        ordering = ["seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_event_object_idx")]

    def __str__(self):
        return f"#{self.seq} {self.action}"


class AuditEventData(models.Model):
    """The salted payload of an event, kept apart so that erasure (GDPR Art. 17) can delete it.

    `canonical_data` is the exact RFC 8785 text that was hashed: verification hashes these
    stored bytes and never serializes them again.
    """

    event = models.OneToOneField(
        AuditEvent, on_delete=models.PROTECT, primary_key=True, related_name="data_record", db_column="seq"
    )
    salt = models.CharField(_("salt"), max_length=64)
    canonical_data = models.TextField(_("canonical data"))

    class Meta:
        db_table = "audit_event_data"
        verbose_name = _("audit event data")
        verbose_name_plural = _("audit event data")

    def __str__(self):
        return f"data of #{self.event_id}"


class ChainHead(models.Model):
    """The single row that serializes appends (taken FOR UPDATE on PostgreSQL).

    `frontier` is the Merkle compact range of the first `seq` leaves: the roots of the
    perfect subtrees given by the binary digits of `seq`, largest first, as a JSON list
    of hex hashes; a checkpoint of the head folds it instead of re-reading the chain.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    frontier = models.TextField(default="[]")

    class Meta:
        db_table = "audit_chain_head"
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_single_row")]

    def __str__(self):
        return f"head #{self.seq}"


class MerkleNode(models.Model):
    """Root of a complete (perfect) subtree of 2**level leaves: leaves index*2**level onwards.

    Written at append time for level >= 1 (a leaf, level 0, is hashed from its event), so
    inclusion and consistency proofs read O(log n) rows and never the chain itself.
    """

    pk = models.CompositePrimaryKey("level", "index")
    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "audit_merkle_node"

    def __str__(self):
        return f"node {self.level}/{self.index}"


class Checkpoint(models.Model):
    """A signed tree head: Ed25519 over the RFC 8785 JSON of tree_size, root_hash, timestamp."""

    tree_size = models.BigIntegerField(_("tree size"), unique=True)
    root_hash = models.CharField(_("root hash"), max_length=64)
    timestamp = models.DateTimeField(_("timestamp"))
    signature = models.CharField(_("signature"), max_length=128)
    public_key = models.CharField(_("public key"), max_length=64)

    class Meta:
        db_table = "audit_checkpoint"
        ordering = ["tree_size"]
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")

    def __str__(self):
        return f"checkpoint @{self.tree_size}"


class VerificationRun(models.Model):
    """The outcome of a verification of the chain, kept so the API can answer incrementally."""

    class Kind(models.TextChoices):
        FULL = "full", _("full")
        INCREMENTAL = "incremental", _("incremental")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    events_checked = models.BigIntegerField()
    checkpoints_checked = models.BigIntegerField(default=0)
    redacted = models.BigIntegerField(default=0)
    head_seq = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    frontier = models.TextField(default="[]")
    first_bad_seq = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        db_table = "audit_verification_run"
        ordering = ["-finished_at", "-id"]
        get_latest_by = "finished_at"

    def __str__(self):
        return f"{self.kind} verification {'ok' if self.ok else 'FAILED'} @{self.head_seq}"
