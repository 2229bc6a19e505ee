import pytest

pytestmark = pytest.mark.django_db


def test_admin_lists_and_shows_events_but_cannot_add_change_or_delete(record_events, admin, client, settings):
    # given
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    event = record_events(1)[0]
    client.force_login(admin)
    # when
    listing = client.get("/admin/audit/auditevent/")
    detail = client.get(f"/admin/audit/auditevent/{event.seq}/change/")
    add = client.get("/admin/audit/auditevent/add/")
    delete = client.post(f"/admin/audit/auditevent/{event.seq}/delete/", {"post": "yes"})
    change = client.post(f"/admin/audit/auditevent/{event.seq}/change/", {"action": "forged"})
    # then
    assert listing.status_code == 200 and "proposal.submitted" in listing.content.decode()
    assert detail.status_code == 200 and "Save" not in detail.content.decode()
    assert add.status_code == 403
    assert delete.status_code == 403
    assert change.status_code == 403
    event.refresh_from_db()
    assert event.action == "proposal.submitted"
