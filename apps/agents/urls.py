"""API routes of the agents app, mounted under /api/v1/."""

urlpatterns: list = []
