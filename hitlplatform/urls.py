from django.contrib import admin
from django.urls import include, path

from hitlplatform.ops import views as ops

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics, name="metrics"),
    path("api/v1/", include("hitlplatform.api.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("apps.review.web_urls")),
    path("compliance/", include("apps.reports.web_urls")),
    path("insights/", include("apps.insights.web_urls")),
]

handler403 = "hitlplatform.error_pages.forbidden"
handler404 = "hitlplatform.error_pages.not_found"
handler500 = "hitlplatform.error_pages.server_error"
