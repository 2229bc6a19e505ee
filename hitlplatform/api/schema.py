"""OpenAPI generation: the style nests InputSerializer/OutputSerializer in each view, so
components are named after their view (DecisionCreateApi.InputSerializer -> DecisionCreateInput)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction):
        outer, _dot, inner = type(serializer).__qualname__.rpartition(".")
        if outer:
            return outer.rpartition(".")[2].removesuffix("Api") + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)


class BearerAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "hitlplatform.api.authentication.BearerAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An agent API key or a user API token."}


ERROR_STATUSES = {
    "400": "Bad input: the fields named under `fields`.",
    "401": "Missing or unknown credentials.",
    "403": "A known caller without the right.",
    "404": "Outside the caller's scope, or no such object.",
    "405": "Method not allowed.",
    "409": "A state conflict.",
    "413": "The body is too large.",
    "415": "Not a JSON body.",
    "429": "Over a limit (e.g. signing locked); see Retry-After.",
    "503": "Database or broker unavailable; see Retry-After.",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message", "fields"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": True},
            },
        }
    },
}


def error_responses(result, generator, request, public):
    """Every operation may answer the one error shape (DESIGN.md, Errors): say so in the schema, so that
    clients and schema-based tests know a 400/401/403/404/409/429/503 is part of the contract."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result
