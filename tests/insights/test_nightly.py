"""The nightly beat task: stored figures for 7, 30 and 90 days, advice and the QA draw."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings

from apps.insights.models import FigureSet, QaAssignment, Recommendation
from apps.insights.tasks import compute_recommendations

pytestmark = pytest.mark.django_db


def test_the_beat_schedules_the_task_by_name():
    names = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert compute_recommendations.name in names


def test_the_nightly_run_stores_figures_advice_and_qa(settings, make_proposal, make_decision, reviewer):
    settings.INSIGHTS_MIN_SAMPLE, settings.INSIGHTS_RELAX_LOWER_BOUND, settings.INSIGHTS_QA_SHARE = 30, 0.9, 1.0
    for _ in range(40):
        make_proposal("contract-changes")
    make_proposal(created_ago=timedelta(days=20))
    make_decision(make_proposal(), reviewer)

    compute_recommendations.delay()

    by_window = {days: FigureSet.objects.filter(window_days=days) for days in (7, 30, 90)}
    assert {figure.rule_name for figure in by_window[7]} == {"contract-changes", "refunds"}
    assert by_window[7].get(rule_name="refunds").figures["volume"] == 1
    assert by_window[30].get(rule_name="refunds").figures["volume"] == 2
    assert Recommendation.objects.get().kind == "relax_to_post_review"
    assert QaAssignment.objects.count() == 1

    compute_recommendations.delay()  # a second night adds figures, never the same advice or QA twice
    assert FigureSet.objects.count() == 12  # two groups x three windows x two nights
    assert Recommendation.objects.count() == 1
    assert QaAssignment.objects.count() == 1
