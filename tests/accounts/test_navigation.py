import pytest

pytestmark = pytest.mark.django_db


def test_compliance_and_insights_links_appear_only_for_overseers(client, reviewer, compliance_officer):
    client.force_login(reviewer)
    page = client.get("/review/").content.decode()
    assert "/compliance/" not in page and "/insights/" not in page

    client.force_login(compliance_officer)
    page = client.get("/review/history/").content.decode()
    assert 'href="/compliance/"' in page and 'href="/insights/"' in page
