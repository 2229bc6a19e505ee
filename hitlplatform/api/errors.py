"""One error shape for every API error:

{"error": {"status": 400, "code": "invalid", "message": "...", "fields": {"confidence": ["..."]}}}
"""

import rfc8785
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.audit.canonical import NotCanonicalizable
from hitlplatform.errors import DomainError
from hitlplatform.unavailable import RETRY_AFTER_SECONDS, is_unavailable


def exception_handler(exc, context):
    if is_unavailable(exc):
        response = _error_response(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "unavailable",
            _("The service is briefly unavailable; retry shortly."),
            {},
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, DomainError):
        response = _error_response(exc.status_code, exc.code, str(exc.message), exc.fields)
        if getattr(exc, "retry_after", None):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_fields(exc))
    elif isinstance(exc, RequestDataTooBig):
        return _error_response(
            status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "too_large", _("The request body is too large."), {}
        )
    elif isinstance(exc, NotCanonicalizable | rfc8785.CanonicalizationError):
        # Defence in depth behind the JSON parser's limits: a value the audit trail cannot hash is bad input.
        return _error_response(
            status.HTTP_400_BAD_REQUEST,
            "invalid",
            _("The input holds a number outside the JSON range: %(error)s") % {"error": exc},
            {},
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _as_field_errors(exc.detail)
        message = _("Invalid input: %(fields)s.") % {"fields": ", ".join(sorted(fields))}
        response.data = _error_body(response.status_code, "invalid", message, fields)
        return response
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    response.data = _error_body(response.status_code, code if isinstance(code, str) else "error", str(detail), {})
    return response


def _error_response(status_code, code, message, fields):
    return Response(_error_body(status_code, code, message, fields), status=status_code)


def _error_body(status_code, code, message, fields):
    return {"error": {"status": status_code, "code": code, "message": message, "fields": fields}}


def _as_field_errors(detail) -> dict:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    return {"non_field_errors": _flatten(detail)}


def _flatten(value):
    if isinstance(value, dict):
        return {key: _flatten(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_flatten(item) if isinstance(item, dict | list) else str(item) for item in value]
    return [str(value)]


def _django_validation_fields(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {field: [str(m) for error in errors for m in error.messages] for field, errors in exc.error_dict.items()}
    return {"non_field_errors": exc.messages}
