"""Writes of the notifications app: the outbox, its delivery, retries, dead letters and resends.

An event writes its outbox rows in the business transaction (`outbox.py`); after commit, tasks
deliver them in chunks (`delivery.py`).
"""

from .delivery import (
    outbox_dispatch,
    outbox_message_deliver,
    outbox_message_resend,
    outbox_messages_deliver,
    outbox_sweep,
    retry_backoff,
)
from .outbox import (
    outbox_batch,
    outbox_enqueue_admin_alert,
    outbox_enqueue_proposal_event,
    outbox_enqueue_unstaffed_alert,
    outbox_write,
)

__all__ = [
    "outbox_batch",
    "outbox_dispatch",
    "outbox_enqueue_admin_alert",
    "outbox_enqueue_proposal_event",
    "outbox_enqueue_unstaffed_alert",
    "outbox_message_deliver",
    "outbox_message_resend",
    "outbox_messages_deliver",
    "outbox_sweep",
    "outbox_write",
    "retry_backoff",
]
