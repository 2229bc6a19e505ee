"""Web pages of the review app (mounted at "/")."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

review_patterns = (
    [
        path("", views.queue, name="queue"),
        path("batch/", views.batch_decide, name="batch"),
        path("history/", views.history, name="history"),
        path("profile/", views.profile, name="profile"),
        path("<int:proposal_id>/", views.detail, name="detail"),
        path("<int:proposal_id>/diff/", views.payload_diff, name="diff"),
        path("<int:proposal_id>/payload.json", views.payload_download, name="payload_download"),
        path("<int:proposal_id>/post-review/", views.post_review, name="post_review"),
        path("<int:proposal_id>/claim/", views.claim, name="claim"),
        path("<int:proposal_id>/reassign/", views.reassign, name="reassign"),
    ],
    "review",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("review/", include(review_patterns)),
]
