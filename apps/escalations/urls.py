"""API routes of the escalations app, mounted under /api/v1/."""

urlpatterns: list = []
