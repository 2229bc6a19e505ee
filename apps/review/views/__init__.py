"""Pages of the reviewer web app. Thin: selectors read, services write, forms validate."""

from .account import LoginView, PasswordChangeView, home, profile, start_page_of
from .detail import claim, detail, payload_diff, payload_download, post_review, reassign
from .queue import batch_decide, history, queue

__all__ = [
    "LoginView",
    "PasswordChangeView",
    "batch_decide",
    "claim",
    "detail",
    "history",
    "home",
    "payload_diff",
    "payload_download",
    "post_review",
    "profile",
    "queue",
    "reassign",
    "start_page_of",
]
