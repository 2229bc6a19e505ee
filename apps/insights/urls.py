"""API routes of the insights app, mounted under /api/v1/."""

from django.urls import path

from . import apis

urlpatterns = [
    path("insights/figures/", apis.FiguresApi.as_view(), name="insights-figures"),
    path("insights/recommendations/", apis.RecommendationListApi.as_view(), name="insights-recommendations"),
    path(
        "insights/recommendations/<int:pk>/accept/",
        apis.RecommendationAcceptApi.as_view(),
        name="insights-recommendation-accept",
    ),
    path(
        "insights/recommendations/<int:pk>/activate/",
        apis.RecommendationActivateApi.as_view(),
        name="insights-recommendation-activate",
    ),
    path(
        "insights/recommendations/<int:pk>/dismiss/",
        apis.RecommendationDismissApi.as_view(),
        name="insights-recommendation-dismiss",
    ),
    path("insights/qa/", apis.QaAssignmentListCreateApi.as_view(), name="insights-qa"),
    path("insights/qa/open/", apis.QaOpenListApi.as_view(), name="insights-qa-open"),
    path("insights/qa/agreement/", apis.QaAgreementApi.as_view(), name="insights-qa-agreement"),
    path("insights/qa/<int:pk>/review/", apis.QaReviewApi.as_view(), name="insights-qa-review"),
    path("insights/corrections/", apis.CorrectionsExportApi.as_view(), name="insights-corrections"),
]
