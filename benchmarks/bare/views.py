from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny

from .models import BareItem


class BareItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = BareItem
        fields = ["id", "name", "amount", "created_at"]


class BareCreateApi(generics.CreateAPIView):
    """A bare DRF create endpoint: no authentication, no routing, no audit."""

    serializer_class = BareItemSerializer
    authentication_classes = []
    permission_classes = [AllowAny]
