"""API routes of the sampling app, mounted under /api/v1/."""

urlpatterns: list = []
