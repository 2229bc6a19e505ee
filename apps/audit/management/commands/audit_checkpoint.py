"""manage.py audit_checkpoint: sign the Merkle root of the chain now (the "audit.checkpoint" task)."""

import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.audit import canonical
from apps.audit.services import audit_checkpoint_create


class Command(BaseCommand):
    help = _("Sign a checkpoint (Ed25519 over the RFC 9162 Merkle root) of the audit chain, if it grew.")

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help=_("Print one JSON object on stdout."))

    def handle(self, *args, as_json, **options):
        checkpoint = audit_checkpoint_create()
        if as_json:
            body = None
            if checkpoint is not None:
                body = {
                    "tree_size": checkpoint.tree_size,
                    "root_hash": checkpoint.root_hash,
                    "timestamp": canonical.format_timestamp(checkpoint.timestamp),
                    "signature": checkpoint.signature,
                    "public_key": checkpoint.public_key,
                }
            self.stdout.write(json.dumps({"checkpoint": body}))
        elif checkpoint is None:
            self.stdout.write(_("No new audit events since the last checkpoint: nothing signed."))
        else:
            self.stdout.write(
                _("Signed checkpoint of %(size)s events, root %(root)s.")
                % {"size": checkpoint.tree_size, "root": checkpoint.root_hash}
            )
