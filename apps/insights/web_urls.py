"""Web pages of the insights app, mounted at /insights/."""

from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("", views.insights_index, name="index"),
    path("recommendations/<int:pk>/<slug:action>/", views.recommendation_act, name="recommendation-act"),
    path("qa/", views.qa_list, name="qa"),
    path("qa/<int:pk>/", views.qa_review, name="qa-review"),
]
