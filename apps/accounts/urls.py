"""API routes of the accounts app, mounted under /api/v1/."""

urlpatterns: list = []
