"""Web pages of the reports app."""

urlpatterns: list = []
