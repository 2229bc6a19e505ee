"""Who hears of a queue's work by email: active holders of its review permission, directly or by group."""

import pytest
from django.contrib.auth.models import Group

from apps.accounts.services import queue_get_or_create, queue_permission_grant
from apps.notifications.selectors import queue_reviewer_emails
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_direct_and_group_holders_are_named_once_each_in_order():
    # given the finance queue, granted to fiona directly, to a group holding frank and fiona, and
    # a support reviewer with an address who must not hear of finance work
    finance = queue_get_or_create(slug="finance")
    UserFactory(username="fiona", email="fiona@example.org", queues=["finance"])
    frank = UserFactory(username="frank", email="frank@example.org")
    UserFactory(username="sam", email="sam@example.org", queues=["support"])
    group = Group.objects.create(name="finance-team")
    group.user_set.add(frank, UserFactory(username="fiona"))
    queue_permission_grant(queue=finance, group=group)

    # when / then
    assert queue_reviewer_emails(finance) == ["fiona@example.org", "frank@example.org"]


def test_inactive_users_and_users_without_an_address_are_left_out():
    UserFactory(username="gone", email="gone@example.org", queues=["finance"], is_active=False)
    UserFactory(username="silent", email="", queues=["finance"])
    group = Group.objects.create(name="finance-team")
    group.user_set.add(UserFactory(username="left", email="left@example.org", is_active=False))
    queue_permission_grant(queue=queue_get_or_create(slug="finance"), group=group)

    assert queue_reviewer_emails(queue_get_or_create(slug="finance")) == []
