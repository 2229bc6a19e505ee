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
