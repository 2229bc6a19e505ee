"""Web pages of the insights app."""

urlpatterns: list = []
