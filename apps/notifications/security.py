"""Security alerts for the people who oversee the platform: the admins and the compliance officers."""

import uuid

from django.utils.translation import gettext as _

from .models import Channel, EventType, OutboxMessage
from .selectors import overseer_emails
from .services import outbox_write


def outbox_enqueue_signing_locked(*, user, until) -> list[OutboxMessage]:
    """In the locking transaction: an email to every active admin and compliance officer."""
    recipients = overseer_emails()
    if not recipients:
        return []
    subject = _("[hitlplatform] Signing locked for %(username)s") % {"username": user.get_username()}
    body = _(
        "Too many failed electronic signatures: %(username)s may not sign until %(until)s.\n\n"
        "If this was not the user, treat it as an attempt to use their signature and review the audit "
        "trail (auth.signature_failed, auth.signing_locked).\n"
    ) % {"username": user.get_username(), "until": until.strftime("%Y-%m-%d %H:%M UTC")}
    message = OutboxMessage(
        event_id=uuid.uuid4(),
        event_type=EventType.SIGNING_LOCKED,
        channel=Channel.EMAIL,
        proposal=None,
        target="\n".join(recipients),
        subject=subject[:300],
        body=body,
    )
    return outbox_write([message])
