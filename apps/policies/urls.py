from django.urls import path

from . import apis

urlpatterns = [
    path("policies/simulate/", apis.PolicySimulateApi.as_view(), name="policy-simulate"),
]
