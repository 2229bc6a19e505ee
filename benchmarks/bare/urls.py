from django.urls import include, path

from .views import BareCreateApi

urlpatterns = [
    path("bench/bare/", BareCreateApi.as_view()),
    path("", include("hitlplatform.urls")),
]
