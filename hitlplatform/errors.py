"""Domain errors raised by services; the API exception handler gives them one shape."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status_code = 400
    code = "invalid"
    default_message = _("The request is invalid.")

    def __init__(self, message=None, *, fields: dict | None = None, code: str | None = None):
        self.message = message or self.default_message
        self.fields = fields or {}
        if code:
            self.code = code
        super().__init__(str(self.message))


class InvalidInput(DomainError):
    status_code = 400
    code = "invalid"


class Forbidden(DomainError):
    status_code = 403
    code = "permission_denied"
    default_message = _("You do not have permission to perform this action.")


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = _("Not found.")


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_message = _("The request conflicts with the current state.")
