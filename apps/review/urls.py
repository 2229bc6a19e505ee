"""API routes of the review app, mounted under /api/v1/."""

urlpatterns: list = []
