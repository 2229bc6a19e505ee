"""Web pages of the review app."""

urlpatterns: list = []
